"""The offline labelled corpora (../shared/data): listing, labels on the circumplex, cached features."""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from emoannot.atomic import atomic_path
from emoannot.errors import DataError
from emoannot.labels import va_point

EMODB = {"W": "angry", "L": "bored", "E": "disgust", "A": "fear", "F": "happy", "T": "sad", "N": "neutral"}
RAVDESS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fear",
           "07": "disgust", "08": "surprise"}
RAVDESS_INTENSITY = {"01": "normal", "02": "strong"}
CREMA = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
CREMA_INTENSITY = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified", "X": "unspecified"}
#: categories the audio head classifies (the union of the speech corpora's categories)
SPEECH_CLASSES = ("angry", "bored", "calm", "disgust", "fear", "happy", "neutral", "sad", "surprise")


@dataclass(frozen=True)
class SpeechClip:
    path: Path
    corpus: str
    speaker: str
    category: str  #: "" when the clip has continuous labels only
    valence: float
    arousal: float


def speech_clips(data: Path) -> list[SpeechClip]:
    root = data / "speech"
    if not root.exists():
        raise DataError(f"no speech corpora under {root}; pass the folder that holds speech/, faces/ and text/ as DATA.")
    clips: list[SpeechClip] = []
    for p in sorted((root / "emodb").glob("*.wav")):
        cat = EMODB[p.stem[5]]
        clips.append(SpeechClip(p, "emodb", "emodb" + p.stem[:2], cat, *va_point(cat)))
    for p in sorted([*(root / "ravdess").glob("*.flac"), *(root / "ravdess").glob("*.wav")]):
        f = p.stem.split("-")
        cat = RAVDESS[f[2]]
        clips.append(SpeechClip(p, "ravdess", "ravdess" + f[6], cat, *va_point(cat, RAVDESS_INTENSITY[f[3]])))
    for p in sorted((root / "crema-d").glob("*.mp3")):
        f = p.stem.split("_")
        cat = CREMA[f[2]]
        clips.append(SpeechClip(p, "crema-d", "crema" + f[0], cat, *va_point(cat, CREMA_INTENSITY.get(f[3], "unspecified"))))
    paa = root / "pyaudioanalysis"
    if (paa / "valence.csv").exists():
        val = {r[0]: float(r[1]) for r in csv.reader(open(paa / "valence.csv")) if r}
        aro = {r[0]: float(r[1]) for r in csv.reader(open(paa / "arousal.csv")) if r}
        for name in sorted(val):
            if (paa / name).exists() and name in aro:
                clips.append(SpeechClip(paa / name, "pyaudioanalysis", "paa", "", val[name], aro[name]))
    return clips


@dataclass(frozen=True)
class EmoBank:
    text: list[str]
    split: np.ndarray  #: [N] str train/dev/test
    va: np.ndarray  #: [N, 2] float32 rescaled (x - 3) / 2 to [-1, 1]


def emobank(data: Path) -> EmoBank:
    path = data / "text" / "emobank.csv"
    if not path.exists():
        raise DataError(f"EmoBank not found at {path}; pass the folder that holds speech/, faces/ and text/ as DATA.")
    import pandas as pd

    df = pd.read_csv(path, keep_default_na=False)
    df = df[df["text"].str.strip().str.len() > 0]
    va = ((df[["V", "A"]].to_numpy(np.float32) - 3.0) / 2.0).clip(-1, 1)
    return EmoBank(df["text"].tolist(), df["split"].to_numpy(str), va)


def cached(path: Path, key: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """npz cache keyed by a string (recomputed when the key changes)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            if str(z["__key__"]) == digest:
                return {k: z[k] for k in z.files if k != "__key__"}
    out = build()
    with atomic_path(path) as tmp:
        np.savez(tmp, __key__=np.array(digest), **out)
    return out
