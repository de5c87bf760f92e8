"""Fusion inference over a whole video (any of emoannot.model.fusions): fixed windows with overlap
averaging at the model rate."""
from __future__ import annotations

import numpy as np
import torch

from emoannot.features import fusion_input
from emoannot.records import ModalityFeatures
from emoannot.timeline import INFER_HOP, window_starts


@torch.no_grad()
def fuse(model: torch.nn.Module, feats: tuple[ModalityFeatures, ModalityFeatures, ModalityFeatures],
         device: str = "cpu", hop: int = INFER_HOP, batch: int = 64) -> tuple[np.ndarray, np.ndarray | None]:
    """-> ([K, 2] (valence, arousal) per model tick, [K, C] category probabilities or None when the fusion has
    no category head). Overlapping windows are averaged (probabilities too). Clips shorter than a window
    are zero-padded."""
    model.eval()
    window = model.cfg.window
    inputs = [fusion_input(f) for f in feats]
    k = inputs[0].shape[0]
    if k < window:  # np.pad copies: only where needed (an hour of inputs is ~150 MB)
        inputs = [np.pad(x, ((0, window - k), (0, 0))) for x in inputs]
    starts = window_starts(k, window, hop)
    total = np.zeros((max(k, window), 2), np.float64)
    probs = None
    count = np.zeros(max(k, window), np.float64)
    for b in range(0, len(starts), batch):
        chunk = starts[b : b + batch]
        xs = [torch.from_numpy(np.stack([x[s : s + window] for s in chunk])).to(device) for x in inputs]
        va, logits = model(*xs)
        va = va.cpu().numpy()
        p = logits.softmax(-1).cpu().numpy() if logits is not None else None
        if p is not None and probs is None:
            probs = np.zeros((max(k, window), p.shape[-1]), np.float64)
        for i, s in enumerate(chunk):
            total[s : s + window] += va[i]
            if p is not None:
                probs[s : s + window] += p[i]
            count[s : s + window] += 1
    va = (total[:k] / count[:k, None]).astype(np.float32)
    return va, (None if probs is None else (probs[:k] / count[:k, None]).astype(np.float32))
