"""Shared fixtures: real media from ../shared, media the tests make with ffmpeg, one Engine per session."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import EXAMPLE, ffmpeg


@pytest.fixture(scope="session")
def engine():
    from emoannot.config import Settings
    from emoannot.pipeline import Engine

    e = Engine(Settings(device="cpu"))
    yield e
    e.close()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def no_audio_video(media_dir) -> Path:
    out = media_dir / "no_audio.mp4"
    ffmpeg("-i", str(EXAMPLE), "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out))
    return out


@pytest.fixture(scope="session")
def silent_video(media_dir) -> Path:
    out = media_dir / "silent.mp4"
    ffmpeg("-i", str(EXAMPLE), "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-map", "0:v", "-map", "1:a",
           "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out))
    return out


@pytest.fixture(scope="session")
def odd_name_video(media_dir) -> Path:
    out = media_dir / "répertoire avec espaces" / "vidéo ünïcode 1.flv"
    out.parent.mkdir()
    shutil.copy(EXAMPLE, out)
    return out


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """The random-weights set of `--weights tiny` (emoannot/model/tiny.py), made here rather than in the user's
    cache: for plumbing tests that must run in seconds."""
    from emoannot.model.weights import write_tiny

    return write_tiny(tmp_path_factory.mktemp("tiny-weights"))


@pytest.fixture(scope="session")
def tiny_engine(tiny_weights):
    """Tiny weights with the real speech models (tiny.en); no language check, so whisper base never loads."""
    from emoannot.api import load
    from emoannot.config import SpeechConfig

    with load(device="cpu", weights=str(tiny_weights), speech=SpeechConfig(check_language=False)) as e:
        yield e
