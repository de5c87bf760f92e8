"""The frozen records that travel between the stages, in data-flow order.

    Path -> VideoInfo (video.py) -> FaceTrack (faces.py) / Transcript (speech/)
         -> ModalityFeatures x3 (features/) -> Annotation (pipeline.py) -> writers (outputs/)

Only numpy here (pandas inside Annotation.to_dataframe): the writers, `emoannot evaluate` and anything
that reads results import this module without loading torch or a model.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from emoannot.config import Settings

CROP_SIZE = 48  #: side of the aligned grey face crop (FaceTrack.crops) handed to the expression CNN
#: the face landmarker's blendshape coefficients (features.blendshapes), FaceTrack.blendshapes' columns, in the
#: landmarker's order (index 0, "_neutral", is a constant and left out)
BLENDSHAPE_NAMES = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff",
    "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
    "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)
N_BLENDSHAPES = len(BLENDSHAPE_NAMES)  # 51 named coefficients + the constant _neutral left out = the model's 52
BLENDSHAPE_COLUMNS = tuple(f"bs_{n}" for n in BLENDSHAPE_NAMES)

#: the per-frame CSV's columns, in order (README: "What the outputs mean")
CSV_COLUMNS = ("frame", "time_s", "valence", "arousal", "confidence", "emotion", "emotion_p", "face", "face_score",
               "face_x", "face_y", "face_w", "face_h", "speech", "word", "sources")
#: `<name>.people.csv`'s columns, in order (README: "Several people")
PEOPLE_COLUMNS = ("frame", "time_s", "person", "valence", "arousal", "emotion", "sources", "face", "face_score",
                  "face_x", "face_y", "face_w", "face_h", "speaking", "word", "confidence", "emotion_p")
#: how each modality is named in the `sources` column
SOURCE_NAMES = {"visual": "face", "audio": "voice", "text": "words"}


@dataclass(frozen=True)
class VideoInfo:
    """What probing a file tells (video.probe)."""
    path: Path
    width: int  #: displayed width in pixels (after rotation)
    height: int
    fps: float  #: average frame rate reported by the container
    n_frames_reported: int  #: frame count from the container (0 when unknown); the CSV counts decoded frames
    duration_s: float
    rotation: int  #: degrees clockwise applied for display (0, 90, 180, 270)
    video_codec: str
    has_audio: bool
    audio_codec: str
    audio_rate: int
    audio_channels: int
    size_bytes: int
    start_s: float = 0.0  #: the container's start in the file's own clock; every time here counts from it
    audio_offset_s: float = 0.0  #: where the audio stream starts (seconds after the container's start)
    video_stream: int = 0  #: index of the analysed video stream (attached pictures are skipped)

    @property
    def estimated_frames(self) -> int:
        """Frame count for progress bars: the container's, else duration x rate (0 when neither is known)."""
        return self.n_frames_reported or int(round(self.duration_s * self.fps))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


@dataclass(frozen=True)
class Frame:
    """One decoded frame (video.iter_frames)."""
    index: int  #: 0-based index of the decoded frame
    time_s: float  #: presentation time from the stream
    rgb: np.ndarray | None  #: [H, W, 3] uint8 at analysis size; None where the caller did not want the pixels
    scale: float  #: original pixels per analysis pixel


@dataclass(frozen=True)
class FaceTrack:
    """The main face per decoded frame (N) and its aligned crops per model tick (K; emoannot.timeline)."""
    times: np.ndarray  #: [N] float64 seconds, each decoded frame's presentation time
    present: np.ndarray  #: [N] bool, the main face was found in this frame
    score: np.ndarray  #: [N] float32 detector confidence (nan without face)
    box: np.ndarray  #: [N, 4] float32 x, y, w, h in original pixels (nan without face)
    crops: np.ndarray  #: [K, 48, 48] uint8 aligned grey crops, one per tick (zeros where crop_mask is 0)
    crop_mask: np.ndarray  #: [K] bool
    #: [K, 51] float32 the face's blendshape coefficients per tick (features.blendshapes.NAMES), read on the
    #: frame the crop comes from; NaN where the face landmarker found no face there or did not run
    blendshapes: np.ndarray | None = None

    def frame_blendshapes(self) -> np.ndarray:
        """[N, 51] each frame's blendshapes: its tick's, NaN on frames without this face (or never read)."""
        from emoannot.timeline import tick_of_time

        if self.blendshapes is None or not len(self.blendshapes):
            return np.full((self.n_frames, N_BLENDSHAPES), np.nan, np.float32)
        per_frame = self.blendshapes[tick_of_time(self.times, len(self.blendshapes))]
        return np.where(self.present[:, None], per_frame, np.nan).astype(np.float32)

    @property
    def n_frames(self) -> int:
        return int(self.times.shape[0])

    @property
    def coverage(self) -> float:
        return float(self.present.mean()) if self.n_frames else 0.0


@dataclass(frozen=True)
class Person:
    """One tracked person (faces.track_people): a stable id and their own face track, plus how much their
    mouth moves at each decoded frame (faces.mouth_motion; NaN where unseen)."""
    id: int  #: 1, 2, ... in order of first appearance; never reused within a video
    track: FaceTrack
    mouth: np.ndarray  #: [N] float32


@dataclass(frozen=True)
class Segment:
    """A stretch of time [start, end) in seconds (a voice-activity segment)."""
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
    """The speech stage's result (speech/)."""
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

    def clipped(self, end: float) -> "Transcript":
        """Only what lies before `end` seconds (audio that outlasts the video has no frame to go to)."""
        speech = tuple(Segment(s.start, min(s.end, end)) for s in self.speech if s.start < end)
        words = tuple(w for w in self.words if w.start < end)
        if speech == self.speech and words == self.words:
            return self
        return Transcript(speech, words, self.language, self.asr_model, self.warnings)


@dataclass(frozen=True)
class ModalityFeatures:
    """One modality at the model rate (features/). K = number of model ticks."""
    name: str  #: "visual", "audio" or "text"
    values: np.ndarray  #: [K, D] float32, zeros where mask is False
    mask: np.ndarray  #: [K] bool, the modality is present at this tick
    va: np.ndarray  #: [K, 2] float32 unimodal (valence, arousal) estimate, nan where mask is False

    def __post_init__(self) -> None:
        k = self.mask.shape[0]
        if self.values.shape[0] != k or self.va.shape != (k, 2):
            raise ValueError(f"{self.name}: inconsistent shapes {self.values.shape}, {self.mask.shape}, {self.va.shape}")

    def only(self, keep: np.ndarray) -> "ModalityFeatures":
        """This modality where `keep` [K] is True, absent elsewhere (the voice of the person speaking)."""
        mask = self.mask & keep
        return ModalityFeatures(self.name, np.where(mask[:, None], self.values, 0).astype(self.values.dtype), mask,
                                np.where(mask[:, None], self.va, np.nan).astype(self.va.dtype))


@dataclass(frozen=True)
class PersonResult:
    """One person's annotation, the unit of a result (Annotation.people): their face track and their own
    fusion, with the voice and words only where they are the one speaking (with --people main, the one face
    and all the speech). N = decoded frames, K = ticks."""
    id: int  #: 1, 2, ... in order of first appearance (the one face of --people main is 1)
    times: np.ndarray  #: [N] float64 seconds (the video's frame times)
    track: FaceTrack
    valence: np.ndarray  #: [N] float32 in [-1, 1], NaN without evidence
    arousal: np.ndarray  #: [N] float32, NaN without evidence
    sources: tuple[str, ...]  #: [N] modalities present at each frame, joined by "+" ("" none)
    speaking: np.ndarray  #: [N] bool, this person is the one speaking (--people main: inside speech)
    per_modality: dict[str, np.ndarray] = field(default_factory=dict)  #: "valence_visual" -> [N], NaN absent
    tick_va: np.ndarray | None = None  #: [K, 2] the fusion's output at the model rate (NaN without evidence)
    classes: tuple[str, ...] = ()  #: the fusion's emotion categories (none: weights without a category head)
    emotion_probs: np.ndarray | None = None  #: [N, len(classes)] float32, NaN without evidence

    @property
    def n_frames(self) -> int:
        return int(self.times.shape[0])

    @property
    def coverage(self) -> float:
        return self.track.coverage

    @property
    def emotion(self) -> tuple[str, ...]:
        """[N] the most probable category per frame; '' without evidence (or without a category head)."""
        return emotion_labels(self.emotion_probs, self.classes, self.n_frames)

    @property
    def emotion_p(self) -> np.ndarray:
        """[N] the probability of each frame's category; NaN without one (emoannot.confidence)."""
        from emoannot.confidence import emotion_p

        return emotion_p(self.emotion_probs, self.n_frames)

    @property
    def confidence(self) -> np.ndarray:
        """[N] how much each frame's estimate can be trusted, in [0, 1]; NaN without a value
        (emoannot.confidence: category certainty x face-voice agreement x closeness to evidence)."""
        from emoannot.confidence import frame_confidence

        return frame_confidence(self.times, self.valence, self.sources, self.per_modality, self.emotion_probs)


@dataclass(frozen=True)
class ModelRecord:
    """A model a result was made with (listed in the manifest, compared by batch --resume)."""
    name: str
    sha256: str
    detail: str = ""


@dataclass(frozen=True)
class Annotation:
    """The result of annotating one video: what the video shares (its frames, speech, words, warnings,
    models, settings) and its people, each a PersonResult with their own values; everything the writers
    need. N = decoded frames, K = ticks.

    `people` holds one person under --people main (the one face, possibly never seen) and everyone tracked
    under --people all; `main` is the index of the main person (the one visible and speaking most), whose
    values `valence`, `arousal`, `faces`, ... and `<name>.csv` give. A frame's valence/arousal are NaN where
    no modality is present within EVIDENCE_S of it: no information, no number."""
    info: VideoInfo
    times: np.ndarray  #: [N] float64 seconds
    speech: np.ndarray  #: [N] bool, inside a voice-activity segment
    word: tuple[str, ...]  #: [N] word being spoken ('' otherwise)
    transcript: Transcript
    people: tuple[PersonResult, ...]
    warnings: tuple[str, ...]
    seconds: dict[str, float]
    models: tuple[ModelRecord, ...]
    settings: Settings = field(default_factory=Settings)
    classes: tuple[str, ...] = ()  #: the fusion's emotion categories (none: weights without a category head)
    main: int = 0  #: index into `people` of the main person

    @property
    def person(self) -> PersonResult:
        """The main person."""
        return self.people[self.main]

    @property
    def by_person(self) -> bool:
        """--people all: every person is reported (people.csv, ids in the overlay, report and ELAN)."""
        from emoannot.config import PeopleMode

        return self.settings.faces.people == PeopleMode.all

    @property
    def tracked_people(self) -> tuple[PersonResult, ...]:
        """The people --people all reports: everyone seen (none under --people main, and none when nobody was
        in view: the one person is then id 0, the voice and words alone)."""
        return tuple(p for p in self.people if p.id > 0) if self.by_person else ()

    @property
    def main_person(self) -> int | None:
        """The main person's id under --people all (None under --people main, or when nobody was seen)."""
        return self.person.id if self.by_person and self.person.id > 0 else None

    # the main person's values, as before people were the unit: the public API and <name>.csv read these
    valence = property(lambda self: self.person.valence, doc="[N] float32 in [-1, 1], NaN without evidence")
    arousal = property(lambda self: self.person.arousal, doc="[N] float32, NaN without evidence")
    faces = property(lambda self: self.person.track, doc="the main person's FaceTrack")
    sources = property(lambda self: self.person.sources, doc="[N] modalities present at each frame")
    per_modality = property(lambda self: self.person.per_modality, doc='"valence_visual" -> [N], NaN absent')
    tick_va = property(lambda self: self.person.tick_va, doc="[K, 2] fused prediction at the model rate")
    emotion_probs = property(lambda self: self.person.emotion_probs, doc="[N, C] category probabilities")
    emotion = property(lambda self: self.person.emotion, doc="[N] the most probable category ('' none)")
    emotion_p = property(lambda self: self.person.emotion_p, doc="[N] that category's probability")
    confidence = property(lambda self: self.person.confidence, doc="[N] confidence (emoannot.confidence)")

    @property
    def n_frames(self) -> int:
        return int(self.times.shape[0])

    @property
    def duration_s(self) -> float:
        """The time range the frames cover: the last frame's time plus one frame interval."""
        from emoannot.timeline import video_end

        return video_end(self.times)

    def to_dataframe(self, extra: bool = False, *, extra_columns: bool | None = None):
        """The per-frame table of `<name>.csv` (the main person) as a pandas DataFrame: CSV_COLUMNS, then with
        `extra` what --extra-columns adds: each modality's own estimate, p_<category>, the bs_* blendshapes.
        `extra_columns=` is the same switch under the CLI option's name."""
        return person_table(self, self.person, CSV_COLUMNS, extra if extra_columns is None else extra_columns)

    def people_dataframe(self, extra_columns: bool = False):
        """The table of `<name>.people.csv`: one row per frame and person (PEOPLE_COLUMNS, then with
        `extra_columns` the same extra columns as the CSV, each person's own)."""
        import pandas as pd

        if not self.tracked_people:
            return pd.DataFrame(columns=list(PEOPLE_COLUMNS))
        parts = [person_table(self, p, PEOPLE_COLUMNS, extra_columns) for p in self.tracked_people]
        return pd.concat(parts).sort_values(["frame", "person"], kind="stable").reset_index(drop=True)


def person_table(a: Annotation, p: PersonResult, columns: tuple[str, ...], extra: bool = False):
    """One person's frames as a table with `columns` (CSV_COLUMNS or PEOPLE_COLUMNS: the one table builder of
    both CSVs), then with `extra` their per-modality estimates, category probabilities and blendshapes."""
    import pandas as pd

    n, box = a.n_frames, p.track.box
    makers = {
        "frame": lambda: np.arange(n),
        "time_s": lambda: np.round(a.times, 6),
        "person": lambda: np.full(n, p.id),
        "valence": lambda: np.round(p.valence, 4),
        "arousal": lambda: np.round(p.arousal, 4),
        "confidence": lambda: np.round(p.confidence, 4),
        "emotion": lambda: list(p.emotion),
        "emotion_p": lambda: np.round(p.emotion_p, 4),
        "face": lambda: p.track.present.astype(int),
        "face_score": lambda: np.round(p.track.score, 4),
        "face_x": lambda: np.round(box[:, 0], 1),
        "face_y": lambda: np.round(box[:, 1], 1),
        "face_w": lambda: np.round(box[:, 2], 1),
        "face_h": lambda: np.round(box[:, 3], 1),
        "speech": lambda: a.speech.astype(int),
        "speaking": lambda: p.speaking.astype(int),
        # the video's table has every word; a person's rows have the words they speak
        "word": lambda: list(a.word) if "speaking" not in columns else [w if s else "" for w, s in
                                                                         zip(a.word, p.speaking)],
        "sources": lambda: list(p.sources) if p.sources else [""] * n,
    }
    df = pd.DataFrame({c: makers[c]() for c in columns})
    if extra:
        for name, values in p.per_modality.items():
            df[name] = np.round(values, 4)
        if p.emotion_probs is not None:
            for i, c in enumerate(p.classes):
                df[f"p_{c}"] = np.round(p.emotion_probs[:, i], 4)
        _add_blendshape_columns(df, p.track)
    return df


def _add_blendshape_columns(df, track: FaceTrack) -> None:
    """The face's 51 blendshape coefficients per frame (bs_browDownLeft, ...), empty without a face."""

    values = np.round(track.frame_blendshapes(), 4)
    for j, name in enumerate(BLENDSHAPE_COLUMNS):
        df[name] = values[:, j]


def emotion_labels(probs: np.ndarray | None, classes: tuple[str, ...], n: int) -> tuple[str, ...]:
    """[N, C] probabilities -> [N] the most probable class name, '' where the row is NaN (no evidence)."""
    if probs is None or not classes:
        return ("",) * n
    ok = np.isfinite(probs).all(1)
    best = np.argmax(np.nan_to_num(probs, nan=-1.0), axis=1)
    return tuple(classes[b] if k else "" for b, k in zip(best, ok))


Features = tuple[ModalityFeatures, ModalityFeatures, ModalityFeatures]  #: visual, audio, text


@dataclass(frozen=True)
class PersonInput:
    """One person's fusion input: their face, and the voice and words where they are the one speaking."""
    person: Person
    features: Features
    speaking: np.ndarray  #: [K] bool


@dataclass(frozen=True)
class Extracted:
    """Every stage up to the fusion input (what `emoannot train --format affwild2` caches): the video's
    probe and transcript, and each person's fusion input: the one face with all the speech under --people
    main; under --people all everyone tracked, with the voice and words where they speak (or, when nobody
    is seen, one person of id 0: nobody in view, the voice and words alone). `main` indexes the main
    person, whose `track` and `features` these properties give."""
    info: VideoInfo
    transcript: Transcript
    people: tuple[PersonInput, ...]
    warnings: tuple[str, ...]
    seconds: dict[str, float]
    main: int = 0

    @property
    def track(self) -> FaceTrack:
        return self.people[self.main].person.track

    @property
    def features(self) -> Features:
        return self.people[self.main].features
