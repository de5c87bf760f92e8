"""What the tests share besides fixtures: where the media are, and small helpers. Test modules import it
(`from helpers import ...`; pytest puts tests/ on sys.path); conftest.py holds only fixtures."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EMOANNOT_SHARED", ROOT.parent / "shared"))
MEDIA = SHARED / "media"
CREMA = SHARED / "data" / "av" / "crema-d"
EXAMPLE = ROOT / "examples" / "1001_DFA_HAP_XX.flv"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available (set EMOANNOT_SHARED to the shared folder)")
    return path


def ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], check=True)


def count_frames(path: Path) -> int:
    """Frames counted by the ffmpeg binary (independent of emoannot's PyAV decoder)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.count_frames_and_secs(str(path))[0]
