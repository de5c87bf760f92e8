"""Writers: per-frame CSV, Aff-Wild2 txt (csv.py), manifest (manifest.py), plot (plot.py) and annotated
video (overlay.py), into one output folder that appears atomically (emoannot.atomic). They read
records.Annotation and never import torch."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from emoannot.atomic import atomic_folder
from emoannot.errors import OutputError

__all__ = ["SUFFIX", "OutputPaths", "atomic_folder", "check_writable", "output_folder"]

SUFFIX = ".emoannot"


@dataclass(frozen=True)
class OutputPaths:
    folder: Path
    csv: Path
    manifest: Path
    plot: Path | None = None
    video: Path | None = None
    affwild2: Path | None = None


def output_folder(video: Path, out_root: Path) -> Path:
    return out_root / f"{video.stem}{SUFFIX}"


def check_writable(folder: Path) -> None:
    """Fail early (before any model runs) when `folder` cannot be created or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".emoannot-write-test-"):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write to {folder} ({exc.strerror}); choose another folder with --out.",
                          stage="output") from exc
