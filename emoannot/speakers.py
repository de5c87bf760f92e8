"""Who is speaking: each stretch of speech (voice-activity segments cut into windows of at most WINDOW_S)
goes to the visible person whose mouth moves with the voice, or to nobody (off-screen speech).

Mouth movement against the voice: for each person, faces.track_people measures how much the mouth moves
in each tick beyond the movement of the whole face. A speaker's mouth moves while the voice sounds and
rests in its pauses; a listener's (or someone mouthing along to something else) moves the same either
way. So a person's score in a window is their mouth movement there divided by their own movement while
nobody speaks (their baseline: the mean over the ticks outside speech where they are visible, or, when
there are fewer than BASELINE_MIN_TICKS of those, the 25th percentile of all their ticks). The person with
the highest score speaks, if it reaches RATIO_MIN and they are seen in at least SEEN_MIN of the window;
otherwise nobody visible does.
"""
from __future__ import annotations

import numpy as np

from emoannot.records import Person, Segment
from emoannot.timeline import MODEL_FPS, n_ticks, segments_to_mask, tick_times

WINDOW_S = 2.0  #: speech is attributed in windows of at most this long (turns inside a segment)
RATIO_MIN = 1.3  #: mouth movement while speaking must exceed the person's own baseline by this factor
SEEN_MIN = 0.5  #: a person must be seen in this share of a window's ticks to be its speaker
BASELINE_MIN_TICKS = 5


def windows(speech: tuple[Segment, ...], k: int) -> list[tuple[int, int]]:
    """The speech as tick ranges [k0, k1) of at most WINDOW_S (a segment is cut into equal parts)."""
    out = []
    for s in speech:
        k0, k1 = int(np.floor(s.start * MODEL_FPS)), min(k, n_ticks(s.end))
        if k1 <= k0:
            continue
        parts = int(np.ceil((k1 - k0) / (WINDOW_S * MODEL_FPS)))
        edges = np.linspace(k0, k1, parts + 1).round().astype(int)
        out += [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    return out


def baseline(mouth: np.ndarray, speaking_anyone: np.ndarray) -> float:
    """A person's mouth movement while nobody speaks (see the module docstring)."""
    quiet = mouth[~speaking_anyone & np.isfinite(mouth)]
    if len(quiet) >= BASELINE_MIN_TICKS:
        return float(quiet.mean())
    seen = mouth[np.isfinite(mouth)]
    return float(np.percentile(seen, 25)) if len(seen) else float("nan")


def speaker_of(window: tuple[int, int], people: tuple[Person, ...], baselines: dict[int, float]) -> int | None:
    """The id of the person speaking in `window`, or None."""
    k0, k1 = window
    best, best_score = None, RATIO_MIN
    for p in people:
        m = p.mouth[k0:k1]
        ok = np.isfinite(m)
        if ok.sum() < max(1, SEEN_MIN * (k1 - k0)):
            continue
        base = max(baselines[p.id], 0.05)  # grey levels: a mouth as still as the eyes must not divide by ~0
        score = float(m[ok].mean()) / base
        if score >= best_score:
            best, best_score = p.id, score
    return best


def attribute(people: tuple[Person, ...], speech: tuple[Segment, ...], k: int) -> dict[int, np.ndarray]:
    """person id -> [K] bool: the ticks where that person is the one speaking."""
    out = {p.id: np.zeros(k, bool) for p in people}
    anyone = segments_to_mask(speech, tick_times(k))
    baselines = {p.id: baseline(p.mouth[:k], anyone) for p in people}
    for w in windows(speech, k):
        who = speaker_of(w, people, baselines)
        if who is not None:
            out[who][w[0]:w[1]] = True
    return out
