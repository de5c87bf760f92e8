"""Atomic writes, in one place: a file is written under a temporary name beside its final place and
renamed when complete, so that a failure, Ctrl-C or SIGTERM never leaves half of it; result folders are
filled from a partial folder beside them (outputs.commit_folder)."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a unique temporary path beside `final` (same suffix, so tools that look at it still work);
    on success it replaces `final`, on any error it is removed."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}", dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


PARTIAL = ".partial-"  #: marks a folder being written: `.<name>.partial-<pid>-<random>`
#: the file inside every partial folder that says emoannot made it (it holds the folder's own name): a folder
#: of the same name pattern without it is a user's, and is never removed
PARTIAL_MARK = ".emoannot-partial"


@contextmanager
def partial_folder(final: Path) -> Iterator[Path]:
    """A temporary folder beside `final` for files being written; it is removed when the block ends (the
    caller moves the finished files out first), also on an error, Ctrl-C or SIGTERM. The writer's pid is
    in its name, so that a folder left by a killed process can be told apart (clean_stale_partials)."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}{PARTIAL}{os.getpid()}-", dir=final.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; the finished files get the usual mode
    try:
        (tmp / PARTIAL_MARK).write_text(tmp.name + "\n")
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def clean_stale_partials(root: Path, recursive: bool = False) -> list[Path]:
    """Remove the partial folders under `root` whose writer is no longer running (killed with -9, power
    loss) and that emoannot can prove it made (their PARTIAL_MARK names the folder); returns what was
    removed. A folder that only looks like one (a user's `.notes.partial-12-x`) is left alone."""
    removed = []
    if not Path(root).is_dir():
        return removed
    for p in (Path(root).rglob if recursive else Path(root).glob)(f".*{PARTIAL}*"):
        try:
            pid = int(p.name.rsplit(PARTIAL, 1)[1].split("-", 1)[0])
        except (IndexError, ValueError):
            continue
        if p.is_dir() and not p.is_symlink() and _ours(p) and not _alive(pid):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _ours(folder: Path) -> bool:
    try:
        return (folder / PARTIAL_MARK).read_text().strip() == folder.name
    except (OSError, UnicodeDecodeError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
