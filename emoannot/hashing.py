"""sha256 of files (weights, ASR models, input identity)."""
from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


ENDS = 1 << 20  #: bytes read at each end of a file for its fast identity


def file_identity(path: Path) -> dict:
    """Size, modification time and the sha256 of the first and last MiB: enough to notice that a file of
    the same name was replaced, without reading a whole video."""
    st = Path(path).stat()
    h = hashlib.sha256(str(st.st_size).encode())
    with open(path, "rb") as f:
        h.update(f.read(ENDS))
        if st.st_size > 2 * ENDS:
            f.seek(-ENDS, 2)
            h.update(f.read(ENDS))
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256_ends": h.hexdigest()}
