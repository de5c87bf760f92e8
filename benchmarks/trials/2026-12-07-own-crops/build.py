"""The training faces as the product's own detector and aligner cut them (the remedy issue 23 names for the
crop gap that benchmarks/crop_check.py measures): every FER2013 face (all splits) and every CK+ face,
upscaled 4x and padded into a 640x480 frame exactly as crop_check.py does, through emoannot.faces.FaceDetector
and align_crop. Writes OUT.npz: fer_crop [N, 48, 48] (the product's crop; the direct crop where no face was
found), fer_found [N] bool, and ck_crop / ck_found alike. Two processes.

    python benchmarks/trials/2026-12-07-own-crops/build.py OUT.npz
"""
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT.parent / "shared" / "data"


def product_crops(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    from emoannot.config import FaceConfig
    from emoannot.faces import FaceDetector, align_crop

    cfg = FaceConfig()
    detector = FaceDetector(cfg)
    crops, found = faces.copy(), np.zeros(len(faces), bool)
    for i, face in enumerate(faces):
        big = cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC)
        frame = cv2.copyMakeBorder(big, 144, 144, 224, 224, cv2.BORDER_REPLICATE)
        dets = detector.detect(np.ascontiguousarray(np.repeat(frame[..., None], 3, 2)))
        if dets:
            d = max(dets, key=lambda x: x.score)
            crops[i], found[i] = align_crop(frame, d, d.box, cfg.crop_margin), True
    return crops, found


def run(faces: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    chunks = np.array_split(np.arange(len(faces)), 32)
    crops, found = faces.copy(), np.zeros(len(faces), bool)
    t0 = time.time()
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        futs = [(idx, pool.submit(product_crops, faces[idx])) for idx in chunks]
        for idx, fut in futs:
            crops[idx], found[idx] = fut.result()
            print(f"{name}: {idx[-1] + 1}/{len(faces)}, found {found[: idx[-1] + 1].mean():.3f}, "
                  f"{time.time() - t0:.0f} s", flush=True)
    return crops, found


def main(out: Path) -> None:
    fer = np.load(DATA / "faces" / "fer2013_48.npz")["images"]
    ck = np.load(DATA / "faces" / "ckplus48.npz")["images"]
    fc, ff = run(fer, "fer")
    cc, cf = run(ck, "ck")
    np.savez_compressed(out, fer_crop=fc, fer_found=ff, ck_crop=cc, ck_found=cf)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
