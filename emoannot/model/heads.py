"""Unimodal valence/arousal heads over frozen encoder features (audio: whisper states; text: MiniLM)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


class VAHead(nn.Module):
    """Standardise -> MLP -> (valence, arousal) in [-1, 1], plus optional category logits."""

    def __init__(self, in_dim: int, n_classes: int = 0, hidden: int = 128, dropout: float = 0.3) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("std", torch.ones(in_dim))
        self.body = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout))
        self.va = nn.Linear(hidden, 2)
        self.cls = nn.Linear(hidden, n_classes) if n_classes else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.body((x - self.mean) / self.std)
        return torch.tanh(self.va(h)), (self.cls(h) if self.cls is not None else None)

    @torch.no_grad()
    def predict_va(self, x: np.ndarray) -> np.ndarray:
        self.eval()
        return self(torch.from_numpy(np.asarray(x, np.float32)))[0].numpy()

    @torch.no_grad()
    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        self.eval()
        logits = self(torch.from_numpy(np.asarray(x, np.float32)))[1]
        return logits.softmax(1).numpy()


def head_from_state(state: dict[str, torch.Tensor]) -> VAHead:
    in_dim = state["mean"].shape[0]
    hidden = state["va.weight"].shape[1]
    n_classes = state["cls.weight"].shape[0] if "cls.weight" in state else 0
    head = VAHead(in_dim, n_classes, hidden)
    head.load_state_dict(state)
    return head.eval()
