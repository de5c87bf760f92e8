"""emoannot: per-frame valence and arousal for any video (face, voice and words fused with RJCMA)."""
import os as _os

# Everything runs offline and quietly: no hub lookups, no download progress bars, no TFLite chatter.
for _k, _v in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
               ("TRANSFORMERS_VERBOSITY", "error"), ("TOKENIZERS_PARALLELISM", "false"),
               ("GLOG_minloglevel", "2"), ("TF_CPP_MIN_LOG_LEVEL", "2")):
    _os.environ.setdefault(_k, _v)

__version__ = "0.1.0"
