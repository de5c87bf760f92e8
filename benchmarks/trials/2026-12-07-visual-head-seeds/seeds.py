"""Single face-only heads against their average, for seeds 0-4 (the record behind VISUAL_HEAD_MEMBERS).

    python benchmarks/trials/2026-12-07-visual-head-seeds/seeds.py RUN_DIR

RUN_DIR: the --run-dir of a `train --format offline` run (its face blendshape cache is reused). With the
shipped CNN and landmarker: (1) heads fitted on FER2013 train + CK+ only, scored on FER2013 val (FER+
majority; the choice) and test (the record); (2) the full recipe (train + val, calibrated:
fit_calibrated_visual_head) per seed, and the running average, on FER2013 test and on the dev faces (MEAD,
talking heads: each clip's per-tick face vectors captured from the product's own path, `emoannot.annotate`,
the face column's mean). `seeds.log`: its output on 2026-12-07 (the same figures as the scratch run that
decided the change, before the ensemble shipped).
"""
import sys
from pathlib import Path

import numpy as np
import torch

import emoannot
import emoannot.features.visual as visual
from emoannot.features.blendshapes import landmarker_path
from emoannot.labels import CIRCUMPLEX, FACE_CLASSES, va_point
from emoannot.model.expression import ExpressionCNN
from emoannot.model.weights import load_state, shipped_dir
from emoannot.train.face_inputs import face_inputs
from emoannot.train.fit_cnn import ferplus_labels
from emoannot.train.fit_heads import fit_calibrated_visual_head, fit_soft_head

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from realdev import MEAD_CLASSES as MEAD  # noqa: E402  (MEAD's file names -> the 7 categories and contempt)

DATA = ROOT.parent / "shared" / "data"
SEEDS = range(5)


def dev_face_vectors() -> dict[str, np.ndarray]:
    """Each dev clip's per-tick face vectors, as the product computes them."""
    store, read = [], visual.face_readings

    def grab(emb, bs, probs, head=None):
        store.append(visual.face_vector(emb, bs))
        return read(emb, bs, probs, head)

    visual.face_readings = grab
    out = {}
    with emoannot.load(device="cpu") as engine:
        for p in sorted((DATA / "real" / "mead").glob("*.mp4")) + sorted((DATA / "real" / "talking").glob("*.mp4")):
            store.clear()
            emoannot.annotate(p, engine)
            out[p.stem] = np.concatenate(store)
    visual.face_readings = read
    return out


def main(run_dir: Path) -> None:
    torch.set_num_threads(2)
    cnn = ExpressionCNN()
    cnn.load_state_dict(load_state(shipped_dir(), "expression_cnn")[0])
    f = face_inputs(DATA, cnn.eval(), run_dir / "cache", landmarker_path(shipped_dir()), lambda s: None)
    xt, yt, pt = f.x["test"], f.y["test"], f.plus["test"]
    okt, dis = pt >= 0, FACE_CLASSES.index("disgust")
    points = np.asarray([va_point(c) for c in FACE_CLASSES], np.float32)
    neutral = FACE_CLASSES.index("neutral")

    def test_line(p):
        g = p.argmax(1)
        return (f"test FER+ {(g[okt] == pt[okt]).mean():.4f} FER2013 {(g == yt).mean():.4f} "
                f"disgust {(g[okt][pt[okt] == dis] == dis).mean():.2f}")

    # (1) the choice, on val: fitted on train + CK+ (fit_x holds train, val, then CK+, in that order)
    split = np.load(DATA / "faces" / "fer2013_48.npz")["split"].astype(str)
    soft, plus = ferplus_labels(DATA)
    fer_fit = (split != "test") & np.isfinite(soft).all(1)
    is_val = np.concatenate([split[fer_fit] == "val", np.zeros(len(f.fit_x) - fer_fit.sum(), bool)])
    val_plus = plus[fer_fit][split[fer_fit] == "val"]
    okv = val_plus >= 0
    pv, ptest = [], []
    for seed in SEEDS:
        h = fit_soft_head(f.fit_x[~is_val], f.fit_soft[~is_val], points, neutral, 60, seed)
        pv.append(h.predict_proba(f.fit_x[is_val]))
        ptest.append(h.predict_proba(xt))
        rows = [(f"seed {seed}", pv[-1], ptest[-1])] + ([(f"  average of {seed + 1}", np.mean(pv, 0), np.mean(ptest, 0))]
                                                        if seed else [])
        for label, v, t in rows:
            print(f"{label}: val FER+ {(v.argmax(1)[okv] == val_plus[okv]).mean():.4f} | {test_line(t)}", flush=True)

    # (2) the full recipe per seed, and the running average, on the dev faces
    dev = dev_face_vectors()
    classes = list(MEAD.values())
    cpts = np.array([CIRCUMPLEX[c] for c in classes])

    def dev_line(va_of):
        clip = {n: np.nanmean(va_of(v), 0) for n, v in dev.items()}
        mead = {n: c for n, c in clip.items() if "_front_" in n}
        per = {c: np.mean([m for n, m in mead.items() if MEAD[n.split("_")[2]] == c], 0) for c in classes}
        hits = np.mean([classes[int(np.argmin(((cpts - m) ** 2).sum(1)))] == MEAD[n.split("_")[2]] for n, m in mead.items()])
        neu = per["neutral"][0]
        talking = [round(float(clip[f"face{i}"][0]), 2) for i in range(1, 6)]
        return (f"MEAD face neutral {neu:+.3f} happy-neutral {per['happy'][0] - neu:+.3f} surprise>neutral "
                f"{per['surprise'][0] > neu} 8-way {hits:.3f} | talking {talking}")

    heads = []
    for seed in SEEDS:
        heads.append(fit_calibrated_visual_head(f.fit_x, f.fit_soft, seed))
        print(f"seed {seed}: {test_line(heads[-1].predict_proba(xt))} | {dev_line(heads[-1].predict_va)}", flush=True)
        if seed:
            print(f"   average of {seed + 1}: {test_line(np.mean([h.predict_proba(xt) for h in heads], 0))} | "
                  f"{dev_line(lambda v: np.mean([h.predict_va(v) for h in heads], 0))}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
