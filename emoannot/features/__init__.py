"""Stage records -> per-tick feature arrays at MODEL_FPS, with masks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ModalityFeatures:
    """One modality at the model rate. K = number of model ticks."""
    name: str  #: "visual", "audio" or "text"
    values: np.ndarray  #: [K, D] float32, zeros where mask is False
    mask: np.ndarray  #: [K] bool, the modality is present at this tick
    va: np.ndarray  #: [K, 2] float32 unimodal (valence, arousal) estimate, nan where mask is False

    def __post_init__(self) -> None:
        k = self.mask.shape[0]
        if self.values.shape[0] != k or self.va.shape != (k, 2):
            raise ValueError(f"{self.name}: inconsistent shapes {self.values.shape}, {self.mask.shape}, {self.va.shape}")


def fusion_input(f: ModalityFeatures) -> np.ndarray:
    """[K, D + 3]: the features, the unimodal estimate (0 where absent) and the mask bit."""
    va = np.where(f.mask[:, None], np.nan_to_num(f.va), 0.0)
    return np.concatenate([f.values, va, f.mask[:, None]], axis=1).astype(np.float32)


def moving_mean(x: np.ndarray, mask: np.ndarray, width: int) -> np.ndarray:
    """Mean of x over a centred window of `width` ticks, counting only masked-in ticks. [K, D] -> [K, D]."""
    xm = np.where(mask[:, None], x, 0.0).astype(np.float64)
    c = np.cumsum(np.pad(xm, ((1, 0), (0, 0))), axis=0)
    n = np.cumsum(np.pad(mask.astype(np.float64), (1, 0)))
    k = len(mask)
    lo = np.clip(np.arange(k) - width // 2, 0, k)
    hi = np.clip(np.arange(k) + (width - width // 2), 0, k)
    cnt = (n[hi] - n[lo])[:, None]
    return ((c[hi] - c[lo]) / np.maximum(cnt, 1)).astype(np.float32)
