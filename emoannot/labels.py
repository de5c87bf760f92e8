"""Emotion categories -> points on the valence/arousal circumplex, in one documented table.

Source: Warriner, Kuperman & Brysbaert (2013), "Norms of valence, arousal, and dominance for
13,915 English lemmas", Behavior Research Methods 45(4). Mean ratings on 1-9 scales of the word
that names each category, rescaled with (x - 5) / 4 to [-1, 1]. Where two words name one category
(afraid / scared) their means are averaged.

Decisions (written down once, used everywhere):
- neutral is pinned to (0, 0), the circumplex origin, rather than Warriner's "neutral" (5.50, 3.45):
  the word's own rating reflects the word, not the absence of emotion, and Aff-Wild2-style
  annotation uses 0 for a neutral state.
- intensity scales a category's point towards the origin: low 0.5, medium/normal 0.75,
  high/strong 1.0; unspecified 1.0.
"""
from __future__ import annotations

from types import MappingProxyType

import numpy as np


def _rescale(valence_1_9: float, arousal_1_9: float) -> tuple[float, float]:
    return ((valence_1_9 - 5.0) / 4.0, (arousal_1_9 - 5.0) / 4.0)


#: category -> (valence, arousal) in [-1, 1]
CIRCUMPLEX: MappingProxyType[str, tuple[float, float]] = MappingProxyType(
    {
        "angry": _rescale(2.53, 6.20),
        "disgust": _rescale(2.68, 4.89),
        "fear": _rescale((2.25 + 2.80) / 2, (5.12 + 6.10) / 2),
        "happy": _rescale(8.47, 6.05),
        "sad": _rescale(2.10, 3.49),
        "surprise": _rescale(6.57, 5.95),
        "neutral": (0.0, 0.0),
        "calm": _rescale(6.89, 1.67),
        "contempt": _rescale(3.22, 4.61),
        "bored": _rescale(2.95, 3.65),
    }
)

INTENSITY_SCALE: MappingProxyType[str, float] = MappingProxyType(
    {"low": 0.5, "medium": 0.75, "normal": 0.75, "high": 1.0, "strong": 1.0, "unspecified": 1.0}
)

#: The seven classes of the expression CNN, in FER2013's label order.
FACE_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def va_point(category: str, intensity: str = "unspecified") -> tuple[float, float]:
    """The (valence, arousal) point of a category at an intensity."""
    v, a = CIRCUMPLEX[category]
    s = INTENSITY_SCALE[intensity]
    return (v * s, a * s)


def va_matrix(classes: tuple[str, ...]) -> np.ndarray:
    """[len(classes), 2] float32 matrix: posterior @ matrix = expected (valence, arousal)."""
    return np.asarray([CIRCUMPLEX[c] for c in classes], dtype=np.float32)
