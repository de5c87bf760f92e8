"""Audio features: whisper encoder hidden states (50 Hz) pooled to MODEL_FPS, masked to speech."""
from __future__ import annotations

import numpy as np

from emoannot.config import MODEL_FPS
from emoannot.features import ModalityFeatures, moving_mean
from emoannot.speech import ENCODER_HZ, Segment
from emoannot.video import AUDIO_RATE

CHUNK_S = 30  #: whisper's fixed input length
HEAD_WINDOW = 10  #: ticks (1 s) averaged before the audio head


def encoder_ticks(audio: np.ndarray, models, k: int, spans: tuple[Segment, ...] | None = None) -> np.ndarray:
    """[T] float32 16 kHz -> [k, d] encoder states averaged per model tick, 30 s at a time (whisper's input
    length), so that only the pooled array grows with the video. Chunks without speech stay zero."""
    out: np.ndarray | None = None
    chunk = CHUNK_S * AUDIO_RATE
    ticks_per_chunk = int(round(CHUNK_S * MODEL_FPS))
    for n, start in enumerate(range(0, max(len(audio), 1), chunk)):
        if n * ticks_per_chunk >= k:  # the audio stream outlasts the video: the rest has no frame to go to
            break
        t0, t1 = start / AUDIO_RATE, (start + chunk) / AUDIO_RATE
        if spans is not None and not any(s.end > t0 and s.start < t1 for s in spans):
            continue
        states = models.encode(audio[start : start + chunk])
        k0 = n * ticks_per_chunk
        pooled = pool_to_ticks(states, min(ticks_per_chunk, k - k0))
        if out is None:
            out = np.zeros((k, states.shape[1]), np.float32)
        out[k0 : k0 + len(pooled)] = pooled
    return out if out is not None else np.zeros((k, 0), np.float32)


def pool_to_ticks(states: np.ndarray, k: int) -> np.ndarray:
    """Average the encoder frames falling in each model tick: [T50, d] -> [k, d]."""
    per = ENCODER_HZ / MODEL_FPS
    out = np.zeros((k, states.shape[1]), np.float32)
    for i in range(k):
        a, b = int(round(i * per)), int(round((i + 1) * per))
        if a < len(states):
            out[i] = states[a : max(a + 1, min(b, len(states)))].mean(0)
    return out


def speech_mask(spans: tuple[Segment, ...], k: int) -> np.ndarray:
    t = (np.arange(k) + 0.5) / MODEL_FPS
    mask = np.zeros(k, bool)
    for s in spans:
        mask |= (t >= s.start) & (t < s.end)
    return mask


def audio_features(ticks: np.ndarray, mask: np.ndarray, head) -> ModalityFeatures:
    """ticks: [K, d] pooled encoder states; head: AudioHead. Zero + mask 0 outside speech."""
    values = np.where(mask[:, None], ticks, 0.0).astype(np.float32)
    va = np.full((len(mask), 2), np.nan, np.float32)
    if mask.any():
        va[mask] = head.predict_va(moving_mean(values, mask, HEAD_WINDOW)[mask])
    return ModalityFeatures("audio", values, mask, va)
