"""The model's time grid, in one place.

Every modality is resampled to MODEL_FPS "ticks" before fusion. One convention holds everywhere:

    tick k covers the half-open interval [k / MODEL_FPS, (k + 1) / MODEL_FPS)
    and stands at its centre, (k + 0.5) / MODEL_FPS.

So a time t belongs to tick floor(t * MODEL_FPS); a per-tick value describes what happened inside its
interval (encoder states are averaged over it, a face crop is taken from the first frame in it, a mask is
True when its centre lies in a segment) and is placed at the centre when it is interpolated back to the
decoded frames. Windows of WINDOW ticks are what RJCMA sees.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

MODEL_FPS = 10.0  #: ticks per second: the rate at which every modality is resampled for fusion
WINDOW = 100  #: RJCMA window length in ticks (10 s)
INFER_HOP = 50  #: hop between inference windows; overlapping predictions are averaged
TRAIN_HOP = 67  #: hop between training windows (the paper's 200/300 ratio)
EVIDENCE_S = 1.0  #: a frame gets valence/arousal only if some modality is present within this many seconds


def n_ticks(duration_s: float) -> int:
    """Ticks needed to cover [0, duration_s): at least one."""
    return max(1, int(math.ceil(duration_s * MODEL_FPS - 1e-9)))


def frame_step(frame_times: np.ndarray) -> float:
    """The typical interval between decoded frames (1 / MODEL_FPS for a single frame)."""
    return float(np.median(np.diff(frame_times))) if len(frame_times) > 1 else 1 / MODEL_FPS


def video_end(frame_times: np.ndarray) -> float:
    """Where the video's time range ends: the last decoded frame plus one frame interval (0 without frames)."""
    return float(frame_times[-1]) + frame_step(frame_times) if len(frame_times) else 0.0


def frame_durations(frame_times: np.ndarray) -> np.ndarray:
    """How long each frame stands: until the next frame's time (the last one until video_end)."""
    times = np.asarray(frame_times, np.float64)
    return np.diff(np.append(times, video_end(times))) if len(times) else np.zeros(0)


def video_ticks(frame_times: np.ndarray) -> int:
    """K for a video: the ticks covering its decoded frames, [0, video_end). The decoded frames decide, not
    the container's stated duration, which can be missing (streamed WebM, raw H.264) or wrong."""
    return n_ticks(video_end(frame_times))


def tick_of_time(t: float | np.ndarray, k: int | None = None) -> int | np.ndarray:
    """The tick whose interval holds time t (clipped to [0, k - 1] when k is given)."""
    idx = np.floor(np.asarray(t, np.float64) * MODEL_FPS + 1e-9).astype(np.int64)
    idx = np.maximum(idx, 0) if k is None else np.clip(idx, 0, k - 1)
    return int(idx) if idx.ndim == 0 else idx


def tick_times(k: int) -> np.ndarray:
    """[k] the centre time of each tick, in seconds."""
    return (np.arange(k) + 0.5) / MODEL_FPS


def segments_to_mask(segments: Iterable, times: np.ndarray) -> np.ndarray:
    """[len(times)] bool: True where a time lies inside one of the segments ([start, end), objects with
    .start and .end in seconds). Pass tick_times(k) for ticks, the frame times for frames."""
    times = np.asarray(times, np.float64)
    mask = np.zeros(len(times), bool)
    for s in segments:
        lo, hi = np.searchsorted(times, s.start, "left"), np.searchsorted(times, s.end, "left")
        mask[lo:hi] = True
    return mask


def ticks_to_frames(frame_times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Linear interpolation of a per-tick series (placed at the tick centres) at each frame's time; NaN ticks
    stay NaN for the frames next to them."""
    values = np.asarray(values, np.float64)
    if len(values) == 0:
        return np.full(len(frame_times), np.nan, np.float32)
    return np.interp(frame_times, tick_times(len(values)), values).astype(np.float32)


def within(mask: np.ndarray, seconds: float) -> np.ndarray:
    """[K] bool: some tick of `mask` lies within `seconds` of this tick (a dilation on the grid)."""
    reach = int(round(seconds * MODEL_FPS))
    mask = np.asarray(mask, bool)
    if reach <= 0 or not mask.any():
        return mask.copy()
    c = np.cumsum(np.pad(mask.astype(np.int64), (1, 0)))
    k = len(mask)
    lo = np.clip(np.arange(k) - reach, 0, k)
    hi = np.clip(np.arange(k) + reach + 1, 0, k)
    return (c[hi] - c[lo]) > 0


def window_starts(k: int, window: int = WINDOW, hop: int = INFER_HOP) -> list[int]:
    """Start ticks of windows of `window` ticks with stride `hop` that cover all k ticks (the last window
    ends at k). A sequence shorter than one window gets one window at 0 (the caller pads)."""
    if k <= window:
        return [0]
    starts = list(range(0, k - window + 1, hop))
    if starts[-1] != k - window:
        starts.append(k - window)
    return starts
