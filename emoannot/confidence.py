"""How much a frame's fused estimate can be trusted: the `confidence` and `emotion_p` columns.

    confidence = certainty x agreement x proximity, in [0, 1], empty where valence is empty

- certainty: how far the category's probability `emotion_p` stands above chance, (p - 1/C) / (1 - 1/C) for
  C categories (0 at chance, 1 when the fusion is sure); 1 with weights that have no category head.
- agreement: where both the face and the voice have their own estimate at the frame, 1 - |valence_visual -
  valence_audio| / 2 (1 when they agree, 0 when one says +1 and the other -1); 1 where only one of them is
  present (nothing to disagree with: `sources` says which).
- proximity: 1 at a frame where some modality is present (`sources` not empty), falling linearly to 0 at
  EVIDENCE_S from the nearest such frame (the values there are carried over from the evidence).

A relative index for finding the stretches to check by eye, not a calibrated probability that the numbers
are right. DISAGREE_AT and DISAGREE_SHARE decide the warning that the face and the voice disagree for most of
a clip (manifest and terminal).
"""
from __future__ import annotations

import numpy as np

from emoannot.timeline import EVIDENCE_S

LOW = 0.25  #: below this a frame is shown as low confidence (overlay, HTML report)
DISAGREE_AT = 0.5  #: face and voice valence further apart than this disagree...
DISAGREE_SHARE = 0.5  #: ...and a clip where they do on more than this share of their common frames is warned of
DISAGREE_MIN_S = 1.0  #: (only when they are both present for at least this long)


def emotion_p(probs: np.ndarray | None, n: int) -> np.ndarray:
    """[N] the probability of each frame's category (the `emotion` column); NaN without one."""
    if probs is None or not len(probs):
        return np.full(n, np.nan, np.float32)
    ok = np.isfinite(probs).all(1)
    return np.where(ok, np.nan_to_num(probs, nan=0.0).max(1), np.nan).astype(np.float32)


def frame_confidence(times: np.ndarray, valence: np.ndarray, sources: tuple[str, ...], per_modality: dict,
                     probs: np.ndarray | None) -> np.ndarray:
    """[N] float32 confidence (the module's formula), NaN where valence is NaN."""
    n = len(times)
    if n == 0:
        return np.zeros(0, np.float32)
    p = emotion_p(probs, n)
    c = probs.shape[1] if probs is not None and probs.ndim == 2 and probs.shape[1] > 1 else 0
    certainty = np.clip((p - 1 / c) / (1 - 1 / c), 0, 1) if c else np.ones(n)
    certainty = np.where(np.isfinite(certainty), certainty, 1.0)
    vv = per_modality.get("valence_visual", np.full(n, np.nan))
    va = per_modality.get("valence_audio", np.full(n, np.nan))
    both = np.isfinite(vv) & np.isfinite(va)
    agreement = np.where(both, 1 - np.abs(np.nan_to_num(vv) - np.nan_to_num(va)) / 2, 1.0)
    proximity = _proximity(np.asarray(times, np.float64), np.array([bool(s) for s in sources]) if sources
                           else np.ones(n, bool))
    out = certainty * np.clip(agreement, 0, 1) * proximity
    return np.where(np.isfinite(valence), out, np.nan).astype(np.float32)


def _proximity(times: np.ndarray, present: np.ndarray) -> np.ndarray:
    """1 where present; else 1 - (seconds to the nearest present frame) / EVIDENCE_S, at least 0."""
    if present.all():
        return np.ones(len(times))
    if not present.any():
        return np.zeros(len(times))
    at = times[present]
    pos = np.searchsorted(at, times)
    left = np.abs(times - at[np.clip(pos - 1, 0, len(at) - 1)])
    right = np.abs(at[np.clip(pos, 0, len(at) - 1)] - times)
    return np.where(present, 1.0, np.clip(1 - np.minimum(left, right) / EVIDENCE_S, 0, 1))


def disagreement(times: np.ndarray, per_modality: dict) -> str | None:
    """The warning that the face and the voice disagree on valence for most of the clip, or None."""
    vv, va = per_modality.get("valence_visual"), per_modality.get("valence_audio")
    if vv is None or va is None or len(times) < 2:
        return None
    both = np.isfinite(vv) & np.isfinite(va)
    step = float(np.median(np.diff(times)))
    if both.sum() * step < DISAGREE_MIN_S:
        return None
    share = float((np.abs(vv[both] - va[both]) > DISAGREE_AT).mean())
    if share <= DISAGREE_SHARE:
        return None
    face, voice = float(np.mean(vv[both])), float(np.mean(va[both]))
    return (f"the face and the voice disagree on valence (by more than {DISAGREE_AT}) in {share:.0%} of the "
            f"frames where both are present (face {face:+.2f}, voice {voice:+.2f} on average): the fused value "
            "is a compromise there and its confidence is low; --extra-columns writes each one's estimate.")
