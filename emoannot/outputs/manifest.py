"""manifest.json: the input's probe, models with sha256, settings, software versions, seconds per stage."""
from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path

import numpy as np

from emoannot import __version__
from emoannot.hashing import file_identity
from emoannot.records import Annotation
from emoannot.timeline import frame_durations

PACKAGES = ("torch", "mediapipe", "faster-whisper", "ctranslate2", "silero-vad", "tokenizers", "av",
            "numpy", "pandas", "matplotlib")


def versions() -> dict[str, str]:
    out = {"emoannot": __version__, "python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = ""
    return out


def manifest(a: Annotation, device: str, outputs: dict[str, str]) -> dict:
    return {
        "input": a.info.to_dict(),
        "input_identity": file_identity(a.info.path),
        "input_path_absolute": os.path.abspath(a.info.path),
        "frames_decoded": a.n_frames,
        "duration_s": a.duration_s,
        "first_time_s": float(a.times[0]) if a.n_frames else None,
        "last_time_s": float(a.times[-1]) if a.n_frames else None,
        "face_coverage": a.faces.coverage,
        "speech_seconds": a.transcript.speech_seconds(),
        "words": len(a.transcript.words),
        "language": a.transcript.language,
        "transcript": a.transcript.text,
        "frames_with_values": int(np.isfinite(a.valence).sum()),
        "valence_mean": _stat(a.valence, np.mean),
        "arousal_mean": _stat(a.arousal, np.mean),
        "valence_sd": _stat(a.valence, np.std),
        "arousal_sd": _stat(a.arousal, np.std),
        "speech_coverage": float(a.speech.mean()) if a.n_frames else 0.0,
        "valued_coverage": float(np.isfinite(a.valence).mean()) if a.n_frames else 0.0,
        "fusion": a.settings.fusion.value,
        "emotion_classes": list(a.classes),
        "emotion_share": emotion_share(a.emotion),
        "people": [{"person": p.id, "main": p.id == a.main_person, "face_coverage": round(p.coverage, 4),
                    "speaking_s": round(float(frame_durations(a.times)[p.speaking].sum()), 2),
                    "frames_with_values": int(np.isfinite(p.valence).sum())} for p in a.people],
        "warnings": list(a.warnings),
        "models": [{"name": m.name, "sha256": m.sha256, "source": m.detail} for m in a.models],
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
    return float(f(x)) if len(x) else None


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
