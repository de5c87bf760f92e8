"""The training faces as the product reads a face: the expression CNN's embedding of the crop the product's own
detector and aligner cut from the face shown in a frame (framed_still, product_crops; the 48x48 face itself where
the detector finds none) and the landmarker's blendshapes of the same face (read through
emoannot.features.blendshapes.fer_region), both cached under the run folder (two processes), with FER+ soft
labels (FER2013) and CK+'s own."""
from __future__ import annotations

import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from emoannot.errors import DataError
from emoannot.features.blendshapes import (LANDMARKER_CARD, LANDMARKER_FILE, N_BLENDSHAPES, BlendshapeReader,
                                           landmarker_path, read_faces)
from emoannot.features.visual import embed_crops, face_vector, posterior_to_va
from emoannot.labels import FACE_CLASSES
from emoannot.train.corpora import cached
from emoannot.train.fit_cnn import CKPLUS_TO_FER, ferplus_labels

WORKERS = 2


STILL_SCALE = 4  #: a 48x48 training face is shown at 192x192 ...
FRAME_SIZE = (640, 480)  #: ... in the middle of a frame this size (width, height), its border replicated


def framed_still(face48: np.ndarray) -> np.ndarray:
    """A 48x48 grey training face as a video frame would show it: upscaled STILL_SCALE times (cubic) and padded
    into a FRAME_SIZE frame with its border replicated (grey, uint8)."""
    import cv2

    side = face48.shape[0] * STILL_SCALE
    big = cv2.resize(face48, (side, side), interpolation=cv2.INTER_CUBIC)
    top, left = (FRAME_SIZE[1] - side) // 2, (FRAME_SIZE[0] - side) // 2
    return cv2.copyMakeBorder(big, top, FRAME_SIZE[1] - side - top, left, FRAME_SIZE[0] - side - left, cv2.BORDER_REPLICATE)


def product_crops(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[N, 48, 48] uint8 training faces -> (the crops the product cuts from each framed_still: its detector's most
    confident face, align_crop at FaceConfig's margin; the face itself where none is found, [N] bool found)."""
    from emoannot.config import FaceConfig
    from emoannot.faces import FaceDetector, align_crop

    cfg = FaceConfig()
    detector = FaceDetector(cfg)
    crops, found = np.array(faces, np.uint8, copy=True), np.zeros(len(faces), bool)
    try:
        for i, face in enumerate(faces):
            frame = framed_still(face)
            dets = detector.detect(np.ascontiguousarray(np.repeat(frame[..., None], 3, 2)))
            if dets:
                d = max(dets, key=lambda x: x.score)
                crops[i], found[i] = align_crop(frame, d, d.box, cfg.crop_margin), True
    finally:
        detector.close()
    return crops, found


def _in_workers(fn, faces: np.ndarray, shape: tuple[int, ...], dtype, what: str, log,
                workers: int = WORKERS) -> tuple[np.ndarray, np.ndarray]:
    """fn ([n, 48, 48] -> ([n, *shape], [n] bool)) over chunks of `faces` in `workers` spawned processes."""
    out, ok = np.zeros((len(faces), *shape), dtype), np.zeros(len(faces), bool)
    if len(faces) == 0:
        return out, ok
    chunks = np.array_split(np.arange(len(faces)), max(1, min(workers * 8, len(faces))))
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = [(idx, pool.submit(fn, faces[idx])) for idx in chunks]
        for idx, fut in futures:
            out[idx], ok[idx] = fut.result()
            log(f"{what}: {idx[-1] + 1}/{len(faces)} faces, {ok[: idx[-1] + 1].mean():.1%} of them")
    return out, ok


def _read_chunk(model: str, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reader = BlendshapeReader(Path(model))
    try:
        return read_faces(reader, faces)
    finally:
        reader.close()


def read_many(model: Path, faces: np.ndarray, log=print, workers: int = WORKERS) -> tuple[np.ndarray, np.ndarray]:
    """[N, 48, 48] uint8 -> ([N, 51] float32 zeros where unread, [N] bool read), in `workers` processes."""
    return _in_workers(partial(_read_chunk, str(model)), faces, (N_BLENDSHAPES,), np.float32, "blendshapes read", log,
                       workers)


def training_face_crops(data: Path, cache: Path, log=print) -> dict[str, np.ndarray]:
    """{'fer': [N, 48, 48], 'fer_found': [N], 'ck': ..., 'ck_found': ...}: product_crops of the corpora's faces in
    their npz row order, cached (about 3 min for the 36,868 faces in two processes)."""
    import mediapipe

    from emoannot.config import FaceConfig

    fer = np.load(data / "faces" / "fer2013_48.npz", allow_pickle=False)["images"]
    ck_path = data / "faces" / "ckplus48.npz"
    ck = np.load(ck_path, allow_pickle=False)["images"] if ck_path.exists() else np.zeros((0, 48, 48), np.uint8)

    def build() -> dict[str, np.ndarray]:
        f, f_ok = _in_workers(product_crops, fer, (48, 48), np.uint8, "faces found by the detector", log)
        c, c_ok = _in_workers(product_crops, ck, (48, 48), np.uint8, "faces found by the detector", log)
        return {"fer": f, "fer_found": f_ok, "ck": c, "ck_found": c_ok}

    cfg = FaceConfig()
    key = (f"crops-v1|{len(fer)}|{len(ck)}|{cfg.crop_margin}|{cfg.min_confidence}|{cfg.full_range_fallback}|"
           f"{STILL_SCALE}|{FRAME_SIZE}|mediapipe {mediapipe.__version__}")
    return cached(cache / "face_crops.npz", key, build)


def training_face_blendshapes(data: Path, cache: Path, model: Path, log=print) -> dict[str, np.ndarray]:
    """{'fer': [N, 51], 'fer_ok': [N], 'ck': [M, 51], 'ck_ok': [M]} in the row order of the corpora's npz files."""
    fer = np.load(data / "faces" / "fer2013_48.npz", allow_pickle=False)["images"]
    ck_path = data / "faces" / "ckplus48.npz"
    ck = np.load(ck_path, allow_pickle=False)["images"] if ck_path.exists() else np.zeros((0, 48, 48), np.uint8)

    def build() -> dict[str, np.ndarray]:
        f, f_ok = read_many(model, fer, log)
        c, c_ok = read_many(model, ck, log)
        return {"fer": f, "fer_ok": f_ok, "ck": c, "ck_ok": c_ok}

    from emoannot.hashing import sha256_of

    key = f"blendshapes-v1|{len(fer)}|{len(ck)}|{sha256_of(model)}"
    return cached(cache / "face_blendshapes.npz", key, build)


def ship_landmarker(out: Path) -> Path:
    """The landmarker model inside weights folder `out` (copied from the shipped weights when `out` is another
    folder: a weights set is complete on its own), checked against its sha256."""
    from emoannot.model.weights import shipped_dir

    src = shipped_dir()
    out.mkdir(parents=True, exist_ok=True)
    for name in (LANDMARKER_FILE, LANDMARKER_CARD, "LICENSE-face_landmarker.txt"):
        if not (out / name).exists() and (src / name).exists():
            shutil.copyfile(src / name, out / name)
    return landmarker_path(out)


@dataclass(frozen=True)
class FaceInputs:
    """Per FER2013 split ("train", "val", "test"): face vectors [n, 308] of the product's crops (training_face_crops;
    the face itself where the detector found none), whether the detector found the face, FER2013 labels, FER+
    majority (-1 without one) and the label the composites use (the FER+ majority, else FER2013's); the head's
    fitting set (train + val with FER+ votes, and CK+; each face from its direct crop and, where the detector
    finds it, from the product's crop too) with its soft labels; the face vectors of the direct 48x48
    crops of the test faces (the crop gap, for the card); the CNN posterior's V/A on test (the old face-only
    estimate, for the card's before/after)."""
    x: dict[str, np.ndarray]
    found: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    plus: dict[str, np.ndarray]
    label: dict[str, np.ndarray]
    fit_x: np.ndarray
    fit_soft: np.ndarray
    direct_test: np.ndarray
    posterior_va_test: np.ndarray


def face_inputs(data: Path, cnn, cache: Path, landmarker: Path, log=print) -> FaceInputs:
    fer_path, ck_path = data / "faces" / "fer2013_48.npz", data / "faces" / "ckplus48.npz"
    if not fer_path.exists():
        raise DataError(f"FER2013 not found at {fer_path}; pass the folder that holds faces/ as DATA.")
    fer = np.load(fer_path, allow_pickle=False)
    split, y = fer["split"].astype(str), fer["labels"].astype(np.int64)
    bs = training_face_blendshapes(data, cache, landmarker, log)
    crops = training_face_crops(data, cache, log)
    log("expression CNN embeddings of the training faces")
    fer_bs = np.where(bs["fer_ok"][:, None], bs["fer"], np.nan)
    emb, probs = embed_crops(cnn, np.ascontiguousarray(crops["fer"]))
    vec = face_vector(emb, fer_bs)
    direct = face_vector(embed_crops(cnn, np.ascontiguousarray(fer["images"]))[0], fer_bs)
    test, found = split == "test", crops["fer_found"]
    soft, plus = ferplus_labels(data)
    out = {k: {} for k in ("x", "found", "y", "plus", "label")}
    for s in ("train", "val", "test"):
        sel = split == s
        out["x"][s], out["found"][s], out["y"][s], out["plus"][s] = vec[sel], found[sel], y[sel], plus[sel]
        out["label"][s] = np.where(plus[sel] >= 0, plus[sel], y[sel])
    fit = (split != "test") & np.isfinite(soft).all(1)
    # each fitting face as cut in its corpus and, where the detector finds it, as the product cuts it
    fit_x, fit_soft = [direct[fit], vec[fit & found]], [soft[fit], soft[fit & found]]
    if ck_path.exists():
        ck = np.load(ck_path, allow_pickle=False)
        names = [str(c) for c in ck["classes"]]
        keep = np.array([names[i] in CKPLUS_TO_FER for i in ck["labels"]])
        ck_y = np.eye(len(FACE_CLASSES), dtype=np.float32)[
            [FACE_CLASSES.index(CKPLUS_TO_FER[names[i]]) for i in ck["labels"][keep]]]
        ck_bs, ck_found = np.where(bs["ck_ok"][keep, None], bs["ck"][keep], np.nan), crops["ck_found"][keep]
        for images, sel in ((ck["images"][keep], slice(None)), (crops["ck"][keep][ck_found], ck_found)):
            fit_x.append(face_vector(embed_crops(cnn, np.ascontiguousarray(images))[0], ck_bs[sel]))
            fit_soft.append(ck_y[sel])
    return FaceInputs(out["x"], out["found"], out["y"], out["plus"], out["label"], np.concatenate(fit_x),
                      np.concatenate(fit_soft), direct[test], posterior_to_va(probs[test]))


def crop_gap(head, f: FaceInputs) -> dict:
    """How the visual head reads the FER2013 test faces the detector finds (with a FER+ majority), from the
    product's crops (what a video gives it) and from the direct 48x48 crops (the corpus's own cut)."""
    found, plus = f.found["test"], f.plus["test"]
    has_plus = plus >= 0
    sel = found & has_plus

    def accuracy(x: np.ndarray, rows: np.ndarray) -> float:
        return float((head.predict_proba(x[rows]).argmax(1) == plus[rows]).mean())

    return {"detector_found_test": float(found.mean()), "n_found_with_ferplus": int(sel.sum()),
            "ferplus_majority_found_product_crops": accuracy(f.x["test"], sel),
            "ferplus_majority_found_direct_crops": accuracy(f.direct_test, sel),
            "ferplus_majority_all_direct_crops": accuracy(f.direct_test, has_plus)}
