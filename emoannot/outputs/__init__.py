"""Writers: per-frame CSV, Aff-Wild2 txt, manifest, plot and annotated video, into one output folder
that appears atomically (written under a temporary name, then renamed)."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from emoannot.errors import OutputError

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


@contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `final`; on success it replaces `final`, on any error it is removed."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the finished folder gets the usual mode
    try:
        yield tmp
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
