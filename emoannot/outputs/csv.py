"""Per-frame CSV (columns: records.CSV_COLUMNS, made by Annotation.to_dataframe), the people CSV
(records.PEOPLE_COLUMNS, Annotation.people_dataframe) and the Aff-Wild2 txt."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from emoannot.records import CSV_COLUMNS, Annotation

COLUMNS = CSV_COLUMNS
AFFWILD2_MISSING = -5


def write_csv(a: Annotation, path: Path, extra_columns: bool = False):
    """Write `<name>.csv`; returns the table (the plot draws from it)."""
    table = a.to_dataframe(extra_columns)
    table.to_csv(path, index=False, na_rep="")
    return table


def write_people_csv(a: Annotation, path: Path, extra_columns: bool = False):
    """Write `<name>.people.csv` (columns: records.PEOPLE_COLUMNS, with `extra_columns` the blendshapes);
    returns the table."""
    table = a.people_dataframe(extra_columns)
    table.to_csv(path, index=False, na_rep="")
    return table


def write_affwild2(a: Annotation, path: Path) -> None:
    """Header 'valence,arousal', one line per frame; -5 where there is no prediction."""
    v = np.where(np.isfinite(a.valence), a.valence, AFFWILD2_MISSING)
    ar = np.where(np.isfinite(a.arousal), a.arousal, AFFWILD2_MISSING)
    lines = ["valence,arousal"] + [f"{x:.4f},{y:.4f}" for x, y in zip(v, ar)]
    path.write_text("\n".join(lines) + "\n")
