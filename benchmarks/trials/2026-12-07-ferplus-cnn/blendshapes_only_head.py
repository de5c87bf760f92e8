"""Would a visual head on the blendshapes alone (no CNN embedding) read real faces better? The face column only.

The shipped CNN, the shipped recipe of train_visual_head, but the head reads only the 51 blendshapes and the
read bit; then the dev clips (MEAD, the talking heads, CREMA-D actor 1001) through the shipped engine, each
analysed frame's blendshapes (the bs_* columns) read by that head. Prints per clip: the shipped face column's
mean valence, the blendshapes-only head's mean (valence, arousal) and its most probable class.

    .venv/bin/python benchmarks/trials/2026-12-07-ferplus-cnn/blendshapes_only_head.py RUN_DIR
RUN_DIR: the --run-dir of a `train --format offline` run (its cache/face_blendshapes.npz is reused).
"""
import os
import sys
from pathlib import Path

import numpy as np

import emoannot
from emoannot.features.blendshapes import landmarker_path
from emoannot.labels import CIRCUMPLEX, FACE_CLASSES
from emoannot.model.expression import ExpressionCNN
from emoannot.model.weights import load_state, shipped_dir
from emoannot.records import BLENDSHAPE_COLUMNS
from emoannot.train.face_inputs import face_inputs
from emoannot.train.fit_heads import train_visual_head

SHARED = Path(os.environ.get("EMOANNOT_SHARED", Path(__file__).resolve().parents[4] / "shared"))
MEAD = {"angry": "angry", "contempt": "contempt", "disgusted": "disgust", "fear": "fear", "happy": "happy",
        "neutral": "neutral", "sad": "sad", "surprised": "surprise"}


def main(run_dir: Path) -> None:
    data = SHARED / "data"
    state, _ = load_state(shipped_dir(), "expression_cnn")
    cnn = ExpressionCNN()
    cnn.load_state_dict(state)
    f = face_inputs(data, cnn, run_dir / "cache", landmarker_path(shipped_dir()), lambda s: None)
    bs = slice(256, None)  # after the 256-d embedding: the blendshapes and the read bit
    head, m = train_visual_head(f.fit_x[:, bs], f.fit_soft, f.x["test"][:, bs], f.y["test"], f.plus["test"],
                                f.posterior_va_test, members=1)  # one head, as when this trial ran
    neutral = m["fer2013_test"]["per_class"]["neutral"]
    print(f"bs-only head: FER2013 {m['fer2013_test_categories']['accuracy']:.3f} FER+ "
          f"{m['ferplus_majority_test_categories']['accuracy']:.3f} neutral ({neutral['valence']:+.3f}, "
          f"{neutral['arousal']:+.3f})", flush=True)
    real = data / "real"
    paths = (sorted((real / "mead").glob("*.mp4")) + sorted((real / "talking").glob("*.mp4"))
             + sorted((data / "av" / "crema-d").glob("*.flv")))
    rows = {}
    with emoannot.load() as engine:
        for path in paths:
            df = emoannot.annotate(path, engine).to_dataframe(extra=True)
            b = df[list(BLENDSHAPE_COLUMNS)].to_numpy(np.float32)
            ok = np.isfinite(b).all(1)
            x = np.concatenate([b[ok], np.ones((ok.sum(), 1), np.float32)], 1)
            va = head.predict_va(x).mean(0)
            top = FACE_CLASSES[int(head.predict_proba(x).mean(0).argmax())]
            rows[path.stem] = va
            print(path.stem, round(float(np.nanmean(df["valence_visual"])), 2), [round(float(v), 2) for v in va], top,
                  flush=True)
    classes = list(MEAD.values())
    points = np.array([CIRCUMPLEX[c] for c in classes])
    mead = {k: v for k, v in rows.items() if k.startswith(("M0", "W0"))}
    hits = [classes[int(np.argmin(((points - v) ** 2).sum(1)))] == MEAD[k.split("_")[2]] for k, v in mead.items()]

    def mean_valence(c):
        return np.mean([v[0] for k, v in mead.items() if k.split("_")[2] == c])

    print(f"bs-only MEAD 8-way {np.mean(hits):.3f} neutral {mean_valence('neutral'):+.3f} happy-neutral "
          f"{mean_valence('happy') - mean_valence('neutral'):+.3f} surprise {mean_valence('surprised'):+.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
