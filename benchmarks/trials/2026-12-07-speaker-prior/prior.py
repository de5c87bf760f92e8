"""How strongly should a short recording be centred on the training speakers' reference voice? The speaker
prior (features.audio.SPEAKER_PRIOR_TICKS, 50 ticks = 5 s) is swept at inference only (training does not
use it): lone-clip category accuracy as the product reads a clip (the audio head's own leave-speakers-out
folds, seed 0), and the shipped head's voice column on calm speech (LJSpeech, the talking-head
recordings) and on CREMA-D actor 1001's six clips. Run from the repository root:

    EMOANNOT_SHARED=../shared .venv/bin/python benchmarks/trials/2026-12-07-speaker-prior/prior.py RUN_DIR/cache
"""
import os
import sys
from pathlib import Path

import numpy as np

import emoannot
from emoannot.features.audio import audio_features
from emoannot.metrics import ccc
from emoannot.train.fit_heads import (CORPUS_CLASSES, SPEECH_CLASSES, _fit_audio, as_the_product_reads, centred,
                                      speaker_folds, speaker_references, speech_corpus_features)
from emoannot.video import load_audio

SHARED = Path(os.environ.get("EMOANNOT_SHARED", "../shared"))
PRIORS = (10, 25, 50, 100, 200)

sf = speech_corpus_features(SHARED / "data", Path(sys.argv[1]), print)
refs = speaker_references(sf)
sfc = centred(sf, refs)
folds = speaker_folds(sf)
hits = {p: {"ravdess": [], "emodb": []} for p in PRIORS}
vas = {p: ([], []) for p in PRIORS}
for fold in folds:
    train_idx = [i for i, c in enumerate(sf.clips) if c.speaker not in fold]
    test_idx = [i for i, c in enumerate(sf.clips) if c.speaker in fold and c.corpus in ("ravdess", "emodb")]
    head = _fit_audio(sfc, train_idx, 0)
    reference = np.mean([refs[s] for s in {sf.clips[i].speaker for i in train_idx}], 0)
    for p in PRIORS:
        x = np.stack([as_the_product_reads(sf, i, reference, p) for i in test_idx])
        proba = head.predict_proba(x)
        for j, i in enumerate(test_idx):
            c = sf.clips[i]
            allowed = CORPUS_CLASSES[c.corpus]
            hits[p][c.corpus].append(allowed[int(proba[j, allowed].argmax())] == SPEECH_CLASSES.index(c.category))
        vas[p][0].append(head.predict_va(x))
        vas[p][1].append(np.asarray([(sf.clips[i].valence, sf.clips[i].arousal) for i in test_idx]))
    print("fold done", flush=True)

files = (sorted((SHARED / "data/speech/ljspeech").glob("*.flac")) + sorted((SHARED / "data/real/talking").glob("*.wav"))
         + sorted((SHARED / "data/av/crema-d").glob("*.flv")))
with emoannot.load(device="cpu") as engine:
    read = {f.stem: engine.voice(load_audio(f))[1:] for f in files}
    head = engine.audio_head
    shipped = float(head.centre_prior)
    print(f"shipped prior {shipped:g} ticks")
    print("| prior (ticks) | RAVDESS 8-way, lone clip | EmoDB 7-way | CCC V / A | LJSpeech mean | within +-0.25 | "
          "LJ001-0002 / 0008 | speech1 / speech2 | CREMA-D 1001 ANG DIS FEA HAP NEU SAD |")
    print("|---|---|---|---|---|---|---|---|---|")
    for p in PRIORS:
        head.centre_prior.fill_(float(p))
        v = {n: float(audio_features(t, m, head).va[m, 0].mean()) for n, (t, m) in read.items() if m.any()}
        lj = [x for n, x in v.items() if n.startswith("LJ")]
        pv, tv = np.concatenate(vas[p][0]), np.concatenate(vas[p][1])
        crema = " ".join(f"{v[n]:+.2f}" for n in sorted(v) if n.startswith("1001_"))
        print(f"| {p} | {np.mean(hits[p]['ravdess']):.3f} | {np.mean(hits[p]['emodb']):.3f} | "
              f"{ccc(pv[:, 0], tv[:, 0]):.3f} / {ccc(pv[:, 1], tv[:, 1]):.3f} | {np.mean(lj):+.3f} | "
              f"{sum(abs(x) <= 0.25 for x in lj)} of {len(lj)} | {v['LJ001-0002']:+.2f} / {v['LJ001-0008']:+.2f} | "
              f"{v['speech1']:+.2f} / {v['speech2']:+.2f} | {crema} |", flush=True)
    head.centre_prior.fill_(shipped)
