"""Voice activity: silero-vad segments of 16 kHz audio."""
from __future__ import annotations

import numpy as np

from emoannot.config import SpeechConfig
from emoannot.records import Segment
from emoannot.video import AUDIO_RATE


def load_vad():
    from silero_vad import load_silero_vad

    return load_silero_vad()


def detect_speech(audio: np.ndarray, vad, cfg: SpeechConfig = SpeechConfig()) -> tuple[Segment, ...]:
    """Voice-activity segments in seconds; () for silence or less than 0.1 s of audio."""
    if audio.size < AUDIO_RATE // 10 or float(np.abs(audio).max(initial=0.0)) < 1e-4:
        return ()
    import torch
    from silero_vad import get_speech_timestamps

    stamps = get_speech_timestamps(torch.from_numpy(audio), vad, sampling_rate=AUDIO_RATE,
                                   threshold=cfg.vad_threshold, min_speech_duration_ms=cfg.min_speech_ms,
                                   return_seconds=True)
    return tuple(Segment(float(s["start"]), float(s["end"])) for s in stamps)
