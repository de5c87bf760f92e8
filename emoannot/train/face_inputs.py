"""The training faces as the product reads a face: the expression CNN's embedding of the 48x48 crop and the
landmarker's blendshapes of the same face (read through emoannot.features.blendshapes.fer_region, cached
under the run folder; two processes, one landmarker each), with FER+ soft labels (FER2013) and CK+'s own."""
from __future__ import annotations

import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
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


def _read_chunk(model: str, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reader = BlendshapeReader(Path(model))
    try:
        return read_faces(reader, faces)
    finally:
        reader.close()


def read_many(model: Path, faces: np.ndarray, log=print, workers: int = WORKERS) -> tuple[np.ndarray, np.ndarray]:
    """[N, 48, 48] uint8 -> ([N, 51] float32 zeros where unread, [N] bool read), in `workers` processes."""
    if len(faces) == 0:
        return np.zeros((0, N_BLENDSHAPES), np.float32), np.zeros(0, bool)
    chunks = np.array_split(np.arange(len(faces)), max(1, min(workers * 8, len(faces))))
    out, ok = np.zeros((len(faces), N_BLENDSHAPES), np.float32), np.zeros(len(faces), bool)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = [(idx, pool.submit(_read_chunk, str(model), faces[idx])) for idx in chunks]
        for n, (idx, fut) in enumerate(futures):
            out[idx], ok[idx] = fut.result()
            log(f"blendshapes: {idx[-1] + 1}/{len(faces)} faces, {ok[: idx[-1] + 1].mean():.1%} read")
    return out, ok


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
    """Per FER2013 split ("train", "val", "test"): face vectors [n, 308], FER2013 labels, FER+ majority (-1
    without one) and the label the composites use (the FER+ majority, else FER2013's); the head's fitting set
    (train + val with FER+ votes, and CK+) with its soft labels; the CNN posterior's V/A on test (the old
    face-only estimate, for the card's before/after)."""
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    plus: dict[str, np.ndarray]
    label: dict[str, np.ndarray]
    fit_x: np.ndarray
    fit_soft: np.ndarray
    posterior_va_test: np.ndarray


def face_inputs(data: Path, cnn, cache: Path, landmarker: Path, log=print) -> FaceInputs:
    fer_path, ck_path = data / "faces" / "fer2013_48.npz", data / "faces" / "ckplus48.npz"
    if not fer_path.exists():
        raise DataError(f"FER2013 not found at {fer_path}; pass the folder that holds faces/ as DATA.")
    fer = np.load(fer_path, allow_pickle=False)
    split, y = fer["split"].astype(str), fer["labels"].astype(np.int64)
    bs = training_face_blendshapes(data, cache, landmarker, log)
    log("expression CNN embeddings of the training faces")
    emb, probs = embed_crops(cnn, np.ascontiguousarray(fer["images"]))
    vec = face_vector(emb, np.where(bs["fer_ok"][:, None], bs["fer"], np.nan))
    soft, plus = ferplus_labels(data)
    out = {k: {} for k in ("x", "y", "plus", "label")}
    for s in ("train", "val", "test"):
        sel = split == s
        out["x"][s], out["y"][s], out["plus"][s] = vec[sel], y[sel], plus[sel]
        out["label"][s] = np.where(plus[sel] >= 0, plus[sel], y[sel])
    fit = (split != "test") & np.isfinite(soft).all(1)
    fit_x, fit_soft = [vec[fit]], [soft[fit]]
    if ck_path.exists():
        ck = np.load(ck_path, allow_pickle=False)
        names = [str(c) for c in ck["classes"]]
        keep = np.array([names[i] in CKPLUS_TO_FER for i in ck["labels"]])
        ck_y = np.array([FACE_CLASSES.index(CKPLUS_TO_FER[names[i]]) for i in ck["labels"][keep]])
        ck_emb, _ = embed_crops(cnn, np.ascontiguousarray(ck["images"][keep]))
        fit_x.append(face_vector(ck_emb, np.where(bs["ck_ok"][keep, None], bs["ck"][keep], np.nan)))
        fit_soft.append(np.eye(len(FACE_CLASSES), dtype=np.float32)[ck_y])
    return FaceInputs(out["x"], out["y"], out["plus"], out["label"], np.concatenate(fit_x), np.concatenate(fit_soft),
                      posterior_to_va(probs[split == "test"]))
