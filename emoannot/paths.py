"""Where emoannot finds its data, weights and cache. Environment variables override the defaults."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The labelled corpora (../shared/data beside the repository unless EMOANNOT_DATA says otherwise)."""
    env = os.environ.get("EMOANNOT_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def cache_dir() -> Path:
    """Converted ASR weights and cached features (EMOANNOT_CACHE, else ~/.cache/emoannot)."""
    env = os.environ.get("EMOANNOT_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "emoannot"
    base.mkdir(parents=True, exist_ok=True)
    return base
