"""Whisper recognisers behind one small interface: words with timestamps inside given clips, and the
spoken language. Two engines run the same weights: faster-whisper (CTranslate2) and openai-whisper
(converted from the CTranslate2 file by speech/convert.py)."""
from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from emoannot.config import AsrEngine, AsrModel, SpeechConfig
from emoannot.device import compute_type
from emoannot.paths import cache_dir
from emoannot.records import Word
from emoannot.speech.weights import asr_model_dir
from emoannot.video import AUDIO_RATE

LANGUAGE_ID_SECONDS = 30  #: language identification reads at most this much speech
WHISPER_WINDOW_S = 30.0  #: whisper's input window: the batched recogniser decodes one per clip


def plausible(n_words: int, start: float, end: float, compression_ratio: float, cfg: SpeechConfig) -> bool:
    """False for a segment that is still too repetitive after the fallback temperature, or denser than
    anyone speaks (a runaway decode: whisper keeps its last attempt even when every guard tripped)."""
    return (compression_ratio <= cfg.compression_ratio_threshold
            and n_words <= cfg.max_words_per_s * max(end - start, 1.0))


def window_clips(clips: list[float], window: float = WHISPER_WINDOW_S) -> list[dict[str, float]]:
    """[start, end, start, end, ...] seconds -> the batched recogniser's clips, none longer than one whisper
    window (a longer clip is cut into equal parts; emoannot.speech merges speech up to a window already)."""
    out = []
    for a, b in zip(clips[::2], clips[1::2]):
        parts = max(1, int(np.ceil((b - a) / window - 1e-9)))
        edges = np.linspace(a, b, parts + 1)
        out += [{"start": float(x), "end": float(y)} for x, y in zip(edges[:-1], edges[1:])]
    return out


class Recogniser(Protocol):
    def recognise(self, audio: np.ndarray, clips: list[float], language: str | None) -> tuple[tuple[Word, ...], str]:
        """Words (times relative to `audio`) inside the clips [start, end, start, end, ...] and the language."""

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """(language code, probability) of up to LANGUAGE_ID_SECONDS of speech."""


class FasterWhisper:
    def __init__(self, model: AsrModel, device: str, cfg: SpeechConfig = SpeechConfig()) -> None:
        from faster_whisper import WhisperModel

        self.model_name = model
        self.model_dir = asr_model_dir(model)
        self.model = WhisperModel(str(self.model_dir), device=device, compute_type=compute_type(device),
                                  cpu_threads=max(1, os.cpu_count() or 1))
        self.cfg = cfg
        self._batched = None  #: faster-whisper's BatchedInferencePipeline over the same model, made on first use

    def recognise(self, audio, clips, language):
        c = self.cfg
        guards = dict(language=language, word_timestamps=True, beam_size=c.beam_size, condition_on_previous_text=False,
                      compression_ratio_threshold=c.compression_ratio_threshold, log_prob_threshold=c.log_prob_threshold,
                      no_speech_threshold=c.no_speech_threshold)
        if c.batch_size > 0:
            from faster_whisper import BatchedInferencePipeline

            if self._batched is None:
                self._batched = BatchedInferencePipeline(self.model)
            segments, info = self._batched.transcribe(audio, clip_timestamps=window_clips(clips),
                                                      batch_size=c.batch_size, temperature=c.temperatures[0], **guards)
        else:
            segments, info = self.model.transcribe(audio, clip_timestamps=clips, vad_filter=False,
                                                   temperature=list(c.temperatures),
                                                   hallucination_silence_threshold=c.hallucination_silence_s, **guards)
        words = tuple(Word(float(w.start), float(w.end), w.word, float(w.probability))
                      for seg in segments
                      if plausible(len(seg.words or []), seg.start, seg.end, seg.compression_ratio, c)
                      for w in (seg.words or []))
        return words, info.language or (language or "")

    def detect_language(self, audio):
        lang, prob, _ = self.model.detect_language(audio=audio[: LANGUAGE_ID_SECONDS * AUDIO_RATE])
        return lang, float(prob)


class OpenAIWhisper:
    def __init__(self, model: AsrModel, device: str, cfg: SpeechConfig = SpeechConfig()) -> None:
        from emoannot.speech.convert import load_openai_whisper

        self.model_name = model
        self.model_dir = asr_model_dir(model)
        self.model = load_openai_whisper(self.model_dir, cache_dir() / "openai-whisper", device)
        self.device = device
        self.cfg = cfg

    def recognise(self, audio, clips, language):
        c = self.cfg
        result = self.model.transcribe(audio, language=language, word_timestamps=True, clip_timestamps=clips,
                                       condition_on_previous_text=False, fp16=self.device == "cuda", verbose=None,
                                       temperature=c.temperatures, compression_ratio_threshold=c.compression_ratio_threshold,
                                       logprob_threshold=c.log_prob_threshold, no_speech_threshold=c.no_speech_threshold,
                                       hallucination_silence_threshold=c.hallucination_silence_s)
        words = tuple(Word(float(w["start"]), float(w["end"]), w["word"], float(w["probability"]))
                      for seg in result["segments"]
                      if plausible(len(seg.get("words", [])), seg["start"], seg["end"], seg["compression_ratio"], c)
                      for w in seg.get("words", []))
        return words, result.get("language", language or "")

    def detect_language(self, audio):
        import torch
        import whisper

        piece = whisper.pad_or_trim(audio[: LANGUAGE_ID_SECONDS * AUDIO_RATE])
        mel = whisper.log_mel_spectrogram(torch.from_numpy(piece), self.model.dims.n_mels).to(self.device)
        _, probs = self.model.detect_language(mel)
        lang = max(probs, key=probs.get)
        return lang, float(probs[lang])


def load_recogniser(cfg: SpeechConfig, device: str) -> Recogniser:
    if cfg.asr_engine == AsrEngine.openai_whisper:
        return OpenAIWhisper(cfg.asr_model, device, cfg)
    return FasterWhisper(cfg.asr_model, device, cfg)


def asr_label(cfg: SpeechConfig) -> str:
    """The recogniser's name (for the manifest's model list), without loading it."""
    engine = ("openai-whisper, converted from CTranslate2" if cfg.asr_engine == AsrEngine.openai_whisper
              else "faster-whisper, CTranslate2")
    return f"whisper-{cfg.asr_model.value} ({engine})"
