"""manifest.json: when and by which command it was made, the input's probe, models with sha256, settings,
software versions, seconds per stage. Measured floats are rounded to 6 decimals (a time to the microsecond);
a model shipped with emoannot is named by its path inside the installed package (emoannot_weights/...;
weights/... in a source checkout), the same on every machine."""
from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from emoannot.hashing import file_identity
from emoannot.records import Annotation
from emoannot.timeline import frame_durations

PACKAGES = ("torch", "mediapipe", "faster-whisper", "ctranslate2", "silero-vad", "tokenizers", "av",
            "numpy", "pandas", "matplotlib")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in ("emoannot", *PACKAGES):  # emoannot's own version from its installed metadata, like the others
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = ""
    return out


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def _model_source(detail: str) -> str:
    """A shipped model's path inside the package (the same on every machine); any other as it was given."""
    from emoannot.model.weights import shipped_dir

    try:
        return Path(detail).resolve().relative_to(shipped_dir().resolve().parent).as_posix()
    except (ValueError, OSError):
        return detail


def command_line() -> str:
    """How this process was started: `emoannot predict ...` from the CLI, else the Python script's command."""
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return shlex.join([prog, *sys.argv[1:]])


def manifest(a: Annotation, device: str, outputs: dict[str, str]) -> dict:
    return {
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command_line(),
        "input": a.info.to_dict(),
        "input_identity": file_identity(a.info.path),
        "input_path_absolute": os.path.abspath(a.info.path),
        "frames_decoded": a.n_frames,
        "duration_s": _r(a.duration_s),
        "first_time_s": _r(a.times[0]) if a.n_frames else None,
        "last_time_s": _r(a.times[-1]) if a.n_frames else None,
        "face_coverage": _r(a.faces.coverage),
        "speech_seconds": _r(a.transcript.speech_seconds()),
        "words": len(a.transcript.words),
        "language": a.transcript.language,
        "transcript": a.transcript.text,
        "frames_with_values": int(np.isfinite(a.valence).sum()),
        "valence_mean": _stat(a.valence, np.mean),
        "arousal_mean": _stat(a.arousal, np.mean),
        "valence_sd": _stat(a.valence, np.std),
        "arousal_sd": _stat(a.arousal, np.std),
        "confidence_mean": _stat(a.confidence, np.mean),
        "speech_coverage": _r(a.speech.mean()) if a.n_frames else 0.0,
        "valued_coverage": _r(np.isfinite(a.valence).mean()) if a.n_frames else 0.0,
        "fusion": a.settings.fusion.value,
        "emotion_classes": list(a.classes),
        "emotion_share": emotion_share(a.emotion),
        "people": [{"person": p.id, "main": p.id == a.main_person, "face_coverage": round(p.coverage, 4),
                    "speaking_s": round(float(frame_durations(a.times)[p.speaking].sum()), 2),
                    "frames_with_values": int(np.isfinite(p.valence).sum())} for p in a.tracked_people],
        "warnings": list(a.warnings),
        "models": [{"name": m.name, "sha256": m.sha256, "source": _model_source(m.detail)} for m in a.models],
        "settings": a.settings.to_dict(),
        "settings_fingerprint": a.settings.fingerprint(),
        "device": device,
        "versions": versions(),
        "seconds": {k: round(v, 3) for k, v in a.seconds.items()},
        "outputs": outputs,
    }


def _stat(x: np.ndarray, f) -> float | None:
    """f over the frames that have a value (None when none has one)."""
    x = np.asarray(x, np.float64)
    x = x[np.isfinite(x)]
    return _r(f(x)) if len(x) else None


def emotion_share(emotion: tuple[str, ...]) -> dict[str, float]:
    """Share of the frames with a category that carry each category, most frequent first."""
    named = [e for e in emotion if e]
    if not named:
        return {}
    names, counts = np.unique(named, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return {str(names[i]): round(float(counts[i]) / len(named), 4) for i in order}


def read_manifest(path: Path) -> dict:
    return json.loads(path.read_text())
