"""Audio features: whisper encoder hidden states (50 Hz) pooled to MODEL_FPS, masked to speech."""
from __future__ import annotations

import numpy as np

from emoannot.config import MODEL_FPS
from emoannot.features import ModalityFeatures, moving_mean
from emoannot.speech import ENCODER_HZ, Segment
from emoannot.video import AUDIO_RATE

CHUNK_S = 30  #: whisper's fixed input length
HEAD_WINDOW = 10  #: ticks (1 s) averaged before the audio head


def encoder_states(audio: np.ndarray, models, spans: tuple[Segment, ...] | None = None) -> np.ndarray:
    """[T] float32 16 kHz -> [ceil(T / 320), d] encoder states, 30 s at a time (whisper's input length).
    Chunks without speech (per `spans`) stay zero. `models` is a SpeechModels."""
    n_frames = int(np.ceil(len(audio) / AUDIO_RATE * ENCODER_HZ))
    out: np.ndarray | None = None
    chunk = CHUNK_S * AUDIO_RATE
    for start in range(0, max(len(audio), 1), chunk):
        t0, t1 = start / AUDIO_RATE, (start + chunk) / AUDIO_RATE
        if spans is not None and not any(s.end > t0 and s.start < t1 for s in spans):
            continue
        states = models.encode(audio[start : start + chunk])
        if out is None:
            out = np.zeros((n_frames, states.shape[1]), np.float32)
        f0 = int(round(t0 * ENCODER_HZ))
        out[f0 : f0 + len(states)] = states[: max(0, n_frames - f0)]
    return out if out is not None else np.zeros((n_frames, 0), np.float32)


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
