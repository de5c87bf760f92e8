"""Where emoannot keeps its cache (converted ASR weights, joined model files). EMOANNOT_CACHE overrides it."""
from __future__ import annotations

import os
from pathlib import Path

def cache_dir() -> Path:
    """Converted ASR weights and cached features (EMOANNOT_CACHE, else ~/.cache/emoannot)."""
    env = os.environ.get("EMOANNOT_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "emoannot"
    base.mkdir(parents=True, exist_ok=True)
    return base
