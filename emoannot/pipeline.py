"""The annotate pipeline: Path -> VideoInfo -> FaceTrack / Transcript -> ModalityFeatures -> each person's
fusion -> Annotation (emoannot.results).

`Engine` holds the models (emoannot.models names and loads them; the speech models and the word encoder
load on first use, so a video without speech never loads them) and runs the stages, the faces beside the
audio; writing files is the job of emoannot.outputs.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Iterator

import numpy as np

from emoannot.config import AsrModel, PeopleMode, Settings
from emoannot.device import resolve_device
from emoannot.faces import FaceDetector, empty_track, frame_selector, track_faces, track_people
from emoannot.features import fit_ticks
from emoannot.model.weights import TINY_SET
from emoannot.progress import Hook
from emoannot.records import Annotation, Extracted, Frame, Person, PersonInput, Transcript, VideoInfo
from emoannot.speakers import attribute, energy_track
from emoannot.speech import SpeechModels, transcribe
from emoannot.results import to_annotation
from emoannot.timeline import n_ticks, tick_of_time, video_end
from emoannot.video import AUDIO_RATE, iter_frames, load_audio, probe


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
        from emoannot.models import AUDIO_ENCODER_DEFAULT, landmarker_file, load_fusion, model_records

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
        self.encoder = AudioEncoder(encoder_model, self.audio_head.in_dim, self.device,
                                    share=self._shared_encoder)
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

    @cached_property
    def words(self):
        """The MiniLM word encoder, loaded when the first words need it."""
        from emoannot.features.text import WordEncoder

        return WordEncoder(self.device)

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
    def voice(self, audio: np.ndarray, timer: _Timer | None = None) -> tuple[Transcript, np.ndarray, np.ndarray]:
        """16 kHz mono audio -> its transcript, the pooled encoder states of its speech [k, d] (zero elsewhere)
        and the speech mask [k], k ticks of the audio's length: what the voice column is read from (with
        features.audio.audio_features), for a video's audio and for bare audio (benchmarks/realdev.py)."""
        from emoannot.features.audio import encoder_ticks, speech_mask

        timer = timer or _Timer()
        with timer.stage("speech"):
            transcript = transcribe(audio, self.speech)
        with timer.stage("audio_features"):
            k = n_ticks(len(audio) / AUDIO_RATE)  # a video fits it to its frames' ticks once they are decoded
            mask = speech_mask(transcript.speech, k)
            ticks = (encoder_ticks(audio, self.encoder, k, transcript.speech) if mask.any()
                     else np.zeros((k, self.encoder.dim), np.float32))
        return transcript, ticks, mask

    def _audio_path(self, info: VideoInfo, timer: _Timer) -> tuple[Transcript, np.ndarray, np.ndarray, np.ndarray,
                                                                   np.ndarray | None]:
        """-> transcript, pooled encoder states [k_audio, d], the speech mask [k_audio], with people the
        loudness track (speakers.energy_track) that tells who speaks, and the words' MiniLM vectors (None
        without words): all of it beside the faces."""
        with timer.stage("audio"):
            # on the frames' clock (silence first when the audio starts late), and not far past the video
            cap = info.duration_s + 1.0 if info.duration_s > 0 else None
            audio = (load_audio(info.path, offset_s=info.audio_offset_s, max_seconds=cap) if info.has_audio
                     else np.zeros(0, np.float32))
        transcript, ticks, mask = self.voice(audio, timer)
        with timer.stage("audio_features"):
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
        if self.settings.weights == TINY_SET:
            warnings.append("--weights tiny: random weights for smoke runs; the numbers mean nothing.")
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
                if people_mode:  # everyone, or nobody (id 0: the voice and words alone)
                    times, people = track_people(frames, self.settings.faces, self.detector, hook, total,
                                                 self.blendshapes)
                    people = people or (Person(0, empty_track(times), np.full(len(times), np.nan, np.float32)),)
                else:  # the one face (id 1), found or not
                    one = track_faces(frames, self.settings.faces, self.detector, hook, total, self.blendshapes)
                    people = (Person(1, one, np.full(one.n_frames, np.nan, np.float32)),)
                track = people[0].track  # the frame times and the tick count are the video's: any track's
            hook("faces", completed=track.n_frames, total=track.n_frames)
            with timer.stage("visual"):
                visuals = [visual_features(p.track, self.cnn, self.device, self.visual_head) for p in people]
                visual = visuals[0]
            hook("speech", completed=0, total=1)
            transcript, audio_ticks, audio_mask, loudness, word_vectors = audio_future.result()
        hook("speech", completed=1, total=1)
        k = len(visual.mask)  # the decoded frames decide the tick count (timeline.video_ticks)
        audio = audio_features(fit_ticks(audio_ticks, k), fit_ticks(audio_mask, k), self.audio_head)
        transcript = transcript.clipped(video_end(track.times))
        warnings.extend(transcript.warnings)
        has_face = any(p.track.present.any() for p in people)
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
        seen = [p for p in people if p.id > 0 and p.track.present.any()]
        if not people_mode or not seen:  # one face, or nobody in view: all the speech is theirs
            inputs = (PersonInput(people[0], (visual, audio, text), audio.mask.copy()),)
            return Extracted(info, transcript, inputs, tuple(warnings), timer.seconds)
        with timer.stage("speakers"):
            speaking = attribute(people, transcript.speech, track.times, loudness, k)
        inputs = tuple(PersonInput(p, (v, audio.only(speaking[p.id]), text.only(speaking[p.id])), speaking[p.id])
                       for p, v in zip(people, visuals))
        if transcript.speech and not any(s.any() for s in speaking.values()):
            warnings.append("nobody visible moves their lips with the speech (an off-screen speaker?): the voice and "
                            "words are given to no one, so valence/arousal come from the faces alone.")
        frame_tick = tick_of_time(track.times, k)
        # the main person: the one visible and speaking most (frames seen + frames speaking)
        main = max(range(len(inputs)), key=lambda i: int(inputs[i].person.track.present.sum())
                   + int(inputs[i].speaking[frame_tick].sum()))
        return Extracted(info, transcript, inputs, tuple(warnings), timer.seconds, main)

    def annotate(self, video: Path | VideoInfo, hook: Hook | None = None) -> Annotation:
        """Annotate one video (a path, or the VideoInfo of a file probed already)."""
        from emoannot.fusion import fuse

        if self.fusion is None:
            raise RuntimeError("this Engine was built with with_fusion=False")
        ex = self.extract(video, hook)
        timer = _Timer()
        timer.seconds = dict(ex.seconds)
        with timer.stage("fusion"):  # each person's own fusion
            fused = [fuse(self.fusion, x.features, self.device) for x in ex.people]
        (hook or _no_hook)("fusion", completed=1, total=1)
        return to_annotation(ex, fused, timer.seconds, self.models, self.settings, self.classes)


def _looks_truncated(info: VideoInfo, times: np.ndarray) -> bool:
    """The frames end well before the stated duration, read either as a length (most containers) or as an
    end time on the file's own clock (Matroska written with a start offset states it so)."""
    stated = info.duration_s
    if stated * info.fps <= 10 or len(times) == 0:
        return False
    end = video_end(times)
    return end < 0.9 * stated and info.start_s + end < 0.9 * stated


