"""Stage records -> per-tick feature arrays on the time grid of emoannot.timeline, with masks:
visual.py (expression-CNN embeddings of the face crops), audio.py (whisper encoder states inside speech),
text.py (MiniLM vectors of the words being spoken). Each returns a records.ModalityFeatures."""
from __future__ import annotations

import numpy as np

from emoannot.records import ModalityFeatures

__all__ = ["ModalityFeatures", "fit_ticks", "fusion_input", "moving_mean"]


def fusion_input(f: ModalityFeatures) -> np.ndarray:
    """[K, D + 3]: the features, the unimodal estimate (0 where absent) and the mask bit."""
    va = np.where(f.mask[:, None], np.nan_to_num(f.va), 0.0)
    return np.concatenate([f.values, va, f.mask[:, None]], axis=1).astype(np.float32)


def fit_ticks(x: np.ndarray, k: int) -> np.ndarray:
    """Cut or zero-pad the first axis of a per-tick array to k ticks."""
    if len(x) >= k:
        return x[:k]
    return np.concatenate([x, np.zeros((k - len(x), *x.shape[1:]), x.dtype)])


def moving_mean(x: np.ndarray, mask: np.ndarray, width: int, block: int = 64) -> np.ndarray:
    """Mean of x over a centred window of `width` ticks, counting only masked-in ticks. [K, D] -> [K, D].
    Running sums in float64, `block` columns at a time (an hour of 384-d states would otherwise need
    several 110 MB temporaries at once)."""
    k = len(mask)
    n = np.cumsum(np.pad(mask.astype(np.float64), (1, 0)))
    lo = np.clip(np.arange(k) - width // 2, 0, k)
    hi = np.clip(np.arange(k) + (width - width // 2), 0, k)
    cnt = np.maximum(n[hi] - n[lo], 1)[:, None]
    out = np.empty(x.shape, np.float32)
    for j in range(0, x.shape[1], block):
        c = np.zeros((k + 1, min(block, x.shape[1] - j)), np.float64)
        np.cumsum(np.where(mask[:, None], x[:, j : j + block], 0.0), axis=0, out=c[1:])
        out[:, j : j + block] = (c[hi] - c[lo]) / cnt
    return out
