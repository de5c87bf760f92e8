"""Visual features: expression-CNN embeddings of the aligned crops, and the face-only estimate."""
from __future__ import annotations

import numpy as np
import torch

from emoannot.features import ModalityFeatures
from emoannot.labels import FACE_CLASSES, va_matrix
from emoannot.model.expression import ExpressionCNN, centre_crop
from emoannot.records import FaceTrack

BATCH = 64  #: crops per CNN pass: faster on CPU than 256 (measured) and a small transient


@torch.no_grad()
def embed_crops(model: ExpressionCNN, crops: np.ndarray, device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """[K, 48, 48] uint8 -> (L2-normalised embeddings [K, 256], class posteriors [K, 7])."""
    model.eval()
    embs, probs = [], []
    for i in range(0, len(crops), BATCH):
        x = centre_crop(torch.from_numpy(crops[i : i + BATCH]).unsqueeze(1)).to(device)
        e, logits = model.embed_and_logits(x)
        embs.append(torch.nn.functional.normalize(e, dim=1).cpu())
        probs.append(logits.softmax(1).cpu())
    if not embs:
        return np.zeros((0, model.classifier.in_features), np.float32), np.zeros((0, len(FACE_CLASSES)), np.float32)
    return torch.cat(embs).numpy(), torch.cat(probs).numpy()


def posterior_to_va(probs: np.ndarray) -> np.ndarray:
    return (probs @ va_matrix(FACE_CLASSES)).astype(np.float32)


def visual_features(track: FaceTrack, model: ExpressionCNN, device: str = "cpu", head=None) -> ModalityFeatures:
    """Per tick: the crop's embedding and the face-only (valence, arousal): the visual head's calibrated
    estimate when the weights set has one, else the posterior-weighted average of the class points.
    Batch by batch into the output arrays: an hour of video holds no second copy of its crops."""
    mask = track.crop_mask.copy()
    k = len(mask)
    dim = model.classifier.in_features
    values = np.zeros((k, dim), np.float32)
    va = np.full((k, 2), np.nan, np.float32)
    ticks = np.flatnonzero(mask)
    for i in range(0, len(ticks), BATCH):
        sel = ticks[i : i + BATCH]
        emb, probs = embed_crops(model, track.crops[sel], device)
        values[sel] = emb
        va[sel] = head.predict_va(emb) if head is not None else posterior_to_va(probs)
    return ModalityFeatures("visual", values, mask, va)
