"""`<name>.frames.json`: the per-frame table as JSON, for scripts that would rather not parse a CSV, with the
words and the warnings beside it (whisper's JSON is its segments; emoannot's unit is the frame).

    {"video": ..., "duration_s": ..., "fps": ..., "classes": [...], "columns": [...],
     "frames": [{"frame": 0, "time_s": 0.0, "valence": 0.12, ..., "emotion": "happy", ...}, ...],
     "words": [{"start": 0.43, "end": 0.61, "text": "Don't", "probability": 0.93}, ...],
     "warnings": [...]}

The frames carry the CSV's columns (records.CSV_COLUMNS, with --extra-columns the extra ones) with the
same rounding; an empty CSV cell is null.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emoannot.records import Annotation


def _value(v):
    if isinstance(v, np.float32):  # its shortest decimal form, as the CSV writes it (0.3206, not 0.32060000300...)
        return None if not np.isfinite(v) else float(str(v))
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return None if v == "" else v


def frames_document(a: Annotation) -> dict:
    table = a.to_dataframe(a.settings.extra_columns)
    columns = list(table.columns)
    values = {c: table[c].to_numpy() for c in columns}  # each column in its own dtype (float32 stays float32)
    rows = [{c: _value(values[c][i]) for c in columns} for i in range(len(table))]
    return {
        "video": a.info.path.name,
        "duration_s": round(a.duration_s, 6),
        "fps": a.info.fps,
        "classes": list(a.classes),
        "columns": columns,
        "frames": rows,
        "words": [{"start": round(w.start, 3), "end": round(w.end, 3), "text": w.text.strip(),
                   "probability": round(w.probability, 3)} for w in a.transcript.words],
        "warnings": list(a.warnings),
    }


def write_frames_json(a: Annotation, path: Path) -> None:
    path.write_text(json.dumps(frames_document(a), ensure_ascii=False) + "\n", encoding="utf-8")
