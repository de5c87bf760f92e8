"""emoannot: per-frame valence, arousal and emotion category for any video (face, voice and words fused
with RJCMA, or CFN-SR / Foal-Net)."""
import os as _os
from importlib import metadata as _metadata
from typing import TYPE_CHECKING

# Everything runs offline and quietly: no hub lookups, no download progress bars, no TFLite chatter.
for _k, _v in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
               ("TRANSFORMERS_VERBOSITY", "error"), ("TOKENIZERS_PARALLELISM", "false"),
               ("GLOG_minloglevel", "2"), ("TF_CPP_MIN_LOG_LEVEL", "2")):
    _os.environ.setdefault(_k, _v)

try:
    __version__ = _metadata.version("emoannot")  #: one home: pyproject.toml's version, as installed
except _metadata.PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["Annotation", "Engine", "Fusion", "Settings", "annotate", "load", "plot", "predict", "__version__"]


if TYPE_CHECKING:  # what IDEs and type checkers see; at run time the names load on first use (__getattr__)
    from emoannot.api import annotate, load, plot, predict
    from emoannot.config import Fusion, Settings
    from emoannot.pipeline import Engine
    from emoannot.records import Annotation


def __dir__() -> list[str]:
    """The public API with the module's own names, so that help(emoannot) and tab completion list them."""
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str):
    """The public API, imported on first use so that `import emoannot` (and the CLI's --help) stay light."""
    if name in ("load", "annotate", "predict", "plot"):
        from emoannot import api

        return getattr(api, name)
    if name == "Engine":
        from emoannot.pipeline import Engine

        return Engine
    if name == "Annotation":
        from emoannot.records import Annotation

        return Annotation
    if name in ("Settings", "Fusion"):
        from emoannot import config

        return getattr(config, name)
    raise AttributeError(f"module 'emoannot' has no attribute {name!r}")
