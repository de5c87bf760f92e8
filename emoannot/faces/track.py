"""One main face (track_faces), analysed at the model's tick rate or on every frame; the per-face builder of
a FaceTrack (hits on analysed frames, one crop and one blendshape reading per tick) and the frames between
analysed ones (box interpolated, presence from the nearer analysed frame)."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

import numpy as np

from emoannot.config import FaceConfig
from emoannot.faces.detect import Detection, FaceDetector, _iou, align_crop, face_region
from emoannot.features.blendshapes import N_BLENDSHAPES, BlendshapeReader
from emoannot.progress import Hook
from emoannot.records import CROP_SIZE, FaceTrack, Frame
from emoannot.timeline import tick_of_time, video_ticks

REFERENCE_FPS = 30.0  #: FaceConfig.smooth is the weight of a new box at this frame rate (see _smoothing)


def analysed_frames(every_frame: bool) -> Callable[[int, float], bool]:
    """A fresh selector of the frames the face stage analyses, called once per decoded frame in order with
    its index and time (video.iter_frames' `pixels`): every frame, or the first frame in each tick's interval."""
    if every_frame:
        return lambda _i, _t: True
    seen: set[int] = set()

    def want(_index: int, time_s: float) -> bool:
        k = tick_of_time(time_s)
        if k in seen:
            return False
        seen.add(k)
        return True

    return want


def _smoothing(smooth: float, frames: int) -> float:
    """The weight of a new box when `frames` decoded frames have passed since the last one analysed: the
    same smoothing per second whether every frame is analysed or one per tick (smooth per frame at 1 frame)."""
    return 1.0 - (1.0 - smooth) ** max(1, frames)


class _Tracker:
    def __init__(self, cfg: FaceConfig) -> None:
        self.cfg = cfg
        self.box: np.ndarray | None = None

    def update(self, dets: list[Detection], frames: int = 1) -> tuple[Detection, np.ndarray] | None:
        """The main face among `dets`, `frames` decoded frames after the last update, and its smoothed box."""
        if not dets:
            self.box = None
            return None
        if self.box is not None:
            ious = [_iou(self.box, d.box) for d in dets]
            best = int(np.argmax(ious))
            if ious[best] > 0.1:
                d = dets[best]
                a = _smoothing(self.cfg.smooth, frames)
                self.box = a * d.box + (1 - a) * self.box
                return d, self.box
        d = max(dets, key=lambda x: x.box[2] * x.box[3] * x.score)
        self.box = d.box.copy()
        return d, self.box


class _Builder:
    """One face's hits on the analysed frames and per-tick crops and blendshapes (and mouth motion), turned into
    a FaceTrack at the end."""

    def __init__(self) -> None:
        self.hits: dict[int, tuple[float, np.ndarray]] = {}  # frame index -> (score, box in original pixels)
        self.crops: dict[int, np.ndarray] = {}  # tick -> aligned crop
        self.blendshapes: dict[int, np.ndarray] = {}  # tick -> the landmarker's coefficients (where it read the face)
        self.mouth: dict[int, float] = {}  # frame index -> mouth motion since the previous frame

    def add(self, frame: Frame, det: Detection, box: np.ndarray, first_of_tick: bool, cfg: FaceConfig,
            reader: BlendshapeReader | None = None) -> None:
        self.hits[frame.index] = (det.score, box * frame.scale)
        if first_of_tick:  # one crop (and one blendshape reading) per tick, from the first frame in its interval
            import cv2

            grey = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2GRAY)
            k = tick_of_time(frame.time_s)
            self.crops[k] = align_crop(grey, det, box, cfg.crop_margin)
            if reader is not None:
                bs = reader.read(face_region(grey, det.eyes, box, cfg.crop_margin))
                if bs is not None:
                    self.blendshapes[k] = bs

    def build(self, times: np.ndarray, seen: set[int], analysed: np.ndarray | None = None) -> FaceTrack:
        """`analysed`: [N] bool, the frames the detector ran on (None: all); the others are filled in
        between them (_fill_between)."""
        n, k_total = len(times), video_ticks(times)
        present = np.zeros(n, bool)
        score = np.full(n, np.nan, np.float32)
        box = np.full((n, 4), np.nan, np.float32)
        for i, (sc, b) in self.hits.items():
            present[i], score[i], box[i] = True, sc, b
        if analysed is not None:
            _fill_between(times, analysed, present, score, box)
        crop_arr = np.zeros((k_total, CROP_SIZE, CROP_SIZE), dtype=np.uint8)
        crop_mask = np.zeros(k_total, dtype=bool)
        bs = np.full((k_total, N_BLENDSHAPES), np.nan, np.float32)
        tick_seen = np.zeros(k_total, dtype=bool)
        for k in seen:
            if k < k_total:
                tick_seen[k] = True
                crop = self.crops.pop(k, None)  # popped: the crops are not held twice
                if crop is not None:
                    crop_arr[k], crop_mask[k] = crop, True
                    if k in self.blendshapes:
                        bs[k] = self.blendshapes.pop(k)
        _fill_gaps(crop_arr, crop_mask, tick_seen, bs)
        return FaceTrack(times=times, present=present, score=score, box=box, crops=crop_arr, crop_mask=crop_mask,
                         blendshapes=bs)

    def mouth_series(self, n: int) -> np.ndarray:
        out = np.full(n, np.nan, np.float32)
        for i, m in self.mouth.items():
            out[i] = m
        return out


def _fill_between(times: np.ndarray, analysed: np.ndarray, present: np.ndarray, score: np.ndarray,
                  box: np.ndarray) -> None:
    """In place, the frames not analysed: `present` and the score of the nearer analysed frame around them
    (the earlier on a tie), the box interpolated linearly in time between the two analysed frames when the
    face is in both (else the nearer one's box)."""
    idx = np.flatnonzero(analysed)
    rest = np.flatnonzero(~analysed)
    if not len(idx) or not len(rest):
        return
    pos = np.searchsorted(idx, rest)
    left, right = idx[np.clip(pos - 1, 0, len(idx) - 1)], idx[np.clip(pos, 0, len(idx) - 1)]
    t, tl, tr = times[rest], times[left], times[right]
    nearest = np.where(np.abs(t - tl) <= np.abs(tr - t), left, right)
    both = present[left] & present[right]
    w = np.where(tr > tl, (t - tl) / np.where(tr > tl, tr - tl, 1.0), 0.0)[:, None]
    between = box[left] + w * (box[right] - box[left])
    present[rest], score[rest] = present[nearest], score[nearest]
    box[rest] = np.where(both[:, None], between, box[nearest])


def _frames_and_ticks(frames: Iterable[Frame], times: list[float], seen: set[int], hook: Hook | None,
                      total: int | None) -> Iterator[tuple[Frame, bool]]:
    """Each frame, and whether it is the first of its tick; records the times and ticks seen, reports progress."""
    for frame in frames:
        times.append(frame.time_s)
        k = tick_of_time(frame.time_s)
        first = k not in seen
        seen.add(k)
        yield frame, first
        if hook is not None and frame.index % 25 == 0:
            hook("faces", completed=frame.index + 1, total=total)


def frame_selector(cfg: FaceConfig) -> Callable[[int, float], bool]:
    """The frames whose pixels the face stage needs (video.iter_frames' `pixels`) under `cfg`: with people,
    every frame (mouth movement), else the analysed ones."""
    from emoannot.config import PeopleMode

    return analysed_frames(cfg.every_frame or cfg.people == PeopleMode.all)


def track_faces(frames: Iterable[Frame], cfg: FaceConfig, detector: FaceDetector,
                hook: Hook | None = None, total: int | None = None,
                reader: BlendshapeReader | None = None) -> FaceTrack:
    """Follow one main face (the largest, kept while it overlaps), detected on the first frame of each tick
    (every frame with cfg.every_frame); one aligned crop per tick, and with `reader` its blendshapes, from
    the first frame in the tick's interval. K = timeline.video_ticks."""
    times: list[float] = []
    seen: set[int] = set()
    analysed: list[int] = []
    tracker, builder = _Tracker(cfg), _Builder()
    for frame, first in _frames_and_ticks(frames, times, seen, hook, total):
        if not (first or cfg.every_frame):
            continue
        hit = tracker.update(detector.detect(frame.rgb), frame.index - analysed[-1] if analysed else 1)
        analysed.append(frame.index)
        if hit is not None:
            builder.add(frame, hit[0], hit[1], first, cfg, reader)
    return builder.build(np.asarray(times, dtype=np.float64), seen, _mask(analysed, len(times)))


def _mask(indices: list[int], n: int) -> np.ndarray:
    out = np.zeros(n, bool)
    out[indices] = True
    return out


def empty_track(times: np.ndarray) -> FaceTrack:
    """The FaceTrack of nobody: no face in any frame (a video without people)."""
    return _Builder().build(times, {tick_of_time(t) for t in times})


def _fill_gaps(crops: np.ndarray, mask: np.ndarray, seen: np.ndarray, blendshapes: np.ndarray) -> None:
    """Ticks no frame reached (frame rate below MODEL_FPS, dropped frames) take the previous tick's crop and
    blendshapes."""
    for k in range(1, len(seen)):
        if not seen[k]:
            crops[k], mask[k], blendshapes[k] = crops[k - 1], mask[k - 1], blendshapes[k - 1]
