"""RJCMA inference over a whole video: fixed windows with overlap averaging at the model rate."""
from __future__ import annotations

import numpy as np
import torch

from emoannot.features import fusion_input
from emoannot.model.rjcma import RJCMA
from emoannot.records import ModalityFeatures
from emoannot.timeline import INFER_HOP, window_starts


@torch.no_grad()
def fuse(model: RJCMA, feats: tuple[ModalityFeatures, ModalityFeatures, ModalityFeatures],
         device: str = "cpu", hop: int = INFER_HOP, batch: int = 64) -> np.ndarray:
    """-> [K, 2] (valence, arousal) per model tick. Clips shorter than a window are zero-padded."""
    model.eval()
    window = model.cfg.window
    inputs = [fusion_input(f) for f in feats]
    k = inputs[0].shape[0]
    padded = [np.pad(x, ((0, max(0, window - k)), (0, 0))) for x in inputs]
    starts = window_starts(k, window, hop)
    total = np.zeros((max(k, window), 2), np.float64)
    count = np.zeros(max(k, window), np.float64)
    for b in range(0, len(starts), batch):
        chunk = starts[b : b + batch]
        xs = [torch.from_numpy(np.stack([x[s : s + window] for s in chunk])).to(device) for x in padded]
        out = model(*xs).cpu().numpy()
        for s, o in zip(chunk, out):
            total[s : s + window] += o
            count[s : s + window] += 1
    return (total[:k] / count[:k, None]).astype(np.float32)
