"""Settings and their defaults, defined once. Every stage takes the part it needs. (The time grid's
constants live in emoannot.timeline.)"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class AsrModel(str, Enum):
    tiny_en = "tiny.en"
    base = "base"


class AsrEngine(str, Enum):
    faster_whisper = "faster-whisper"
    openai_whisper = "openai-whisper"


class OutputFormat(str, Enum):
    csv = "csv"  #: always written
    affwild2 = "affwild2"  #: Aff-Wild2 challenge txt
    elan = "elan"  #: ELAN .eaf tiers
    vtt = "vtt"  #: WebVTT subtitles
    srt = "srt"  #: SubRip subtitles (the VTT's cues)
    json = "json"  #: the per-frame table as JSON (<name>.frames.json)
    html = "html"  #: self-contained HTML report
    all = "all"  #: every format above (only as a request: Settings expands it)


class Fusion(str, Enum):
    """The audio-visual fusion (emoannot.model.fusions); its weights part is the name with '_' for '-'."""
    rjcma = "rjcma"  #: recursive joint cross-modal attention (Praveen & Alam 2024), the default
    cfn_sr = "cfn-sr"  #: self-attention and residual cross-modal blocks (Fu et al. 2021)
    foal_net = "foal-net"  #: fusion after alignment and label matching (Li et al. 2024)

    @property
    def part(self) -> str:
        return self.value.replace("-", "_")


class PeopleMode(str, Enum):
    all = "all"  #: every face tracked with its own id; voice and words go to the person speaking
    main = "main"  #: one face (the largest), fused with all the speech: one-person speed


@dataclass(frozen=True)
class FaceConfig:
    min_confidence: float = 0.7  #: mediapipe scores real faces 0.84-0.99 on the test media, cartoons 0.52-0.64
    max_side: int = 640  #: frames are analysed at most this large (boxes are reported in original pixels)
    smooth: float = 0.6  #: weight of the new box in the exponential smoothing of the tracked box
    crop_margin: float = 1.15  #: crop side relative to the detector box's longer side
    full_range_fallback: bool = True  #: try the full-range detector where the short-range one finds nothing
    people: PeopleMode = PeopleMode.main  #: "all" tracks everyone (speaker attribution measured: README "Several people")
    forget_s: float = 10.0  #: a person unseen this long is not matched again by appearance (a new id instead)
    min_person_s: float = 0.5  #: tracks seen for less than this are dropped (detector flicker), not people
    #: detect and track on every decoded frame; False (the default): on the first frame of each tick (the
    #: model's rate, emoannot.timeline), the frames between taking interpolated boxes (emoannot.faces)
    every_frame: bool = False


@dataclass(frozen=True)
class SpeechConfig:
    asr_model: AsrModel = AsrModel.tiny_en
    asr_engine: AsrEngine = AsrEngine.faster_whisper
    language: str | None = None  #: None = detect (multilingual model) / English (tiny.en)
    vad_threshold: float = 0.5
    min_speech_ms: int = 250
    beam_size: int = 1
    #: faster-whisper decodes this many speech clips (of at most 30 s) at once (its BatchedInferencePipeline:
    #: about 2x faster on 2 cores, benchmarks/run.py; one temperature, no fallback); 0: one clip after the
    #: other with the fallback temperature. openai-whisper always goes one after the other.
    batch_size: int = 8
    check_language: bool = True  #: with tiny.en, identify the spoken language (base model) and warn if not English
    #: ...but only when tiny.en's words look unreliable: mean word probability below this, or none at all
    #: (English speech: 0.81-0.96 on the dev media; German through tiny.en: 0.18-0.67)
    language_check_below: float = 0.7
    max_words_per_s: float = 6.0  #: a segment denser than this (over at least 1 s) is a runaway decode: dropped
    #: decoding that cannot run away: greedy first, one fallback at most (whisper's default is six temperatures);
    #: batched decoding uses the first only
    temperatures: tuple[float, ...] = (0.0, 0.4)
    compression_ratio_threshold: float = 2.4  #: a more repetitive decode is retried (one after the other) or dropped
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    #: one after the other: skip text that whisper hallucinates into silences longer than this (batched
    #: decoding reads only the VAD's speech clips, so it has no such silences to fill)
    hallucination_silence_s: float = 2.0


@dataclass(frozen=True)
class Settings:
    device: Device = Device.auto
    weights: str = "default"
    fusion: Fusion = Fusion.rjcma
    faces: FaceConfig = field(default_factory=FaceConfig)
    speech: SpeechConfig = field(default_factory=SpeechConfig)
    write_plot: bool = True
    write_video: bool = False
    formats: tuple[OutputFormat, ...] = (OutputFormat.csv,)
    extra_columns: bool = False  #: per-modality estimates in the CSV

    def __post_init__(self) -> None:
        """Strings become their enums (Settings(device="cpu") works); anything else is a ValueError that lists
        what is accepted, here rather than deep inside torch or a writer."""
        def one(field_name: str, enum: type[Enum], value):
            try:
                return enum(getattr(value, "value", value))
            except ValueError:
                raise ValueError(f"{field_name}={value!r} is not one of {', '.join(e.value for e in enum)}.") from None

        object.__setattr__(self, "device", one("device", Device, self.device))
        object.__setattr__(self, "fusion", one("fusion", Fusion, self.fusion))
        if isinstance(self.formats, (str, Enum)) or not hasattr(self.formats, "__iter__"):
            raise ValueError(f"formats={self.formats!r} must be a tuple of formats, e.g. ('csv', 'html').")
        formats = tuple(one("formats", OutputFormat, f) for f in self.formats)
        if OutputFormat.all in formats:  # every format, in the enum's order
            formats = tuple(f for f in OutputFormat if f != OutputFormat.all)
        object.__setattr__(self, "formats", tuple(dict.fromkeys(formats)))

    def to_dict(self) -> dict:
        def clean(v):
            if isinstance(v, Enum):
                return v.value
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            return v

        return clean(asdict(self))

    def fingerprint(self) -> dict:
        """What decides the numbers in the outputs (used by batch --resume)."""
        d = self.to_dict()
        d.pop("device")
        return d
