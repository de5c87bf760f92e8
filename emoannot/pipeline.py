"""The annotate pipeline: Path -> VideoInfo -> FaceTrack / Transcript -> ModalityFeatures -> Annotation.

`Engine` holds the models (loaded once; the speech models and the word encoder on first use, so a video
without speech never loads them) and runs the stages; writing files is the job of emoannot.outputs.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from emoannot.config import AsrModel, Fusion, PeopleMode, Settings
from emoannot.confidence import disagreement
from emoannot.device import resolve_device
from emoannot.faces import FaceDetector, empty_track, frame_selector, track_faces, track_people
from emoannot.features import fit_ticks
from emoannot.records import (SOURCE_NAMES, Annotation, FaceTrack, Frame, ModalityFeatures, ModelRecord, Person,
                              PersonResult, Transcript, VideoInfo, emotion_labels)
from emoannot.speakers import attribute, energy_track
from emoannot.speech import SpeechModels, transcribe
from emoannot.timeline import (EVIDENCE_S, n_ticks, segments_to_mask, tick_of_time, ticks_to_frames, video_end,
                               within)
from emoannot.video import AUDIO_RATE, iter_frames, load_audio, probe

Hook = Callable[..., None]


def _no_hook(*_a, **_k) -> None:
    return None


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t0)


def _timed_frames(frames: Iterator[Frame], timer: _Timer) -> Iterator[Frame]:
    """The "decode" stage: the time the face stage waited for decoded frames (the decoding itself runs ahead
    of it on its own thread: video.iter_frames)."""
    it = iter(frames)
    while True:
        t0 = time.perf_counter()
        try:
            f = next(it)
        except StopIteration:
            timer.add("decode", time.perf_counter() - t0)
            return
        timer.add("decode", time.perf_counter() - t0)
        yield f


Features = tuple[ModalityFeatures, ModalityFeatures, ModalityFeatures]  #: visual, audio, text


@dataclass(frozen=True)
class PersonInput:
    """One person's fusion input: their face, and the voice and words where they are the one speaking."""
    person: Person
    features: Features
    speaking: np.ndarray  #: [K] bool


@dataclass(frozen=True)
class Extracted:
    """Every stage up to the fusion input (what `emoannot train --format affwild2` caches). `track` and
    `features` are the main person's (or, without people, the one face's with all the speech)."""
    info: VideoInfo
    track: FaceTrack
    transcript: Transcript
    features: Features
    warnings: tuple[str, ...]
    seconds: dict[str, float]
    people: tuple[PersonInput, ...] = ()
    main_person: int | None = None


def load_fusion(folder: Path, fusion: Fusion, device: str = "cpu"):
    """The fusion module of a weights set, on `device`, in eval mode -> (module, WeightsInfo)."""
    from emoannot.model.fusions import build
    from emoannot.model.weights import load_state

    state, info = load_state(folder, Fusion(fusion).part)
    module = build(fusion, info.card["config"])
    module.load_state_dict(state)
    return module.to(device).eval(), info


class Engine:
    """All models of one Settings, loaded once; a context manager that closes mediapipe.

    `emoannot.load(settings)` makes one; `engine.annotate(path)` is the main call.
    """

    def __init__(self, settings: Settings = Settings(), with_fusion: bool = True) -> None:
        from emoannot.features.audio import AudioEncoder
        from emoannot.features.blendshapes import BlendshapeReader
        from emoannot.model.expression import ExpressionCNN
        from emoannot.model.heads import head_from_state
        from emoannot.model.weights import load_state, read_registry, resolve_set
        from emoannot.models import AUDIO_ENCODER_DEFAULT, landmarker_file, model_records

        self.settings = settings
        self.device = resolve_device(settings.device)
        folder = resolve_set(settings.weights)
        cnn_state, cnn_info = load_state(folder, "expression_cnn")
        audio_state, audio_info = load_state(folder, "audio_head")
        text_state, _ = load_state(folder, "text_head")
        self.cnn = ExpressionCNN(len(cnn_info.card["classes"]))
        self.cnn.load_state_dict(cnn_state)
        self.cnn.to(self.device).eval()
        self.audio_head = head_from_state(audio_state)
        self.text_head = head_from_state(text_state)
        self.visual_head = None  # optional: sets trained before it existed map the CNN's posteriors instead
        if "visual_head" in read_registry(folder):
            self.visual_head = head_from_state(load_state(folder, "visual_head")[0])
        self.fusion = None
        self.classes: tuple[str, ...] = ()
        if with_fusion:
            self.fusion, _ = load_fusion(folder, settings.fusion, self.device)
            self.classes = tuple(self.fusion.cfg.classes)
        self.speech = SpeechModels(settings.speech, self.device)
        encoder_model = AsrModel(audio_info.card.get("encoder", AUDIO_ENCODER_DEFAULT.value))
        self.encoder = AudioEncoder(encoder_model, int(self.audio_head.mean.shape[0]), self.device,
                                    share=self._shared_encoder)
        self._words = None
        self.detector = FaceDetector(settings.faces)
        self.blendshapes = BlendshapeReader(landmarker_file(folder))
        self.closed = False
        # what the manifest lists (emoannot.models, the one list); the weights were hashed by load_state above
        self.models = model_records(settings, with_fusion, verify=False)

    def _shared_encoder(self):
        """The recogniser's faster-whisper model when it holds the audio head's encoder weights."""
        from emoannot.speech.recognisers import FasterWhisper

        rec = self.speech.loaded_recogniser()
        if isinstance(rec, FasterWhisper) and rec.model_name == self.encoder.asr_model:
            return rec.model
        return None

    @property
    def words(self):
        """The MiniLM word encoder, loaded when the first words need it."""
        if self._words is None:
            from emoannot.features.text import WordEncoder

            self._words = WordEncoder(self.device)
        return self._words

    def close(self) -> None:
        """Release mediapipe's models; a second call does nothing, and a closed engine refuses to annotate."""
        if not self.closed:
            self.detector.close()
            self.blendshapes.close()
            self.closed = True

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ stages
    def _audio_path(self, info: VideoInfo, timer: _Timer) -> tuple[Transcript, np.ndarray, np.ndarray, np.ndarray,
                                                                   np.ndarray | None]:
        """-> transcript, pooled encoder states [k_audio, d], the speech mask [k_audio], with people the
        loudness track (speakers.energy_track) that tells who speaks, and the words' MiniLM vectors (None
        without words): all of it beside the faces."""
        from emoannot.features.audio import encoder_ticks, speech_mask

        with timer.stage("audio"):
            # on the frames' clock (silence first when the audio starts late), and not far past the video
            cap = info.duration_s + 1.0 if info.duration_s > 0 else None
            audio = (load_audio(info.path, offset_s=info.audio_offset_s, max_seconds=cap) if info.has_audio
                     else np.zeros(0, np.float32))
        with timer.stage("speech"):
            transcript = transcribe(audio, self.speech)
        with timer.stage("audio_features"):
            k = n_ticks(len(audio) / AUDIO_RATE)  # fitted to the video's ticks once the frames are decoded
            mask = speech_mask(transcript.speech, k)
            if mask.any():
                ticks = encoder_ticks(audio, self.encoder, k, transcript.speech)
            else:
                ticks = np.zeros((k, self.encoder.dim), np.float32)
            loudness = (energy_track(audio, AUDIO_RATE) if self.settings.faces.people == PeopleMode.all
                        else np.zeros(0, np.float32))
        del audio  # not needed any more: the words' encoder below may take a while
        with timer.stage("text"):
            vectors = self.words.encode_words([w.text for w in transcript.words]) if transcript.words else None
        return transcript, ticks, mask, loudness, vectors

    def extract(self, video: Path | VideoInfo, hook: Hook | None = None) -> Extracted:
        """Every stage up to the fusion input: probe (unless given), faces, speech, per-modality features."""
        from emoannot.features.audio import audio_features
        from emoannot.features.text import text_features
        from emoannot.features.visual import visual_features

        if self.closed:
            raise RuntimeError("this Engine is closed (close() or the end of its `with` block); load another with "
                               "emoannot.load(...).")
        hook = hook or _no_hook
        timer = _Timer()
        warnings: list[str] = []
        with timer.stage("probe"):
            info = video if isinstance(video, VideoInfo) else probe(Path(video))
        hook("probe", completed=1, total=1)
        # The audio path (ffmpeg, VAD, ASR, whisper encoder) runs beside the visual path.
        people_mode = self.settings.faces.people == PeopleMode.all
        with ThreadPoolExecutor(max_workers=1) as pool:
            audio_future = pool.submit(self._audio_path, info, timer)
            with timer.stage("decode+faces"):
                frames = _timed_frames(iter_frames(info, self.settings.faces.max_side,
                                                   pixels=frame_selector(self.settings.faces)), timer)
                total = info.estimated_frames or None
                if people_mode:
                    times, people = track_people(frames, self.settings.faces, self.detector, hook, total,
                                                 self.blendshapes)
                    track = people[0].track if people else empty_track(times)
                else:
                    track = track_faces(frames, self.settings.faces, self.detector, hook, total, self.blendshapes)
                    people = ()
            hook("faces", completed=track.n_frames, total=track.n_frames)
            with timer.stage("visual"):
                visuals = [visual_features(p.track, self.cnn, self.device, self.visual_head) for p in people]
                visual = visuals[0] if visuals else visual_features(track, self.cnn, self.device, self.visual_head)
            hook("speech", completed=0, total=1)
            transcript, audio_ticks, audio_mask, loudness, word_vectors = audio_future.result()
        hook("speech", completed=1, total=1)
        k = len(visual.mask)  # the decoded frames decide the tick count (timeline.video_ticks)
        audio = audio_features(fit_ticks(audio_ticks, k), fit_ticks(audio_mask, k), self.audio_head)
        transcript = transcript.clipped(video_end(track.times))
        warnings.extend(transcript.warnings)
        has_face = bool(track.present.any()) or bool(people)
        silent = "the video has no audio stream" if not info.has_audio else "no speech was found in the audio"
        if not has_face and not transcript.speech:
            warnings.append(f"{silent} and no face was found in any frame: valence/arousal are empty (no information).")
        elif not transcript.speech:
            warnings.append(f"{silent}: valence/arousal come from the face alone.")
        elif not has_face:
            warnings.append("no face was found in any frame: valence/arousal come from the voice and words alone.")
        if _looks_truncated(info, track.times):
            warnings.append(f"only {track.n_frames} of about {info.duration_s * info.fps:.0f} frames could be decoded: "
                            "the file looks truncated or damaged; the outputs cover the decodable part.")
        text = text_features(transcript.words, k, word_vectors, self.text_head)
        if not people:  # one face (or none): it gets all the speech
            return Extracted(info, track, transcript, (visual, audio, text), tuple(warnings), timer.seconds)
        with timer.stage("speakers"):
            speaking = attribute(people, transcript.speech, track.times, loudness, k)
        inputs = tuple(PersonInput(p, (v, audio.only(speaking[p.id]), text.only(speaking[p.id])), speaking[p.id])
                       for p, v in zip(people, visuals))
        if transcript.speech and not any(s.any() for s in speaking.values()):
            warnings.append("nobody visible moves their lips with the speech (an off-screen speaker?): the voice and "
                            "words are given to no one, so valence/arousal come from the faces alone.")
        frame_tick = tick_of_time(track.times, k)
        # the main person: the one visible and speaking most (frames seen + frames speaking)
        main = max(inputs, key=lambda x: int(x.person.track.present.sum()) + int(x.speaking[frame_tick].sum()))
        return Extracted(info, main.person.track, transcript, main.features, tuple(warnings), timer.seconds, inputs,
                         main.person.id)

    def annotate(self, video: Path | VideoInfo, hook: Hook | None = None) -> Annotation:
        """Annotate one video (a path, or the VideoInfo of a file probed already)."""
        from emoannot.fusion import fuse

        if self.fusion is None:
            raise RuntimeError("this Engine was built with with_fusion=False")
        ex = self.extract(video, hook)
        timer = _Timer()
        timer.seconds = dict(ex.seconds)
        with timer.stage("fusion"):
            if ex.people:
                person_out = {x.person.id: fuse(self.fusion, x.features, self.device) for x in ex.people}
                tick_va, tick_probs = person_out[ex.main_person]
            else:
                tick_va, tick_probs = fuse(self.fusion, ex.features, self.device)
        (hook or _no_hook)("fusion", completed=1, total=1)
        a = to_annotation(ex, tick_va, timer.seconds, self.models, self.settings, tick_probs, self.classes)
        if not ex.people:
            return a
        people = []
        for x in ex.people:
            fv = frame_values(ex.track.times, x.features, *person_out[x.person.id])
            speaking = x.speaking[tick_of_time(ex.track.times, len(x.speaking))]
            people.append(PersonResult(x.person.id, x.person.track, fv.valence, fv.arousal, fv.sources, speaking,
                                       emotion_labels(fv.probs, self.classes, len(ex.track.times))))
        return replace(a, people=tuple(people), main_person=ex.main_person)


def _looks_truncated(info: VideoInfo, times: np.ndarray) -> bool:
    """The frames end well before the stated duration, read either as a length (most containers) or as an
    end time on the file's own clock (Matroska written with a start offset states it so)."""
    stated = info.duration_s
    if stated * info.fps <= 10 or len(times) == 0:
        return False
    end = video_end(times)
    return end < 0.9 * stated and info.start_s + end < 0.9 * stated


@dataclass(frozen=True)
class FrameValues:
    """The fusion's per-tick output on the frames (frame_values)."""
    valence: np.ndarray  #: [N] float32, NaN without evidence
    arousal: np.ndarray  #: [N] float32
    sources: tuple[str, ...]  #: [N]
    tick_va: np.ndarray  #: [K, 2], the no-evidence ticks emptied
    probs: np.ndarray | None  #: [N, C] category probabilities, NaN rows without evidence


def frame_values(times: np.ndarray, features: Features, tick_va: np.ndarray,
                 tick_probs: np.ndarray | None = None) -> FrameValues:
    """Per-tick fusion -> one value per decoded frame (emoannot.timeline's convention), NaN where no modality
    is within EVIDENCE_S, and the modalities present at each frame. Category probabilities are interpolated
    like valence and renormalised."""
    # no information, no number: a frame gets a value only with some modality within EVIDENCE_S of it
    evidence = within(np.logical_or.reduce([f.mask for f in features]), EVIDENCE_S)
    tick_va = np.where(evidence[:, None], tick_va, np.nan).astype(np.float32)
    filled = _nearest_filled(tick_va)
    tick = tick_of_time(times, len(tick_va))
    known = evidence[tick]
    valence = np.where(known, np.clip(ticks_to_frames(times, filled[:, 0]), -1, 1), np.nan).astype(np.float32)
    arousal = np.where(known, np.clip(ticks_to_frames(times, filled[:, 1]), -1, 1), np.nan).astype(np.float32)
    probs = None
    if tick_probs is not None:
        p = _nearest_filled(np.where(evidence[:, None], tick_probs, np.nan))
        p = np.stack([ticks_to_frames(times, p[:, c]) for c in range(p.shape[1])], 1).clip(0, None)
        p = p / np.maximum(p.sum(1, keepdims=True), 1e-9)
        probs = np.where(known[:, None], p, np.nan).astype(np.float32)
    present = np.stack([f.mask[tick] for f in features], 1)
    names = [SOURCE_NAMES[f.name] for f in features]
    sources = tuple("+".join(n for n, p in zip(names, row) if p) for row in present)
    return FrameValues(valence, arousal, sources, tick_va, probs)


def to_annotation(ex: Extracted, tick_va: np.ndarray, seconds: dict[str, float],
                  models: tuple[ModelRecord, ...], settings: Settings, tick_probs: np.ndarray | None = None,
                  classes: tuple[str, ...] = ()) -> Annotation:
    """Per-tick results -> one value per decoded frame (emoannot.timeline's convention)."""
    times = ex.track.times
    speech = segments_to_mask(ex.transcript.speech, times)
    word = [""] * len(times)
    for w in ex.transcript.words:  # frames are sorted by time: two binary searches per word
        for i in range(int(np.searchsorted(times, w.start)), int(np.searchsorted(times, w.end))):
            word[i] = w.text.strip()
    tick = tick_of_time(times, len(tick_va))
    per_mod: dict[str, np.ndarray] = {}
    for f in ex.features:
        va = np.where(f.mask[:, None], f.va, np.nan)[tick]
        per_mod[f"valence_{f.name}"] = va[:, 0].astype(np.float32)
        per_mod[f"arousal_{f.name}"] = va[:, 1].astype(np.float32)
    fv = frame_values(times, ex.features, tick_va, tick_probs)
    disagree = disagreement(times, per_mod)
    return Annotation(
        info=ex.info, times=times, valence=fv.valence, arousal=fv.arousal, faces=ex.track, speech=speech,
        word=tuple(word), per_modality=per_mod, transcript=ex.transcript, tick_va=fv.tick_va,
        warnings=ex.warnings + ((disagree,) if disagree else ()), seconds=seconds, models=models, settings=settings,
        sources=fv.sources,
        classes=classes if fv.probs is not None else (), emotion_probs=fv.probs)


def _nearest_filled(x: np.ndarray) -> np.ndarray:
    """NaN rows replaced by the nearest finite row (so that interpolation reaches an evidence boundary)."""
    ok = np.isfinite(x).all(1)
    if ok.all() or not ok.any():
        return np.nan_to_num(x)
    idx, at = np.flatnonzero(ok), np.arange(len(x))
    pos = np.searchsorted(idx, at)
    left, right = idx[np.clip(pos - 1, 0, len(idx) - 1)], idx[np.clip(pos, 0, len(idx) - 1)]
    return x[np.where(np.abs(at - left) <= np.abs(right - at), left, right)]
