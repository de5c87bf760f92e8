"""Who is speaking: at every tick of speech, the visible person whose mouth moves in step with the voice,
or nobody (off-screen speech, a still face).

Mouth movement against the audio energy: faces.track_people measures, at every frame, how much each
person's mouth moved beyond their eyes region (optical flow; head movement cancels out). Around each tick
of speech (every frame within LOCAL_S, pauses included: a speaker's mouth rests when the sound does), that
series is correlated (Pearson) with the loudness of the audio at the same frames (log RMS over 80 ms),
allowing the mouth to lead or trail the sound by LAGS_S: a person's local sync is their best correlation,
plus PRIOR x their sync over all the speech frames of the video. A person counts at a tick only if seen in
at least SEEN_MIN of those frames with a moving mouth (MOVE_MIN).
"Nobody" scores SYNC_MIN. The speaker sequence is the one with the highest total score over the ticks
(Viterbi), where each change of speaker inside continuous speech costs SWITCH (changes across a pause of
PAUSE_S or more are free): a few seconds of speech are weak evidence, so one speaker's stretch is decided on
all of it, while a turn that lasts is still found. Last, each person keeps the speech given to them only if,
over those stretches, their mouth follows the voice better than chance: by at least Z_MIN standard
deviations of their sync with the same voice shifted by 0.5-3 s (above_chance). Someone mouthing words to
another sound (an unseen speaker), or moving their face while listening, does not move in step with this
voice.
"""
from __future__ import annotations

import numpy as np

from emoannot.records import Person, Segment
from emoannot.timeline import MODEL_FPS, segments_to_mask, tick_times

LOCAL_S = 1.5  #: a tick's local sync is measured on every frame within this many seconds of it
SYNC_MIN = 0.05  #: the score of "nobody": the lowest mouth-voice correlation that makes a speaker
SEEN_MIN = 0.5  #: a person must be seen in this share of those frames to be the speaker
LAGS_S = (-0.08, 0.16)  #: the sound may come this much before (negative) or after the mouth movement
PRIOR = 0.25  #: weight of a person's sync over all the speech, added to their local sync
SWITCH = 0.08  #: cost of a change of speaker, in sync x seconds (0.1 more sync for 0.8 s pays for one)
PAUSE_S = 0.5  #: a change of speaker across a pause in the speech at least this long costs nothing
MIN_FRAMES = 8  #: fewer frames than this: too few to correlate
#: a person keeps the speech the sequence gave them only if, over those stretches, their mouth follows the voice
#: this many standard deviations better than it follows the same voice shifted by NULL_SHIFTS_S (chance)
Z_MIN = 0.5
NULL_SHIFTS_S = np.concatenate([-np.arange(0.5, 3.01, 0.1), np.arange(0.5, 3.01, 0.1)])
#: a mouth whose median movement in a window is below this (optical flow, pixels per frame of the 48 x 32 mouth
#: patch: faces.mouth_motion) is still there: video noise, not speech (speaking mouths: 0.2-0.8)
MOVE_MIN = 0.05
ENERGY_RATE = 100  #: energy_track values per second
ENERGY_WINDOW_S = 0.08


# --- mouth movement (measured by faces.people at every frame) -------------------------------------------------
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


def energy_track(audio: np.ndarray, rate: int) -> np.ndarray:
    """Log RMS loudness of `audio`, ENERGY_RATE values per second (value i centred at i / ENERGY_RATE s)."""
    hop, half = rate // ENERGY_RATE, int(rate * ENERGY_WINDOW_S / 2)
    n = len(audio) // hop
    if n == 0:
        return np.zeros(0, np.float32)
    sq = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    centre = np.arange(n) * hop
    lo, hi = np.clip(centre - half, 0, len(audio)), np.clip(centre + half, 0, len(audio))
    return np.log(np.sqrt((sq[hi] - sq[lo]) / np.maximum(hi - lo, 1)) + 1e-5).astype(np.float32)


def loudness_at(energy: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The energy track at the given times (nearest value; the quietest value outside the audio)."""
    if len(energy) == 0:
        return np.full(len(times), np.nan)
    idx = np.round(np.asarray(times) * ENERGY_RATE).astype(int)
    inside = (idx >= 0) & (idx < len(energy))
    return np.where(inside, energy[np.clip(idx, 0, len(energy) - 1)], energy.min())


def window_syncs(mouth: np.ndarray, times: np.ndarray, energy: np.ndarray, lo: np.ndarray, hi: np.ndarray
                 ) -> np.ndarray:
    """[W] for every window w of frames lo[w]:hi[w] at once (running sums): the best correlation (Pearson) of
    the mouth-movement series with the loudness over LAGS_S; NaN where the person is seen in fewer than
    SEEN_MIN of those frames or in fewer than MIN_FRAMES, or their mouth does not move (MOVE_MIN)."""
    ok = np.isfinite(mouth)
    x = np.where(ok, mouth, 0.0).astype(np.float64)
    run = lambda v: np.concatenate([[0.0], np.cumsum(v)])  # noqa: E731
    count, sx, sxx = run(ok.astype(np.float64)), run(x), run(x * x)
    n = count[hi] - count[lo]
    best = np.full(len(lo), -np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, vx = (sx[hi] - sx[lo]) / n, (sxx[hi] - sxx[lo]) / n - ((sx[hi] - sx[lo]) / n) ** 2
        for lag in np.arange(LAGS_S[0], LAGS_S[1] + 1e-9, 0.04):
            y = np.where(ok, loudness_at(energy, times + lag).astype(np.float64), 0.0)
            sy, syy, sxy = run(y), run(y * y), run(x * y)
            my = (sy[hi] - sy[lo]) / n
            vy = (syy[hi] - syy[lo]) / n - my ** 2
            r = ((sxy[hi] - sxy[lo]) / n - mx * my) / np.sqrt(vx * vy)
            best = np.where(np.isfinite(r) & (vx > 1e-12) & (vy > 1e-12), np.maximum(best, r), best)
    moving = np.array([n[w] > 0 and np.median(mouth[lo[w]:hi[w]][ok[lo[w]:hi[w]]]) >= MOVE_MIN
                       for w in range(len(lo))], bool)
    keep = (n >= np.maximum(MIN_FRAMES, SEEN_MIN * (hi - lo))) & moving & np.isfinite(best)
    return np.where(keep, np.clip(best, -1.0, 1.0), np.nan)


def attribute(people: tuple[Person, ...], speech: tuple[Segment, ...], times: np.ndarray, energy: np.ndarray,
              k: int) -> dict[int, np.ndarray]:
    """person id -> [K] bool: the ticks where that person is the one speaking (`times`: the frame times,
    `energy`: energy_track of the audio); the rule is in the module's docstring."""
    out = {p.id: np.zeros(k, bool) for p in people}
    centres = tick_times(k)
    ticks = np.flatnonzero(segments_to_mask(speech, centres))
    if not people or not len(ticks):
        return out
    spoken = np.flatnonzero(segments_to_mask(speech, times))
    whole = np.array([0]), np.array([len(spoken)])
    overall = {p.id: window_syncs(p.mouth[spoken], times[spoken], energy, *whole)[0] for p in people}
    lo = np.searchsorted(times, centres[ticks] - LOCAL_S, "left")  # frame times are increasing
    hi = np.searchsorted(times, centres[ticks] + LOCAL_S, "right")
    score = np.full((len(ticks), len(people) + 1), SYNC_MIN)  # the last column: nobody
    for col, p in enumerate(people):
        local = window_syncs(p.mouth, times, energy, lo, hi)
        score[:, col] = np.where(np.isfinite(local), local + PRIOR * np.nan_to_num(overall[p.id]), -np.inf)
    step = 1 / MODEL_FPS
    pause = np.diff(ticks) * step >= PAUSE_S + step - 1e-9
    path = viterbi(score * step, np.where(pause, 0.0, SWITCH))
    for col, p in enumerate(people):
        given = path == col
        if given.any() and above_chance(p.mouth, times, energy, _covered(lo[given], hi[given], len(times))) >= Z_MIN:
            out[p.id][ticks[given]] = True
    return out


def _covered(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    """The indices in any of the ranges lo[i]:hi[i] (of 0..n-1), in order."""
    edges = np.zeros(n + 1, np.int64)
    np.add.at(edges, lo, 1)
    np.add.at(edges, hi, -1)
    return np.flatnonzero(np.cumsum(edges)[:n] > 0)


def above_chance(mouth: np.ndarray, times: np.ndarray, energy: np.ndarray, frames: np.ndarray) -> float:
    """How far (in standard deviations) the mouth's sync with the voice over `frames` stands above its sync
    with the same voice shifted by NULL_SHIFTS_S: a person whose lips merely move while someone unseen speaks
    scores about 0 (-inf: too few frames to tell)."""
    m, t = mouth[frames], times[frames]
    whole = np.array([0]), np.array([len(frames)])
    real = window_syncs(m, t, energy, *whole)[0]
    null = np.array([window_syncs(m, t, np.roll(energy, int(round(s * ENERGY_RATE))), *whole)[0]
                     for s in NULL_SHIFTS_S])
    null = null[np.isfinite(null)]
    if not np.isfinite(real) or len(null) < 2 or np.std(null) == 0:
        return -np.inf
    return float((real - null.mean()) / null.std())


def viterbi(score: np.ndarray, switch: np.ndarray) -> np.ndarray:
    """[T] the state sequence with the highest sum of score[t, state] minus switch[t - 1] at each change
    between t - 1 and t (score: [T, S], -inf where a state is impossible; switch: [T - 1])."""
    n_t, n_s = score.shape
    total = score[0].copy()
    back = np.zeros((n_t, n_s), np.int64)
    stay = np.eye(n_s, dtype=bool)
    for t in range(1, n_t):
        options = total[:, None] - np.where(stay, 0.0, switch[t - 1])  # [from, to]
        back[t] = options.argmax(axis=0)
        total = options.max(axis=0) + score[t]
    path = np.zeros(n_t, np.int64)
    path[-1] = int(total.argmax())
    for t in range(n_t - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path
