"""Speech stage: voice activity (vad.py), then whisper words with timestamps (recognisers.py) inside the
speech only, and a check of the spoken language where the English-only model's words look unreliable.
Models load lazily, on the first audio that needs them: a video without speech never loads a recogniser,
clear English speech never loads the language identifier.

    models = SpeechModels(SpeechConfig(), "cpu")
    transcript = transcribe(audio_16k, models)   # -> emoannot.records.Transcript

The logic lives in transcribe.py; this module names the package's public calls.
"""
from emoannot.speech.transcribe import (ASR_MAX_SPAN_S, ASR_WINDOW_S, SpeechModels, asr_groups, asr_spans,
                                        check_language, cover_words, doubtful, transcribe)
from emoannot.speech.vad import detect_speech
from emoannot.speech.weights import ASR_SHA256, ENCODER_DIM, asr_model_dir

__all__ = ["ASR_MAX_SPAN_S", "ASR_SHA256", "ASR_WINDOW_S", "ENCODER_DIM", "SpeechModels", "asr_groups",
           "asr_model_dir", "asr_spans", "check_language", "cover_words", "detect_speech", "doubtful", "transcribe"]
