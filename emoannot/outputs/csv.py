"""Per-frame CSV (architecture.md columns) and the Aff-Wild2 txt export."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emoannot.pipeline import Annotation

COLUMNS = ("frame", "time_s", "valence", "arousal", "face", "face_score", "face_x", "face_y", "face_w",
           "face_h", "speech", "word")
AFFWILD2_MISSING = -5


def frame_table(a: Annotation, extra_columns: bool = False) -> pd.DataFrame:
    box = a.faces.box
    df = pd.DataFrame({
        "frame": np.arange(a.n_frames),
        "time_s": np.round(a.times, 6),
        "valence": np.round(a.valence, 4),
        "arousal": np.round(a.arousal, 4),
        "face": a.faces.present.astype(int),
        "face_score": np.round(a.faces.score, 4),
        "face_x": np.round(box[:, 0], 1),
        "face_y": np.round(box[:, 1], 1),
        "face_w": np.round(box[:, 2], 1),
        "face_h": np.round(box[:, 3], 1),
        "speech": a.speech.astype(int),
        "word": list(a.word),
    })
    if extra_columns:
        for name, values in a.per_modality.items():
            df[name] = np.round(values, 4)
    return df


def write_csv(a: Annotation, path: Path, extra_columns: bool = False) -> None:
    frame_table(a, extra_columns).to_csv(path, index=False, na_rep="")


def write_affwild2(a: Annotation, path: Path) -> None:
    """Header 'valence,arousal', one line per frame; -5 where there is no prediction."""
    v = np.where(np.isfinite(a.valence), a.valence, AFFWILD2_MISSING)
    ar = np.where(np.isfinite(a.arousal), a.arousal, AFFWILD2_MISSING)
    lines = ["valence,arousal"] + [f"{x:.4f},{y:.4f}" for x, y in zip(v, ar)]
    path.write_text("\n".join(lines) + "\n")


def read_prediction(path: Path) -> pd.DataFrame:
    """An emoannot CSV or an Aff-Wild2 txt -> DataFrame with valence, arousal (nan for -5)."""
    df = pd.read_csv(path)
    df = df.rename(columns=str.strip)
    for col in ("valence", "arousal"):
        if col not in df:
            raise ValueError(f"{path} has no '{col}' column")
        df[col] = df[col].astype(float).where(df[col].astype(float) > AFFWILD2_MISSING + 0.5)
    return df
