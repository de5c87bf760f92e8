"""The speech stage's logic: the models of one SpeechConfig (loaded on first use), the language check, the
VAD segments merged into the recogniser's clips, and transcribe: VAD, whisper inside the speech only, the
speech extended to cover every recognised word, and a check of the spoken language where the English-only
model's words look unreliable."""
from __future__ import annotations

from dataclasses import replace
from functools import cached_property

import numpy as np

from emoannot.config import AsrEngine, AsrModel, SpeechConfig
from emoannot.errors import InputError
from emoannot.records import Segment, Transcript, Word
from emoannot.speech.recognisers import LANGUAGE_ID_SECONDS, WHISPER_WINDOW_S, Recogniser, asr_label, load_recogniser
from emoannot.speech.vad import detect_speech, load_vad
from emoannot.video import AUDIO_RATE

ASR_MERGE_GAP_S = 2.0  #: VAD segments closer than this are transcribed as one clip
ASR_PAD_S = 0.2  #: seconds of audio added around each clip for the recogniser
ASR_MAX_SPAN_S = WHISPER_WINDOW_S  #: merged clips stop growing here (one batched decode each)
ASR_WINDOW_S = 300.0  #: audio handed to one recogniser call at most (bounds its memory)


def check_language(cfg: SpeechConfig) -> None:
    """A `--language` whisper does not know, or one the English-only model cannot recognise, is refused
    before any model loads (never silently ignored); so is the openai-whisper engine where its package, an
    optional extra, is not installed."""
    import importlib.util

    if cfg.asr_engine == AsrEngine.openai_whisper and importlib.util.find_spec("whisper") is None:
        raise InputError("--asr-engine openai-whisper needs the openai-whisper package, which is optional: "
                         "pip install 'emoannot[openai-whisper]' (or use the default, faster-whisper).",
                         stage="settings")
    if cfg.language is None:
        return
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if cfg.language not in _LANGUAGE_CODES:
        raise InputError(f"--language {cfg.language}: not a language code whisper knows; use a two-letter code such "
                         f"as en, de, fr, es, zh ({len(_LANGUAGE_CODES)} are known).", stage="settings")
    if cfg.asr_model == AsrModel.tiny_en and cfg.language != "en":
        raise InputError(f"--language {cfg.language} needs the multilingual model (tiny.en recognises English "
                         f"only): add --asr-model base.", stage="settings")


class SpeechModels:
    """VAD, recogniser and language identifier for one SpeechConfig, each loaded on first use and then
    kept (a batch reuses them)."""

    def __init__(self, cfg: SpeechConfig, device: str) -> None:
        check_language(cfg)
        self.cfg = cfg
        self.device = device

    @property
    def asr_name(self) -> str:
        return asr_label(self.cfg)

    @cached_property
    def vad(self):
        return load_vad()

    @cached_property
    def recogniser(self) -> Recogniser:
        return load_recogniser(self.cfg, self.device)

    def loaded_recogniser(self) -> Recogniser | None:
        """The recogniser if it was loaded already (for sharing its weights), else None."""
        return self.__dict__.get("recogniser")

    def language_id(self) -> Recogniser:
        """A multilingual model: the recogniser itself when it is one, else whisper base (loaded once)."""
        if self.cfg.asr_model != AsrModel.tiny_en:
            return self.recogniser
        return self._base

    @cached_property
    def _base(self) -> Recogniser:
        return load_recogniser(replace(self.cfg, asr_model=AsrModel.base, language=None), self.device)


def asr_spans(speech: tuple[Segment, ...], duration: float, gap: float = ASR_MERGE_GAP_S,
              pad: float = ASR_PAD_S, max_len: float = ASR_MAX_SPAN_S) -> list[Segment]:
    """VAD segments merged across short pauses (whisper needs the sentence's context) and padded; a merged
    span stops growing at `max_len` seconds, and the next one starts no earlier than its end: overlapping
    clips would be transcribed twice, and where they covered more than the audio faster-whisper's batched
    pipeline failed an assertion (32 LJSpeech clips read as one 235 s recording, 0.4 s apart)."""
    spans: list[Segment] = []
    for s in speech:
        start, end = max(0.0, s.start - pad), min(duration, s.end + pad)
        if spans and start - spans[-1].end < gap and end - spans[-1].start <= max_len:
            spans[-1] = Segment(spans[-1].start, max(end, spans[-1].end))
        elif not spans or end > spans[-1].end:
            spans.append(Segment(max(start, spans[-1].end) if spans else start, end))
    return spans


def asr_groups(spans: list[Segment], window: float = ASR_WINDOW_S) -> list[list[Segment]]:
    """Consecutive spans whose audio fits in `window` seconds: one recogniser call each, so that the
    recogniser's own arrays (mel spectrogram, STFT) stay bounded however long the video is."""
    groups: list[list[Segment]] = []
    for s in spans:
        if groups and s.end - groups[-1][0].start <= window:
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


def _first_speech(audio: np.ndarray, speech: tuple[Segment, ...], seconds: float) -> np.ndarray:
    """The first `seconds` of speech, joined, without copying the whole recording."""
    pieces, total, limit = [], 0, int(seconds * AUDIO_RATE)
    for s in speech:
        pieces.append(audio[int(s.start * AUDIO_RATE) : int(s.end * AUDIO_RATE)][: limit - total])
        total += len(pieces[-1])
        if total >= limit:
            break
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def cover_words(speech: tuple[Segment, ...], words: tuple[Word, ...] | list[Word]) -> tuple[Segment, ...]:
    """The speech segments extended to cover every recognised word: whisper places a word's edges up to a few
    tenths of a second outside the voice-activity segment it was heard in (it reads a padded span), and a word
    must never stand where the outputs say there is no speech. Overlapping or touching spans are merged."""
    spans = sorted([(s.start, s.end) for s in speech] + [(w.start, w.end) for w in words if w.end > w.start])
    out: list[list[float]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple(Segment(float(a), float(b)) for a, b in out)


def doubtful(words: list[Word], cfg: SpeechConfig) -> bool:
    """tiny.en's words look unreliable (none, or a low mean word probability): the only case where the
    spoken language can matter, so the only one that loads the language identifier."""
    return not words or float(np.mean([w.probability for w in words])) < cfg.language_check_below


def transcribe(audio: np.ndarray, models: SpeechModels) -> Transcript:
    """VAD first; whisper only inside the speech segments. Silence returns an empty transcript."""
    cfg = models.cfg
    speech = detect_speech(audio, models.vad, cfg)
    name = cfg.asr_model.value
    if not speech:
        return Transcript(speech=(), words=(), language="", asr_model=name)
    language = "en" if cfg.asr_model == AsrModel.tiny_en else cfg.language
    words: list[Word] = []
    detected = language or ""
    for group in asr_groups(asr_spans(speech, len(audio) / AUDIO_RATE)):
        g0 = group[0].start
        piece = audio[int(g0 * AUDIO_RATE) : int(np.ceil(group[-1].end * AUDIO_RATE))]
        clips = [t - g0 for s in group for t in (s.start, s.end)]
        found, detected = models.recogniser.recognise(piece, clips, language)
        words.extend(Word(w.start + g0, w.end + g0, w.text, w.probability) for w in found)
    warnings: list[str] = []
    if cfg.asr_model == AsrModel.tiny_en and cfg.check_language and doubtful(words, cfg):
        spoken, prob = models.language_id().detect_language(_first_speech(audio, speech, LANGUAGE_ID_SECONDS))
        if spoken != "en" and prob >= 0.5:
            detected = spoken
            warnings.append(f"the speech sounds like '{spoken}' (p = {prob:.2f}) but the default ASR model is "
                            f"English-only, so the words are unreliable: run again with --asr-model base "
                            f"(optionally --language {spoken}).")
    return Transcript(speech=cover_words(speech, words), words=tuple(words), language=detected, asr_model=name,
                      warnings=tuple(warnings))
