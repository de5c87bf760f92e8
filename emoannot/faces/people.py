"""Every person in view (track_people): a stable id per person (overlap and appearance, re-identification
after a gap), their own crops and blendshapes at the tick rate, and how much their mouth moves from each
frame to the next (speakers.mouth_motion), on one worker thread beside the decoding and detection."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from emoannot.config import FaceConfig
from emoannot.faces.detect import FAR_EVERY_S, FAR_KEEP_S, Detection, FaceDetector, _iou
from emoannot.faces.track import _Builder, _frames_and_ticks, _mask, _smoothing
from emoannot.features.blendshapes import BlendshapeReader
from emoannot.progress import Hook
from emoannot.records import FaceTrack, Frame, Person
from emoannot.speakers import mouth_motion, mouth_patches

RECENT_S = 0.5  #: a track seen this recently is matched by overlap (and appearance); older ones by appearance
APPEARANCE_MAX = 0.45  #: Bhattacharyya distance of colour histograms above which two faces are not one person
REID_MAX = 0.30  #: stricter, for matching a face to a person not seen for more than RECENT_S


def _appearance_region(box: np.ndarray) -> np.ndarray:
    """The face box widened to take in hair and skin around it (x, y, w, h)."""
    x, y, bw, bh = box
    return np.array([x - 0.15 * bw, y - 0.3 * bh, 1.3 * bw, 1.4 * bh], np.float32)


def appearance(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Hue-saturation histogram of the face's appearance region (_appearance_region; normalised)."""
    import cv2

    h, w = rgb.shape[:2]
    rx, ry, rw, rh = _appearance_region(box)
    x0, x1 = int(max(0, rx)), int(min(w, rx + rw))
    y0, y1 = int(max(0, ry)), int(min(h, ry + rh))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.full((16, 8), 1 / 128, np.float32)
    step = max(1, min(y1 - y0, x1 - x0) // 48)  # every pixel of a small face, a regular sample of a large one
    region = rgb[y0:y1, x0:x1]
    if step > 1:  # (a nearest-pixel resize: the sample without numpy's slow strided copy)
        region = cv2.resize(region, (-(-(x1 - x0) // step), -(-(y1 - y0) // step)), interpolation=cv2.INTER_NEAREST)
    hsv = cv2.cvtColor(region, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
    return (hist / max(float(hist.sum()), 1.0)).astype(np.float32)


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    import cv2

    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


@dataclass
class _Person:
    id: int
    box: np.ndarray
    hist: np.ndarray
    last: float
    builder: _Builder
    last_frame: int = -2
    patches: tuple[np.ndarray, np.ndarray] | None = None  #: mouth_patches at last_frame
    mouth_box: np.ndarray | None = None  #: the box the mouth is measured on (followed on every frame)
    clean: np.ndarray | None = None  #: sum of the appearance histograms of frames where no other face was near
    n_clean: int = 0

    @property
    def reference(self) -> np.ndarray:
        """How this person looks, from the frames where no other face overlapped their appearance region
        (their running histogram when there were none)."""
        return self.clean / self.n_clean if self.n_clean else self.hist

    def absorb(self, later: "_Person") -> None:
        """Take on the frames of a track that started after this one ended: the same person, come back."""
        for mine, theirs in ((self.builder.hits, later.builder.hits), (self.builder.crops, later.builder.crops),
                             (self.builder.blendshapes, later.builder.blendshapes),
                             (self.builder.mouth, later.builder.mouth)):
            mine.update(theirs)
        if later.n_clean:
            self.clean = later.clean if self.clean is None else self.clean + later.clean
            self.n_clean += later.n_clean


class _PeopleTracker:
    """Every face, with a stable id: matched to a person seen within RECENT_S by overlap and appearance, to
    one unseen for longer (an occlusion, a turn away, a cut) by appearance alone (their running histogram or
    their reference: how they looked alone); otherwise a new id, which merge_returning may give back after
    the video. Greedy assignment, cheapest pair first (a handful of faces per frame)."""

    def __init__(self, cfg: FaceConfig) -> None:
        self.cfg = cfg
        self.people: list[_Person] = []

    def update(self, t: float, rgb: np.ndarray, dets: list[Detection],
               frames: int = 1) -> list[tuple[_Person, Detection, np.ndarray]]:
        """Who is who among `dets` at time t, `frames` decoded frames after the last update."""
        hists = [appearance(rgb, d.box) for d in dets]
        pairs, matched = [], []
        for pi, p in enumerate(self.people):
            gap = t - p.last
            if gap > self.cfg.forget_s:
                continue
            for di, d in enumerate(dets):
                dist = _distance(p.hist, hists[di])
                overlap = _iou(p.box, d.box) if gap <= RECENT_S else 0.0
                if overlap > 0.1 and dist <= APPEARANCE_MAX:
                    pairs.append(((1 - overlap) + dist, pi, di))
                elif (reid := min(dist, _distance(p.reference, hists[di]))) <= REID_MAX:
                    pairs.append((1 + reid, pi, di))
        taken_p, taken_d, out = set(), set(), []
        for _, pi, di in sorted(pairs):
            if pi in taken_p or di in taken_d:
                continue
            taken_p.add(pi)
            taken_d.add(di)
            p, d = self.people[pi], dets[di]
            recent = t - p.last <= RECENT_S
            a = _smoothing(self.cfg.smooth, frames)
            p.box = a * d.box + (1 - a) * p.box if recent else d.box.copy()
            p.hist = 0.9 * p.hist + 0.1 * hists[di]
            p.last = t
            out.append((p, d, p.box))
            matched.append((p, di))
        for di, d in enumerate(dets):
            if di not in taken_d:
                p = _Person(len(self.people) + 1, d.box.copy(), hists[di], t, _Builder())
                self.people.append(p)
                out.append((p, d, p.box))
                matched.append((p, di))
        regions = [_appearance_region(d.box) for d in dets]
        for p, di in matched:  # a face alone in its region adds to its person's reference appearance
            if all(_iou(regions[di], r) == 0.0 for j, r in enumerate(regions) if j != di):
                p.clean = hists[di].copy() if p.clean is None else p.clean + hists[di]
                p.n_clean += 1
        return out

    def merge_returning(self, frame_times: list[float]) -> None:
        """After the video: a track that starts after an earlier one ended (within forget_s) and whose
        reference appearance matches it (REID_MAX) is that person come back: a face that reappears from
        behind another is first seen half covered, too unlike its person to be matched there and then."""
        kept: list[_Person] = []
        for p in self.people:
            if not p.builder.hits:
                continue
            start = min(p.builder.hits)
            for q in kept:
                end = max(q.builder.hits)
                if (end < start and frame_times[start] - frame_times[end] <= self.cfg.forget_s
                        and _distance(q.reference, p.reference) <= REID_MAX):
                    q.absorb(p)
                    break
            else:
                kept.append(p)
        self.people = kept


PENDING = 32  #: detected frames waiting for the tracking worker at most (a few MB each at most)


def track_people(frames: Iterable[Frame], cfg: FaceConfig, detector: FaceDetector,
                 hook: Hook | None = None, total: int | None = None,
                 reader: BlendshapeReader | None = None) -> tuple[np.ndarray, tuple[Person, ...]]:
    """Every face on the first frame of each tick (every frame with cfg.every_frame), each person with a
    stable id, their own crops, and how much their mouth moves from each frame to the next (mouth_motion; on
    the frames between analysed ones, on their box followed by the short-range detector alone: the module's
    docstring says why). The video thread decodes and
    detects; one worker thread, in frame order, does all the per-person work (identities, crops, mouth
    movement) beside the decoding and detection of the next frames (at most PENDING frames wait), so a
    second person adds little to the video thread. Returns the frame times and the people (tracks seen for
    less than cfg.min_person_s and in less than half of the frames dropped; ids renumbered 1, 2, ... in
    order of first appearance, never reused)."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    times: list[float] = []
    seen: set[int] = set()
    analysed: list[int] = []
    tracker = _PeopleTracker(cfg)

    def mouth(p: _Person, frame: Frame, box: np.ndarray) -> None:
        patches = mouth_patches(frame.rgb, box)
        m = mouth_motion(p.patches if p.last_frame == frame.index - 1 else None, patches)
        p.patches, p.last_frame = patches, frame.index
        if np.isfinite(m):
            p.builder.mouth[frame.index] = m

    def follow(frame: Frame, first: bool, dets: list[Detection], step: int) -> None:
        """On the worker, in frame order, on an analysed frame: who is who, their crops, and their mouth
        movement since the previous frame."""
        for p, det, box in tracker.update(frame.time_s, frame.rgb, dets, step):
            p.builder.add(frame, det, box, first, cfg, reader)
            followed = p.last_frame == frame.index - 1 and p.mouth_box is not None
            p.mouth_box = cfg.smooth * det.box + (1 - cfg.smooth) * p.mouth_box if followed else box.copy()
            mouth(p, frame, p.mouth_box)

    def follow_between(frame: Frame, dets: list[Detection]) -> None:
        """On the worker, on a frame between analysed ones: the mouth movement of everyone in view since the
        previous frame, on their box followed from frame to frame by overlap with the short-range detector's
        faces (smoothed as on analysed frames; held where none overlaps): the box's own movement with the jaw
        is part of what the mouth measure reads."""
        for p in tracker.people:
            if p.last_frame != frame.index - 1 or p.mouth_box is None:
                continue
            if dets:
                best = max(dets, key=lambda d: _iou(p.mouth_box, d.box))
                if _iou(p.mouth_box, best.box) > 0.1:
                    p.mouth_box = cfg.smooth * best.box + (1 - cfg.smooth) * p.mouth_box
            mouth(p, frame, p.mouth_box)

    pending: deque = deque()
    looked = found_far = -np.inf  # when the full-range detector last looked; last found a face only it saw
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="emoannot-track") as pool:
        try:
            for frame, first in _frames_and_ticks(frames, times, seen, hook, total):
                t = frame.time_s
                if first or cfg.every_frame:
                    look_far = t - found_far <= FAR_KEEP_S or t - looked >= FAR_EVERY_S
                    dets, found = detector.detect_everyone(frame.rgb, look_far)
                    looked, found_far = (t if look_far else looked), (t if found else found_far)
                    step = frame.index - analysed[-1] if analysed else 1
                    analysed.append(frame.index)
                    pending.append(pool.submit(follow, frame, first, dets, step))
                else:  # the short-range detector alone, for the boxes the mouth movement is measured on
                    pending.append(pool.submit(follow_between, frame, detector.detect_near(frame.rgb)))
                while len(pending) > PENDING or (pending and pending[0].done()):
                    pending.popleft().result()  # raises what the worker raised
            while pending:
                pending.popleft().result()
        finally:
            for f in pending:  # an error or an interrupt: the frames still waiting are not worked on
                f.cancel()
    tracker.merge_returning(times)
    times_arr = np.asarray(times, dtype=np.float64)
    analysed_mask = _mask(analysed, len(times))
    people = []
    for p in tracker.people:
        track = p.builder.build(times_arr, seen, analysed_mask)
        # flicker is short AND rare: a face seen in most frames of a clip shorter than min_person_s is a person
        if len(p.builder.hits) and (_span(track) >= cfg.min_person_s or track.coverage >= 0.5):
            people.append(Person(len(people) + 1, track, p.builder.mouth_series(len(times_arr))))
    return times_arr, tuple(people)


def _span(track: FaceTrack) -> float:
    """Seconds of video in which the face was seen (frames present x the median frame interval)."""
    if track.n_frames < 2:
        return 0.0
    return float(track.present.sum() * np.median(np.diff(track.times)))
