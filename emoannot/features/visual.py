"""Visual features: expression-CNN embeddings of the aligned crops beside the face's blendshapes (the
face landmarker's 51 expression coefficients and whether it read the face), and the face-only estimate."""
from __future__ import annotations

import numpy as np
import torch

from emoannot.features import ModalityFeatures
from emoannot.features.blendshapes import N_BLENDSHAPES
from emoannot.labels import FACE_CLASSES, va_matrix
from emoannot.model.expression import EMBED_DIM, ExpressionCNN, centre_crop
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


def _read(blendshapes: np.ndarray) -> np.ndarray:
    """[K, 51] blendshapes (NaN where unread) -> [K, 52]: the coefficients (0 where unread) and a read bit."""
    ok = np.isfinite(blendshapes).all(1)
    return np.concatenate([np.where(ok[:, None], blendshapes, 0.0), ok[:, None]], 1).astype(np.float32)


def face_vector(emb: np.ndarray, blendshapes: np.ndarray) -> np.ndarray:
    """What the visual head reads of a face: [K, 256] embedding + [K, 52] blendshapes and read bit = [K, 308]."""
    return np.concatenate([emb, _read(blendshapes)], 1).astype(np.float32)


def fusion_face(head, vector: np.ndarray) -> np.ndarray:
    """What the fusion reads of a face: the visual head's 7 category probabilities, the blendshapes and the
    read bit ([K, 59]). Not the CNN's embedding: 256 numbers shaped by FER2013's 48x48 web crops, on which
    the fusion's composites are built too, so the fusion would learn to lean on them, and they carry over to
    other faces less than the head's 7 categories and the landmarker's blendshapes do."""
    return np.concatenate([head.predict_proba(vector), vector[:, -(N_BLENDSHAPES + 1):]], 1).astype(np.float32)


def reads_blendshapes(head) -> bool:
    """A visual head of 308 inputs (face_vector); older sets' heads read the 256-d embedding alone."""
    return head is not None and head.in_dim == EMBED_DIM + N_BLENDSHAPES + 1


def face_readings(emb: np.ndarray, blendshapes: np.ndarray, probs: np.ndarray, head=None) -> tuple[np.ndarray, np.ndarray]:
    """Faces' CNN embeddings [n, 256], blendshapes [n, 51] (NaN where unread) and CNN posteriors [n, 7] ->
    (what the fusion reads of each face, the face-only (valence, arousal) [n, 2])."""
    if reads_blendshapes(head):
        vector = face_vector(emb, blendshapes)
        return fusion_face(head, vector), head.predict_va(vector)
    return emb, (head.predict_va(emb) if head is not None else posterior_to_va(probs))


def posterior_to_va(probs: np.ndarray) -> np.ndarray:
    return (probs @ va_matrix(FACE_CLASSES)).astype(np.float32)


def visual_features(track: FaceTrack, model: ExpressionCNN, device: str = "cpu", head=None) -> ModalityFeatures:
    """Per tick: what the fusion reads of the face and the face-only (valence, arousal): the visual head's
    calibrated estimate when the weights set has one, else the posterior-weighted average of the class
    points. A head of 308 inputs reads face_vector (embedding + blendshapes) and the fusion fusion_face;
    with a head of 256 inputs (weights sets trained before blendshapes) both read the embedding alone.
    Batch by batch into the output arrays: an hour of video holds no second copy of its crops."""
    mask = track.crop_mask.copy()
    k = len(mask)
    dim = head.n_classes + N_BLENDSHAPES + 1 if reads_blendshapes(head) else model.classifier.in_features
    values = np.zeros((k, dim), np.float32)
    va = np.full((k, 2), np.nan, np.float32)
    ticks = np.flatnonzero(mask)
    blendshapes = (track.blendshapes if track.blendshapes is not None
                   else np.full((k, N_BLENDSHAPES), np.nan, np.float32))
    for i in range(0, len(ticks), BATCH):
        sel = ticks[i : i + BATCH]
        emb, probs = embed_crops(model, track.crops[sel], device)
        values[sel], va[sel] = face_readings(emb, blendshapes[sel], probs, head)
    return ModalityFeatures("visual", values, mask, va)
