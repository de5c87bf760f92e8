"""`<name>.eaf` for ELAN (and the tools that import its .eaf): the video linked as the media, and
time-aligned tiers. Written with pympi-ling (EAF 2.8, which every ELAN since 4.9 opens).

Tiers (times in ms from the video's first frame, the CSV's time_s x 1000):
- valence, arousal: one annotation per steady stretch, a run of frames whose values stay within
  STEADY_RANGE of each other, labelled with the run's mean ("+0.21"); frames without a value (no face or
  speech within 1 s) get no annotation, so absent reads as absent in ELAN too;
- emotion: runs of the same most probable category ("happy", ...; absent without evidence);
- sources: runs of the same modalities ("face+voice+words", "face", ...);
- speech: the voice-activity segments; words: the recognised words;
- with --people all, for each person (tier participant "person N"): "person N valence", "person N arousal"
  (steady stretches, as above), "person N emotion" and "person N speaking".
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

import numpy as np

from emoannot.records import Annotation
from emoannot.timeline import video_end

STEADY_RANGE = 0.10  #: a steady stretch's values span at most this much (in [-1, 1] units)
TIERS = ("valence", "arousal", "emotion", "sources", "speech", "words")


def _ms(t: float) -> int:
    return int(round(t * 1000))


def steady_stretches(values: np.ndarray, times: np.ndarray, end: float,
                     tolerance: float = STEADY_RANGE) -> list[tuple[float, float, float]]:
    """(start, end, mean) of the runs of finite values whose range stays within `tolerance`; a frame lasts
    until the next frame's time (the last one until `end`)."""
    bounds = np.append(times, end)
    out: list[tuple[float, float, float]] = []
    i, n = 0, len(values)
    while i < n:
        if not np.isfinite(values[i]):
            i += 1
            continue
        lo = hi = values[i]
        j = i + 1
        while j < n and np.isfinite(values[j]) and max(hi, values[j]) - min(lo, values[j]) <= tolerance:
            lo, hi = min(lo, values[j]), max(hi, values[j])
            j += 1
        out.append((float(bounds[i]), float(bounds[j]), float(np.mean(values[i:j]))))
        i = j
    return out


def label_runs(labels: tuple[str, ...], times: np.ndarray, end: float) -> list[tuple[float, float, str]]:
    """(start, end, label) of the runs of equal non-empty labels."""
    bounds = np.append(times, end)
    out: list[tuple[float, float, str]] = []
    i, n = 0, len(labels)
    while i < n:
        j = i + 1
        while j < n and labels[j] == labels[i]:
            j += 1
        if labels[i]:
            out.append((float(bounds[i]), float(bounds[j]), labels[i]))
        i = j
    return out


def media_mime(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "video/*"


def build_eaf(a: Annotation, media_relative: str):
    """The pympi Eaf object for `a`; `media_relative` is the video's path relative to the .eaf's folder."""
    from pympi import Elan

    eaf = Elan.Eaf(author="emoannot")
    eaf.remove_tier("default")
    eaf.header = {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"}
    path = Path(a.info.path).resolve()
    eaf.add_linked_file(path.as_uri(), relpath=media_relative, mimetype=media_mime(path))
    for tier in TIERS:
        eaf.add_tier(tier)

    def add(tier: str, start: float, end: float, value: str, last: list[int]) -> None:
        s, e = max(_ms(start), last[0]), _ms(end)  # ELAN tiers may not overlap: start after the previous one
        if e > s:
            eaf.add_annotation(tier, s, e, value)
            last[0] = e

    end = video_end(a.times)
    for tier, series in (("valence", a.valence), ("arousal", a.arousal)):
        last = [0]
        for s, e, mean in steady_stretches(np.asarray(series, np.float64), a.times, end):
            add(tier, s, e, f"{mean:+.2f}", last)
    for tier, labels in (("emotion", a.emotion), ("sources", tuple(a.sources))):
        last = [0]
        for s, e, label in label_runs(labels, a.times, end):
            add(tier, s, e, label, last)
    last = [0]
    for seg in a.transcript.speech:
        add("speech", seg.start, min(seg.end, end), "speech", last)
    last = [0]
    for w in a.transcript.words:
        if w.text.strip():
            add("words", w.start, min(w.end, end), w.text.strip(), last)
    for p in a.tracked_people:  # --people all: each person's values and when they speak
        for name, series in (("valence", p.valence), ("arousal", p.arousal)):
            tier = f"person {p.id} {name}"
            eaf.add_tier(tier, part=f"person {p.id}")
            last = [0]
            for s, e, mean in steady_stretches(np.asarray(series, np.float64), a.times, end):
                add(tier, s, e, f"{mean:+.2f}", last)
        for name, labels in (("emotion", p.emotion), ("speaking", tuple("speaking" if x else "" for x in p.speaking))):
            tier = f"person {p.id} {name}"
            eaf.add_tier(tier, part=f"person {p.id}")
            last = [0]
            for s, e, label in label_runs(labels, a.times, end):
                add(tier, s, e, label, last)
    eaf.properties = [("lastUsedAnnotationId", eaf.maxaid)]  # ELAN numbers new annotations after it
    return eaf


def write_eaf(a: Annotation, path: Path, media_relative: str) -> None:
    from pympi import Elan

    xml = Elan.to_string(build_eaf(a, media_relative))
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + xml + "\n", encoding="utf-8")
