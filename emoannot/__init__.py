"""emoannot: per-frame valence and arousal for any video (face, voice and words fused with RJCMA)."""

__version__ = "0.1.0"
