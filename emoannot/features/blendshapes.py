"""Facial action measures: the blendshape coefficients of MediaPipe's Face Landmarker v2 (52, of which 51 name
an expression: browDownLeft, mouthSmileLeft, noseSneerRight, jawOpen, ...; each in [0, 1]), read on the face
the tracker found.

The landmarker was trained by Google on far more varied faces than FER2013, so its coefficients carry over
to real video where the 48x48 expression CNN does not; the visual head reads them beside the CNN embedding,
and `--extra-columns` writes them as `bs_<name>` columns (what OpenFace's action units are to its users).

Every face is read the same way, in the product and in training: a grey, eye-levelled square around the face
(faces.face_region: the expression crop's framing, FACE_PX wide, inside CONTEXT times as much of its
surroundings), handed to the landmarker as a 3-channel image. A FER2013 image becomes the same picture by
`fer_region` (upscaled, then the border replicated), so the head is trained on what the product reads.
The model file ships in weights/ with its sha256 and licence (LANDMARKER_CARD) and is checked on load.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emoannot.errors import WeightsError
from emoannot.hashing import sha256_of
from emoannot.native import native_stderr_silenced
from emoannot.records import BLENDSHAPE_COLUMNS as COLUMNS  # noqa: F401 - the names live with the record
from emoannot.records import BLENDSHAPE_NAMES as NAMES  # noqa: F401
from emoannot.records import N_BLENDSHAPES  # noqa: F401

LANDMARKER_FILE = "face_landmarker_v2_with_blendshapes.task"
LANDMARKER_CARD = "face_landmarker.json"
#: the face's own square (side x crop margin: what the expression CNN sees) at FACE_PX pixels, inside a
#: region CONTEXT times as wide (REGION_SIZE pixels): the landmarker's own detector needs the face's
#: surroundings (on FER2013 faces 93 % are read with them, 92 % without)
FACE_PX, CONTEXT = 160, 1.5
REGION_SIZE = int(round(FACE_PX * CONTEXT))


def landmarker_path(folder: Path) -> Path:
    """The landmarker model in weights folder `folder`, its sha256 checked against its card."""
    card_path, path = folder / LANDMARKER_CARD, folder / LANDMARKER_FILE
    try:
        card = json.loads(card_path.read_text())
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{card_path}: the face landmarker's card cannot be read ({exc}); reinstall emoannot, or "
                           f"copy {LANDMARKER_FILE} and {LANDMARKER_CARD} from the shipped weights/ into {folder}.") from exc
    if not path.is_file():
        raise WeightsError(f"{path} is missing; reinstall emoannot, or copy it from the shipped weights/ folder.")
    if sha256_of(path) != card.get("sha256"):
        raise WeightsError(f"sha256 mismatch for {path}: the file was changed or damaged; reinstall emoannot.")
    return path


class BlendshapeReader:
    """MediaPipe Face Landmarker (Tasks API, one image at a time, CPU): a face region -> 51 coefficients, or
    None where it finds no face in it. Not thread-safe: one reader per thread."""

    def __init__(self, model: Path) -> None:
        with native_stderr_silenced():
            from mediapipe.tasks.python import BaseOptions, vision

            opts = vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(model)), running_mode=vision.RunningMode.IMAGE,
                output_face_blendshapes=True, num_faces=1, min_face_detection_confidence=0.3,
                min_face_presence_confidence=0.3)
            self._lm = vision.FaceLandmarker.create_from_options(opts)
            self.read(np.zeros((REGION_SIZE, REGION_SIZE), np.uint8))  # the first call logs: make it here
        self.closed = False

    def read(self, grey: np.ndarray) -> np.ndarray | None:
        """A grey uint8 face region (faces.face_region or fer_region) -> float32 [51] in [0, 1], or None."""
        import mediapipe as mp

        rgb = np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))
        res = self._lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        if not res.face_blendshapes:
            return None
        cats = res.face_blendshapes[0]
        return np.array([c.score for c in cats[1:]], np.float32)

    def close(self) -> None:
        if not self.closed:
            self._lm.close()
            self.closed = True


def fer_region(face48: np.ndarray) -> np.ndarray:
    """A 48x48 training face (FER2013, CK+) as the product's faces.face_region: upscaled to FACE_PX, its border
    replicated out to REGION_SIZE."""
    import cv2

    up = cv2.resize(face48, (FACE_PX, FACE_PX), interpolation=cv2.INTER_CUBIC)
    pad = (REGION_SIZE - FACE_PX) // 2
    return cv2.copyMakeBorder(up, pad, REGION_SIZE - FACE_PX - pad, pad, REGION_SIZE - FACE_PX - pad,
                              cv2.BORDER_REPLICATE)


def read_faces(reader: BlendshapeReader, faces48: np.ndarray, log=None) -> tuple[np.ndarray, np.ndarray]:
    """Blendshapes of many 48x48 training faces: ([N, 51] float32, zeros where unread; [N] bool read)."""
    out = np.zeros((len(faces48), N_BLENDSHAPES), np.float32)
    ok = np.zeros(len(faces48), bool)
    for i, face in enumerate(faces48):
        v = reader.read(fer_region(face))
        if v is not None:
            out[i], ok[i] = v, True
        if log is not None and i and i % 5000 == 0:
            log(f"blendshapes: {i}/{len(faces48)} faces, {ok[:i].mean():.1%} read")
    return out, ok
