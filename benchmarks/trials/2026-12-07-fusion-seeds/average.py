"""The RJCMA members' predictions averaged (valence/arousal: the mean; categories: the mean probability), on
the held-out evaluation `train --format offline` writes into the model card: 600 composite sequences of
FER2013 test faces, held-out speakers and EmoBank test sentences (seed 2), and 300 sequences of FER2013 test
faces 1 s each in mixed order, no audio (seed 3). Each member alone, then the average.

    python average.py RUN_CACHE WEIGHTS MEMBER_FOLDER...    # the first member: the shipped weights folder
"""
import sys
from pathlib import Path

import numpy as np
import torch

from emoannot.features.visual import fusion_face
from emoannot.model.expression import ExpressionCNN
from emoannot.model.fusions import build
from emoannot.model.heads import head_from_state
from emoannot.model.weights import load_state
from emoannot.timeline import WINDOW
from emoannot.train.composites import build_pool, compose, faces_only
from emoannot.train.face_inputs import face_inputs
from emoannot.train.fit_heads import (HELDOUT_SPEAKERS, centred, emobank_features, speaker_references,
                                      speech_corpus_features)
from emoannot.train.offline import _evaluate

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


class Average(torch.nn.Module):
    def __init__(self, members):
        super().__init__()
        self.members = torch.nn.ModuleList(members)

    def forward(self, v, a, t):
        outs = [m(v, a, t) for m in self.members]
        va = torch.stack([o[0] for o in outs]).mean(0)
        log_p = torch.stack([o[1].log_softmax(-1) for o in outs]).logsumexp(0) - np.log(len(outs))
        return va, log_p


def main() -> None:
    cache, weights, folders = Path(sys.argv[1]), Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
    cnn = ExpressionCNN()
    cnn.load_state_dict(load_state(weights, "expression_cnn")[0])
    faces = face_inputs(DATA, cnn, cache, weights / "face_landmarker_v2_with_blendshapes.task", lambda *a: None)
    heads = {n: head_from_state(load_state(weights, n)[0]) for n in ("visual_head", "audio_head", "text_head")}
    sf = speech_corpus_features(DATA, cache, lambda *a: None)
    tf = emobank_features(DATA, cache, lambda *a: None)
    sf = centred(sf, speaker_references(sf))
    heldout = [i for i, c in enumerate(sf.clips) if c.speaker in HELDOUT_SPEAKERS]
    x, vh = faces.x["test"], heads["visual_head"]
    pool = build_pool(fusion_face(vh, x), vh.predict_va(x), faces.label["test"], sf, heldout, heads["audio_head"],
                      tf, np.flatnonzero(tf.split == "test"), heads["text_head"])
    test_w, test_present = compose(pool, 600, WINDOW, 2)
    faces_w, faces_present = faces_only(pool, 300, WINDOW, 3)
    members = []
    for folder in folders:
        state, info = load_state(folder, "rjcma")
        m = build("rjcma", info.card["config"])
        m.load_state_dict(state)
        members.append(m.eval())
    for name, model in [(f"member {f.name}", m) for f, m in zip(folders, members)] + [("average", Average(members))]:
        with torch.no_grad():
            ev = _evaluate(model, test_w, test_present)
            fo = _evaluate(model, faces_w, faces_present)["overall"]
        worst = min((p["fusion"]["valence"] - max(p[k]["valence"] for k in ("face", "voice", "words")), n)
                    for n, p in ev["per_pattern"].items())
        print(f"{name}: composites CCC V {ev['overall']['fusion']['valence']:.3f} A {ev['overall']['fusion']['arousal']:.3f}, "
              f"categories {ev['categories']['accuracy']:.3f}; faces 1 s each fused V {fo['fusion']['valence']:.3f} "
              f"against the face column's {fo['face']['valence']:.3f} ({fo['fusion']['valence'] - fo['face']['valence']:+.3f}), "
              f"A {fo['fusion']['arousal']:.3f} against {fo['face']['arousal']:.3f}; per pattern, fused minus the best "
              f"single modality (V), smallest: {worst[0]:+.3f} ({worst[1]})", flush=True)


if __name__ == "__main__":
    main()
