"""From each person's per-tick fusion output to the Annotation: values at every decoded frame (interpolated
between tick centres, emoannot.timeline's convention), NaN where no modality is within EVIDENCE_S, the
modalities present at each frame, each modality's own estimate, and what the video shares."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emoannot.config import Settings
from emoannot.confidence import disagreement
from emoannot.records import (SOURCE_NAMES, Annotation, Extracted, Features, ModelRecord, PersonInput,
                              PersonResult)
from emoannot.timeline import EVIDENCE_S, segments_to_mask, tick_of_time, ticks_to_frames, within


@dataclass(frozen=True)
class FrameValues:
    """The fusion's per-tick output on the frames (frame_values)."""
    valence: np.ndarray  #: [N] float32, NaN without evidence
    arousal: np.ndarray  #: [N] float32
    sources: tuple[str, ...]  #: [N]
    tick_va: np.ndarray  #: [K, 2], the no-evidence ticks emptied
    probs: np.ndarray | None  #: [N, C] category probabilities, NaN rows without evidence


def frame_values(times: np.ndarray, features: Features, tick_va: np.ndarray,
                 tick_probs: np.ndarray | None = None) -> FrameValues:
    """Per-tick fusion -> one value per decoded frame (emoannot.timeline's convention), NaN where no modality
    is within EVIDENCE_S, and the modalities present at each frame. Category probabilities are interpolated
    like valence and renormalised."""
    # no information, no number: a frame gets a value only with some modality within EVIDENCE_S of it
    evidence = within(np.logical_or.reduce([f.mask for f in features]), EVIDENCE_S)
    tick_va = np.where(evidence[:, None], tick_va, np.nan).astype(np.float32)
    filled = _nearest_filled(tick_va)
    tick = tick_of_time(times, len(tick_va))
    known = evidence[tick]
    valence = np.where(known, np.clip(ticks_to_frames(times, filled[:, 0]), -1, 1), np.nan).astype(np.float32)
    arousal = np.where(known, np.clip(ticks_to_frames(times, filled[:, 1]), -1, 1), np.nan).astype(np.float32)
    probs = None
    if tick_probs is not None:
        p = _nearest_filled(np.where(evidence[:, None], tick_probs, np.nan))
        p = np.stack([ticks_to_frames(times, p[:, c]) for c in range(p.shape[1])], 1).clip(0, None)
        p = p / np.maximum(p.sum(1, keepdims=True), 1e-9)
        probs = np.where(known[:, None], p, np.nan).astype(np.float32)
    present = np.stack([f.mask[tick] for f in features], 1)
    names = [SOURCE_NAMES[f.name] for f in features]
    sources = tuple("+".join(n for n, p in zip(names, row) if p) for row in present)
    return FrameValues(valence, arousal, sources, tick_va, probs)


def person_result(x: PersonInput, times: np.ndarray, tick_va: np.ndarray, tick_probs: np.ndarray | None = None,
                  classes: tuple[str, ...] = ()) -> PersonResult:
    """One person's per-tick fusion output -> their values at each decoded frame (emoannot.timeline's
    convention), with each modality's own estimate and where they speak."""
    tick = tick_of_time(times, len(tick_va))
    per_mod: dict[str, np.ndarray] = {}
    for f in x.features:
        va = np.where(f.mask[:, None], f.va, np.nan)[tick]
        per_mod[f"valence_{f.name}"] = va[:, 0].astype(np.float32)
        per_mod[f"arousal_{f.name}"] = va[:, 1].astype(np.float32)
    fv = frame_values(times, x.features, tick_va, tick_probs)
    speaking = x.speaking[tick_of_time(times, len(x.speaking))]
    return PersonResult(x.person.id, times, x.person.track, fv.valence, fv.arousal, fv.sources, speaking, per_mod,
                        fv.tick_va, classes if fv.probs is not None else (), fv.probs)


def to_annotation(ex: Extracted, fused: list[tuple[np.ndarray, np.ndarray | None]], seconds: dict[str, float],
                  models: tuple[ModelRecord, ...], settings: Settings, classes: tuple[str, ...] = ()) -> Annotation:
    """Each person's per-tick fusion output (`fused`, in ex.people's order) -> the Annotation: one value per
    decoded frame (emoannot.timeline's convention) for each person, and what the video shares."""
    times = ex.track.times
    speech = segments_to_mask(ex.transcript.speech, times)
    word = [""] * len(times)
    for w in ex.transcript.words:  # frames are sorted by time: two binary searches per word
        for i in range(int(np.searchsorted(times, w.start)), int(np.searchsorted(times, w.end))):
            word[i] = w.text.strip()
    people = tuple(person_result(x, times, *out, classes=classes) for x, out in zip(ex.people, fused))
    disagree = disagreement(times, people[ex.main].per_modality)
    return Annotation(info=ex.info, times=times, speech=speech, word=tuple(word), transcript=ex.transcript,
                      people=people, warnings=ex.warnings + ((disagree,) if disagree else ()), seconds=seconds,
                      models=models, settings=settings, classes=people[ex.main].classes, main=ex.main)


def _nearest_filled(x: np.ndarray) -> np.ndarray:
    """NaN rows replaced by the nearest finite row (so that interpolation reaches an evidence boundary)."""
    ok = np.isfinite(x).all(1)
    if ok.all() or not ok.any():
        return np.nan_to_num(x)
    idx, at = np.flatnonzero(ok), np.arange(len(x))
    pos = np.searchsorted(idx, at)
    left, right = idx[np.clip(pos - 1, 0, len(idx) - 1)], idx[np.clip(pos, 0, len(idx) - 1)]
    return x[np.where(np.abs(at - left) <= np.abs(right - at), left, right)]
