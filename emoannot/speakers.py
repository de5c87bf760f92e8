"""Who is speaking: each stretch of speech (voice-activity segments cut into windows of at most WINDOW_S)
goes to the visible person whose mouth moves in step with the voice, or to nobody (off-screen speech, a
still face).

Mouth movement against the audio energy: faces.track_people measures, at every frame, how much each
person's mouth moved beyond their eyes region (optical flow; head movement cancels out). Within a window,
that series is correlated (Pearson) with the loudness of the audio at the same frames (log RMS over 80 ms),
allowing the mouth to lead or trail the sound by LAGS_S; a person's sync is their best correlation. Among
the people seen in at least SEEN_MIN of the window's frames whose sync reaches SYNC_MIN, the speaker is the
one with the highest sync plus PRIOR x their sync over all the speech of the video (a window of a few
seconds is weak evidence; who follows the voice over the whole video is likely still speaking). A window
nobody reaches SYNC_MIN in goes to the person who wins over all the speech, if seen in it. Someone mouthing
words to another sound, or moving their face while listening, does not move in step with this voice.
"""
from __future__ import annotations

import numpy as np

from emoannot.records import Person, Segment
from emoannot.timeline import MODEL_FPS, n_ticks

WINDOW_S = 3.0  #: speech is attributed in windows of at most this long (turns inside a segment)
SYNC_MIN = 0.05  #: the lowest mouth-voice correlation that makes a speaker
SEEN_MIN = 0.5  #: a person must be seen in this share of a window's frames to be its speaker
LAGS_S = (-0.08, 0.16)  #: the sound may come this much before (negative) or after the mouth movement
PRIOR = 0.5  #: weight of a person's sync over all the speech in each window's choice
MIN_FRAMES = 8  #: fewer frames than this in a window: too few to correlate, nobody
#: a mouth whose median movement in a window is below this (optical flow, pixels per frame of the 48 x 32 mouth
#: patch: faces.mouth_motion) is still there: video noise, not speech (speaking mouths: 0.2-0.8)
MOVE_MIN = 0.05
ENERGY_RATE = 100  #: energy_track values per second
ENERGY_WINDOW_S = 0.08


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


def windows(speech: tuple[Segment, ...]) -> list[tuple[float, float]]:
    """The speech as (start, end) seconds, each segment cut into equal parts of at most WINDOW_S."""
    out = []
    for s in speech:
        parts = max(1, int(np.ceil((s.end - s.start) / WINDOW_S)))
        edges = np.linspace(s.start, s.end, parts + 1)
        out += [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    return out


def sync(mouth: np.ndarray, times: np.ndarray, energy: np.ndarray) -> float:
    """The best correlation of a mouth-movement series with the loudness over LAGS_S (NaN: too few frames, or
    a mouth that does not move)."""
    ok = np.isfinite(mouth)
    if ok.sum() < MIN_FRAMES or np.median(mouth[ok]) < MOVE_MIN or np.std(mouth[ok]) == 0:
        return float("nan")
    best = -np.inf
    for lag in np.arange(LAGS_S[0], LAGS_S[1] + 1e-9, 0.04):
        loud = loudness_at(energy, times[ok] + lag)
        if np.std(loud) > 0:
            best = max(best, float(np.corrcoef(mouth[ok], loud)[0, 1]))
    return best if np.isfinite(best) else float("nan")


def syncs(sel: np.ndarray, people: tuple[Person, ...], times: np.ndarray, energy: np.ndarray) -> dict[int, float]:
    """For the frames `sel`: person id -> sync, for the people seen in at least SEEN_MIN of those frames
    (NaN: seen, but too few frames or no movement to correlate)."""
    out = {}
    for p in people:
        m = p.mouth[sel]
        if np.isfinite(m).sum() >= max(1, SEEN_MIN * sel.sum()):
            out[p.id] = sync(m, times[sel], energy)
    return out


def attribute(people: tuple[Person, ...], speech: tuple[Segment, ...], times: np.ndarray, energy: np.ndarray,
              k: int) -> dict[int, np.ndarray]:
    """person id -> [K] bool: the ticks where that person is the one speaking (`times`: the frame times,
    `energy`: energy_track of the audio); the rule is in the module's docstring."""
    out = {p.id: np.zeros(k, bool) for p in people}
    in_speech = np.zeros(len(times), bool)
    for s in speech:
        in_speech |= (times >= s.start) & (times < s.end)
    overall = {pid: v for pid, v in syncs(in_speech, people, times, energy).items() if np.isfinite(v)}
    winner = max(overall, key=overall.get, default=None)
    if winner is not None and overall[winner] < SYNC_MIN:
        winner = None
    for w in windows(speech):
        here = syncs((times >= w[0]) & (times < w[1]), people, times, energy)
        able = {pid: v + PRIOR * overall.get(pid, 0.0) for pid, v in here.items() if np.isfinite(v) and v >= SYNC_MIN}
        who = max(able, key=able.get) if able else (winner if winner in here else None)
        if who is not None:
            out[who][int(np.floor(w[0] * MODEL_FPS)):min(k, n_ticks(w[1]))] = True
    return out
