"""Face stage: one main face (track_faces) or every person with a stable id and how much their mouth moves
(track_people); aligned grey crops and the face landmarker's blendshapes for the visual encoder.

Faces are analysed at the model's rate: detection, tracking, crops and blendshapes run on the first decoded
frame in each tick's interval (emoannot.timeline; `analysed_frames`), and the frames between take their face
box interpolated between the analysed frames around them and their `present` and score from the nearer of
the two (`_fill_between`). FaceConfig.every_frame (`--every-frame`) analyses every decoded frame instead;
the crops and blendshapes stay one per tick either way. With several people, mouth movement (who is
speaking) is still measured from every frame to the next, on each person's box followed from frame to frame
by the short-range detector alone (FaceDetector.detect_near, about 2 ms a frame): the box's small movements
with the jaw are part of what that measure reads, and with boxes interpolated between analysed frames the
speaker attribution lost 0.11 of the speech on turn-taking clips (benchmarks/people.py)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from emoannot.config import FaceConfig
from emoannot.features.blendshapes import FACE_PX, N_BLENDSHAPES, REGION_SIZE, BlendshapeReader
from emoannot.native import native_stderr_silenced
from emoannot.records import CROP_SIZE, FaceTrack, Frame, Person
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


# --- several people -------------------------------------------------------------------------------------------
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


#: the mouth region (x0, x1, y0, y1 as fractions of the face box: the lower half, its middle 60 %) and the
#: eyes region, and the sizes (w, h) they are compared at
MOUTH_REGION, MOUTH_SIZE = (0.2, 0.8, 0.55, 1.05), (48, 32)
EYES_REGION, EYES_SIZE = (0.1, 0.9, 0.15, 0.45), (32, 16)
#: Farneback optical flow on those patches: pyramid scale, levels, window, iterations, poly_n, poly_sigma. Only
#: the mean flow of the eyes patch is used (the head's movement): a coarser patch and one pass give it at a
#: third of the cost, with the same speaker attribution on the 45 benchmark clips (benchmarks/people.py)
MOUTH_FLOW, EYES_FLOW = (0.5, 2, 9, 2, 5, 1.1), (0.5, 1, 7, 1, 5, 1.1)
#: eyes-patch pixels -> mouth-patch pixels, x and y (the two regions have different sizes in the face box)
EYES_TO_MOUTH = (np.array(MOUTH_SIZE, np.float32) / np.subtract(MOUTH_REGION[1::2], MOUTH_REGION[::2])
                 * np.subtract(EYES_REGION[1::2], EYES_REGION[::2]) / np.array(EYES_SIZE)).astype(np.float32)


def mouth_patches(rgb: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The mouth region and the eyes region of a face, small and grey, at MOUTH_SIZE and EYES_SIZE (None when
    either is a sliver)."""
    import cv2

    h, w = rgb.shape[:2]
    x, y, bw, bh = box
    out = []
    for (fx0, fx1, fy0, fy1), size in ((MOUTH_REGION, MOUTH_SIZE), (EYES_REGION, EYES_SIZE)):
        x0, x1 = int(max(0, x + fx0 * bw)), int(min(w, x + fx1 * bw))
        y0, y1 = int(max(0, y + fy0 * bh)), int(min(h, y + fy1 * bh))
        if y1 - y0 < 4 or x1 - x0 < 4:
            return None
        out.append(cv2.resize(cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA))
    return out[0], out[1]


def mouth_motion(prev: tuple[np.ndarray, np.ndarray] | None, now: tuple[np.ndarray, np.ndarray] | None) -> float:
    """How much the mouth moved between two frames' mouth_patches beyond what the whole face moved: the mean
    length of the optical flow in the mouth region once the mean flow of the eyes region (the head moving, the
    camera panning) is taken away; in pixels of the 48 x 32 mouth patch, so the same for near and far faces
    (NaN without both frames)."""
    import cv2

    if prev is None or now is None:
        return float("nan")
    mouth = cv2.calcOpticalFlowFarneback(prev[0], now[0], None, *MOUTH_FLOW, 0)
    eyes = cv2.calcOpticalFlowFarneback(prev[1], now[1], None, *EYES_FLOW, 0)
    rel = mouth - eyes.reshape(-1, 2).mean(axis=0) * EYES_TO_MOUTH
    return float(np.hypot(rel[..., 0], rel[..., 1]).mean())


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


def empty_track(times: np.ndarray) -> FaceTrack:
    """The FaceTrack of nobody: no face in any frame (a video without people)."""
    return _Builder().build(times, {tick_of_time(t) for t in times})


def _fill_gaps(crops: np.ndarray, mask: np.ndarray, seen: np.ndarray, blendshapes: np.ndarray) -> None:
    """Ticks no frame reached (frame rate below MODEL_FPS, dropped frames) take the previous tick's crop and
    blendshapes."""
    for k in range(1, len(seen)):
        if not seen[k]:
            crops[k], mask[k], blendshapes[k] = crops[k - 1], mask[k - 1], blendshapes[k - 1]
