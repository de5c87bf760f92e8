"""Face stage: mediapipe detection on every frame, one main face tracked across frames, aligned
grey crops at the model rate for the visual encoder."""
from __future__ import annotations

import math
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from emoannot.config import FaceConfig
from emoannot.model.expression import CROP_SIZE
from emoannot.records import FaceTrack, Frame
from emoannot.timeline import tick_of_time, video_ticks

Hook = Callable[..., None]


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


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """mediapipe's C++ logging writes straight to file descriptor 2 at start-up; hide that noise only."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class FaceDetector:
    """mediapipe short-range detector, with the full-range one for small or far faces."""

    def __init__(self, cfg: FaceConfig) -> None:
        with _native_stderr_silenced():
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


def align_crop(rgb: np.ndarray, det: Detection, box: np.ndarray, margin: float, size: int = CROP_SIZE) -> np.ndarray:
    """Rotate so the eyes are level, crop a square around the (smoothed) box, grey, size x size."""
    import cv2

    (rx, ry), (lx, ly) = det.eyes
    angle = math.degrees(math.atan2(ly - ry, lx - rx))
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    side = max(box[2], box[3]) * margin
    m = cv2.getRotationMatrix2D((float(cx), float(cy)), angle, size / side)
    m[0, 2] += size / 2 - cx
    m[1, 2] += size / 2 - cy
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.warpAffine(grey, m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


class _Tracker:
    def __init__(self, cfg: FaceConfig) -> None:
        self.cfg = cfg
        self.box: np.ndarray | None = None

    def update(self, dets: list[Detection]) -> tuple[Detection, np.ndarray] | None:
        if not dets:
            self.box = None
            return None
        if self.box is not None:
            ious = [_iou(self.box, d.box) for d in dets]
            best = int(np.argmax(ious))
            if ious[best] > 0.1:
                d = dets[best]
                self.box = self.cfg.smooth * d.box + (1 - self.cfg.smooth) * self.box
                return d, self.box
        d = max(dets, key=lambda x: x.box[2] * x.box[3] * x.score)
        self.box = d.box.copy()
        return d, self.box


def track_faces(frames: Iterable[Frame], cfg: FaceConfig, detector: FaceDetector,
                hook: Hook | None = None, total: int | None = None) -> FaceTrack:
    """Run detection on every frame; keep one aligned crop per tick, from the first frame in the tick's
    interval. K = timeline.video_ticks: the ticks that cover the decoded frames."""
    crops: dict[int, np.ndarray] = {}
    seen: set[int] = set()
    times: list[float] = []
    present: list[bool] = []
    scores: list[float] = []
    boxes: list[np.ndarray] = []
    tracker = _Tracker(cfg)
    nan_box = np.full(4, np.nan, dtype=np.float32)
    for frame in frames:
        times.append(frame.time_s)
        hit = tracker.update(detector.detect(frame.rgb))
        present.append(hit is not None)
        scores.append(hit[0].score if hit else np.nan)
        boxes.append(hit[1] * frame.scale if hit else nan_box)
        k = tick_of_time(frame.time_s)
        if k not in seen:
            seen.add(k)
            if hit is not None:
                crops[k] = align_crop(frame.rgb, hit[0], hit[1], cfg.crop_margin)
        if hook is not None and frame.index % 25 == 0:
            hook("faces", completed=frame.index + 1, total=total)
    times_arr = np.asarray(times, dtype=np.float64)
    k_total = video_ticks(times_arr)
    crop_arr = np.zeros((k_total, CROP_SIZE, CROP_SIZE), dtype=np.uint8)
    crop_mask = np.zeros(k_total, dtype=bool)
    tick_seen = np.zeros(k_total, dtype=bool)
    for k in seen:
        if k < k_total:
            tick_seen[k] = True
            if k in crops:
                crop_arr[k], crop_mask[k] = crops[k], True
    _fill_gaps(crop_arr, crop_mask, tick_seen)
    return FaceTrack(
        times=times_arr, present=np.asarray(present, dtype=bool), score=np.asarray(scores, dtype=np.float32),
        box=np.asarray(boxes, dtype=np.float32).reshape(-1, 4), crops=crop_arr, crop_mask=crop_mask)


def _fill_gaps(crops: np.ndarray, mask: np.ndarray, seen: np.ndarray) -> None:
    """Ticks no frame reached (frame rate below MODEL_FPS, dropped frames) take the previous tick's crop."""
    for k in range(1, len(seen)):
        if not seen[k]:
            crops[k], mask[k] = crops[k - 1], mask[k - 1]
