"""Face detection (mediapipe's short- and full-range detectors, and the short-range one on the quarters of a
frame for group shots) and the aligned crops cut from a detection: the expression CNN's and the face
landmarker's views of a face."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from emoannot.config import FaceConfig
from emoannot.features.blendshapes import FACE_PX, REGION_SIZE
from emoannot.native import native_stderr_silenced
from emoannot.records import CROP_SIZE


@dataclass(frozen=True)
class Detection:
    score: float
    box: np.ndarray  #: x, y, w, h in analysis pixels
    eyes: np.ndarray  #: [2, 2] right eye, left eye (image coordinates)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


SAME_FACE_IOU = 0.3  #: two detections overlapping more than this are one face
#: with several people, the full-range detector also looks for faces the short-range one misses (small faces
#: beside large ones) once every FAR_EVERY_S seconds, and on every frame until FAR_KEEP_S after it last found
#: one (a small face hidden for a moment is found again when it comes back)
FAR_EVERY_S, FAR_KEEP_S = 2.0, 1.5
#: ...and the short-range one on TILES x TILES parts of the frame, each TILE_OVERLAP larger than its share
TILES, TILE_OVERLAP = 2, 0.2


class FaceDetector:
    """mediapipe short-range detector, with the full-range one for small or far faces."""

    def __init__(self, cfg: FaceConfig) -> None:
        with native_stderr_silenced():
            import mediapipe as mp

            fd = mp.solutions.face_detection
            self.cfg = cfg
            self.short = fd.FaceDetection(model_selection=0, min_detection_confidence=cfg.min_confidence)
            self.full = (fd.FaceDetection(model_selection=1, min_detection_confidence=cfg.min_confidence)
                         if cfg.full_range_fallback else None)
            blank = np.zeros((64, 64, 3), np.uint8)  # the first call logs too: make it here
            self.short.process(blank)
            if self.full is not None:
                self.full.process(blank)

    def close(self) -> None:
        self.short.close()
        if self.full is not None:
            self.full.close()

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        dets = [d for d in self._run(self.short, rgb) if d.score >= self.cfg.min_confidence]
        if not dets and self.full is not None:
            dets = [d for d in self._run(self.full, rgb) if d.score >= self.cfg.min_confidence]
        return dets

    def detect_near(self, rgb: np.ndarray) -> list[Detection]:
        """The short-range detector alone (no fallback, no tiles): the cheap look at the frames between
        analysed ones that keeps each speaker's mouth box moving with the face (track_people)."""
        return [d for d in self._run(self.short, rgb) if d.score >= self.cfg.min_confidence]

    def detect_everyone(self, rgb: np.ndarray, look_far: bool) -> tuple[list[Detection], bool]:
        """Every face, near and far: the short-range detector's faces, plus, when `look_far`, those only the
        full-range one finds on the whole frame or the short-range one on each quarter of it (TILES: small
        faces beside large ones, and the rows of a group shot, which one pass over the frame misses: 12 of 24
        faces of ~50 px found without the tiles, 24 with them); and whether there were such faces."""
        near = [d for d in self._run(self.short, rgb) if d.score >= self.cfg.min_confidence]
        if self.full is None or (near and not look_far):
            return near, False
        far = [d for d in self._run(self.full, rgb) if d.score >= self.cfg.min_confidence]
        if not near and not look_far:  # detect()'s fallback: the full-range faces are all there is
            return far, False
        extra: list[Detection] = []
        for d in sorted(far + self._tiles(rgb), key=lambda d: -d.score):
            if all(_iou(d.box, n.box) < SAME_FACE_IOU for n in near + extra):
                extra.append(d)
        return near + extra, bool(near) and bool(extra)

    def _tiles(self, rgb: np.ndarray) -> list[Detection]:
        """The short-range detector on TILES x TILES overlapping parts of the frame, boxes in frame pixels."""
        h, w = rgb.shape[:2]
        th, tw = min(h, int(h / TILES * (1 + TILE_OVERLAP))), min(w, int(w / TILES * (1 + TILE_OVERLAP)))
        out = []
        for r in range(TILES):
            for c in range(TILES):
                y0 = min(h - th, max(0, int((r - TILE_OVERLAP / 2) * h / TILES)))
                x0 = min(w - tw, max(0, int((c - TILE_OVERLAP / 2) * w / TILES)))
                for d in self._run(self.short, np.ascontiguousarray(rgb[y0 : y0 + th, x0 : x0 + tw])):
                    if d.score >= self.cfg.min_confidence:
                        shift = np.array([x0, y0], np.float32)
                        out.append(Detection(d.score, np.concatenate([d.box[:2] + shift, d.box[2:]]), d.eyes + shift))
        return out

    @staticmethod
    def _run(model, rgb: np.ndarray) -> list[Detection]:
        h, w = rgb.shape[:2]
        res = model.process(rgb)
        out = []
        for d in res.detections or []:
            rb = d.location_data.relative_bounding_box
            kp = d.location_data.relative_keypoints
            box = np.array([rb.xmin * w, rb.ymin * h, rb.width * w, rb.height * h], dtype=np.float32)
            eyes = np.array([[kp[0].x * w, kp[0].y * h], [kp[1].x * w, kp[1].y * h]], dtype=np.float32)
            out.append(Detection(float(d.score[0]), box, eyes))
        return out


def _eye_level_crop(grey: np.ndarray, eyes: np.ndarray, box: np.ndarray, margin: float, face_px: int, size: int,
                    interpolation: int) -> np.ndarray:
    """Rotate so the eyes are level and cut the square of side (box's longer side x margin) around the box's
    centre, drawn `face_px` pixels wide in the middle of a `size` x `size` image (the border replicated)."""
    import cv2

    (rx, ry), (lx, ly) = eyes
    angle = math.degrees(math.atan2(ly - ry, lx - rx))
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    side = max(box[2], box[3]) * margin
    m = cv2.getRotationMatrix2D((float(cx), float(cy)), angle, face_px / side)
    m[0, 2] += size / 2 - cx
    m[1, 2] += size / 2 - cy
    return cv2.warpAffine(grey, m, (size, size), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)


def align_crop(grey: np.ndarray, det: Detection, box: np.ndarray, margin: float, size: int = CROP_SIZE) -> np.ndarray:
    """The expression CNN's view of a face in a grey frame: eye-levelled, the (smoothed) box's square, size x size."""
    import cv2

    return _eye_level_crop(grey, det.eyes, box, margin, size, size, cv2.INTER_AREA)


def face_region(grey: np.ndarray, eyes: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    """The landmarker's view of the same face: the crop's square at FACE_PX pixels in the middle of a
    REGION_SIZE square of its surroundings (features.blendshapes; fer_region frames a training face alike)."""
    import cv2

    return _eye_level_crop(grey, eyes, box, margin, FACE_PX, REGION_SIZE, cv2.INTER_LINEAR)
