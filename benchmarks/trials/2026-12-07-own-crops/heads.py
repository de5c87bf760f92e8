"""Face-only heads fitted on the product's own crops of the training faces (build.py) against the shipped
recipe's direct crops. The shipped CNN and blendshapes (the run folder's face blendshape cache, read through
fer_region as training does); five seeds per variant, read as their average like the shipped HeadEnsemble,
each the full recipe (fit_calibrated_visual_head).

    python benchmarks/trials/2026-12-07-own-crops/heads.py RUN_DIR CROPS.npz VARIANT [VARIANT ...]

VARIANT: direct (shipped), own (the product's crop where its detector found the face, else the direct crop),
both (each training face twice where found: direct and own). Scored on FER2013 test (FER+ majority and FER2013
labels) read from the direct crops and, on the faces the detector finds, from the product's crops (what a
user's video gives the head), and on the dev faces (MEAD, talking heads; each clip's per-tick face vectors
from the product's own path, cached as RUN_DIR/dev_face_vectors.npz) as seeds.py in 2026-12-07-visual-head-seeds does.
"""
import sys
from pathlib import Path

import numpy as np
import torch

from emoannot.features.blendshapes import landmarker_path
from emoannot.features.visual import embed_crops, face_vector
from emoannot.labels import CIRCUMPLEX, FACE_CLASSES
from emoannot.model.expression import ExpressionCNN
from emoannot.model.heads import HeadEnsemble
from emoannot.model.weights import load_state, shipped_dir
from emoannot.train.face_inputs import training_face_blendshapes
from emoannot.train.fit_cnn import CKPLUS_TO_FER, ferplus_labels
from emoannot.train.fit_heads import VISUAL_HEAD_MEMBERS, fit_calibrated_visual_head

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "benchmarks" / "trials" / "2026-12-07-visual-head-seeds"))
from realdev import MEAD_CLASSES as MEAD  # noqa: E402
from seeds import dev_face_vectors  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def main(run_dir: Path, crops_path: Path, variants: list[str]) -> None:
    torch.set_num_threads(1)
    cnn = ExpressionCNN()
    cnn.load_state_dict(load_state(shipped_dir(), "expression_cnn")[0])
    cnn.eval()
    fer = np.load(DATA / "faces" / "fer2013_48.npz")
    ck = np.load(DATA / "faces" / "ckplus48.npz")
    crops = np.load(crops_path)
    bs = training_face_blendshapes(DATA, run_dir / "cache", landmarker_path(shipped_dir()), lambda s: None)
    split, y = fer["split"].astype(str), fer["labels"].astype(int)
    soft, plus = ferplus_labels(DATA)
    fer_bs = np.where(bs["fer_ok"][:, None], bs["fer"], np.nan)
    direct = face_vector(embed_crops(cnn, np.ascontiguousarray(fer["images"]))[0], fer_bs)
    own = face_vector(embed_crops(cnn, np.ascontiguousarray(crops["fer_crop"]))[0], fer_bs)
    found = crops["fer_found"]
    names = [str(c) for c in ck["classes"]]
    keep = np.array([names[i] in CKPLUS_TO_FER for i in ck["labels"]])
    ck_y = np.array([FACE_CLASSES.index(CKPLUS_TO_FER[names[i]]) for i in ck["labels"][keep]])
    ck_bs = np.where(bs["ck_ok"][keep, None], bs["ck"][keep], np.nan)
    ck_direct = face_vector(embed_crops(cnn, np.ascontiguousarray(ck["images"][keep]))[0], ck_bs)
    ck_own = face_vector(embed_crops(cnn, np.ascontiguousarray(crops["ck_crop"][keep]))[0], ck_bs)
    ck_found, ck_soft = crops["ck_found"][keep], np.eye(len(FACE_CLASSES), dtype=np.float32)[ck_y]
    fit = (split != "test") & np.isfinite(soft).all(1)
    print(f"detector found {found[split == 'train'].mean():.3f} of train, {found[split == 'test'].mean():.3f} of test, "
          f"{ck_found.mean():.3f} of CK+", flush=True)

    def fit_set(variant):
        if variant == "direct":
            return np.concatenate([direct[fit], ck_direct]), np.concatenate([soft[fit], ck_soft])
        if variant == "own":
            return np.concatenate([own[fit], ck_own]), np.concatenate([soft[fit], ck_soft])
        if variant == "both":
            f2 = fit & found
            return (np.concatenate([direct[fit], own[f2], ck_direct, ck_own[ck_found]]),
                    np.concatenate([soft[fit], soft[f2], ck_soft, ck_soft[ck_found]]))
        raise SystemExit(f"unknown variant {variant}")

    dev_cache = run_dir / "dev_face_vectors.npz"
    if dev_cache.exists():
        dev = dict(np.load(dev_cache))
    else:
        dev = dev_face_vectors()
        np.savez(dev_cache, **dev)
    classes = list(MEAD.values())
    cpts = np.array([CIRCUMPLEX[c] for c in classes])
    test = split == "test"
    tp, ty = plus[test], y[test]
    okp = tp >= 0
    dis = FACE_CLASSES.index("disgust")

    def scores(head, x, sel):
        g = head.predict_proba(x[test][sel]).argmax(1)
        p, yy, ok = tp[sel], ty[sel], okp[sel]
        return (f"FER+ {(g[ok] == p[ok]).mean():.4f} FER2013 {(g == yy).mean():.4f} "
                f"disgust {(g[ok][p[ok] == dis] == dis).mean():.2f}")

    for variant in variants:
        x, s = fit_set(variant)
        head = HeadEnsemble([fit_calibrated_visual_head(x, s, i) for i in range(VISUAL_HEAD_MEMBERS)])
        ft = found[test]
        clip = {n: np.nanmean(head.predict_va(v), 0) for n, v in dev.items()}
        mead = {n: c for n, c in clip.items() if "_front_" in n}
        per = {c: np.mean([m for n, m in mead.items() if MEAD[n.split("_")[2]] == c], 0) for c in classes}
        hits = np.mean([classes[int(np.argmin(((cpts - m) ** 2).sum(1)))] == MEAD[n.split("_")[2]] for n, m in mead.items()])
        cats = {n: FACE_CLASSES[int(np.nanmean(head.predict_proba(v), 0).argmax())] for n, v in dev.items() if "_front_" in n}
        cat_hits = np.mean([cats[n] == MEAD[n.split("_")[2]] for n in cats if MEAD[n.split("_")[2]] in FACE_CLASSES])
        neu = per["neutral"][0]
        print(f"== {variant} (fit {len(x)} faces)\n"
              f"  test, direct crops, all: {scores(head, direct, np.ones(test.sum(), bool))}\n"
              f"  test, direct crops, found: {scores(head, direct, ft)}\n"
              f"  test, product crops, found: {scores(head, own, ft)}\n"
              f"  MEAD face: neutral {neu:+.3f} happy-neutral {per['happy'][0] - neu:+.3f} surprise {per['surprise'][0]:+.3f} "
              f"fear {per['fear'][0]:+.3f} 8-way {hits:.3f} 7 categories {cat_hits:.3f}\n"
              f"  MEAD per class V: {' '.join(f'{c} {per[c][0]:+.2f}' for c in classes)}\n"
              f"  talking V: {[round(float(clip[f'face{i}'][0]), 2) for i in range(1, 6)]}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
