"""Layers the fusions share (emoannot.model.rjcma, .cfnsr, .foalnet import them; nothing here imports a
fusion): the config record, the presence bit, attention over present ticks with a null key, a transformer
block, the per-modality convolutional encoder and the output heads; and how an ensemble of seeds reads
(mean_reading: the face head's and the fusion's)."""
from __future__ import annotations

from dataclasses import asdict

import torch
from torch import nn


class ConfigRecord:
    """to_dict / from_dict (the model card's JSON) for the frozen config dataclasses of the fusions."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def mean_reading(outs: list[tuple[torch.Tensor, torch.Tensor | None]]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Several models' (valence/arousal, category logits or None) read as one: the mean valence/arousal and
    the log of the mean category probabilities (heads.HeadEnsemble, fusions.FusionEnsemble)."""
    va = torch.stack([o[0] for o in outs]).mean(0)
    if outs[0][1] is None:
        return va, None
    return va, torch.stack([o[1].softmax(-1) for o in outs]).mean(0).log()


def presence(x: torch.Tensor) -> torch.Tensor:
    """[B, L, D + 3] fusion input -> [B, L] bool, the modality is present (its last column)."""
    return x[..., -1] > 0.5


class NullKeyAttention(nn.Module):
    """Multi-head attention over the present ticks of the key sequence plus one learned "nothing" token,
    so that a query whose keys are all absent attends to the null token instead of to padding."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.null = nn.Parameter(torch.zeros(1, 1, dim))
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, key_present: torch.Tensor) -> torch.Tensor:
        b = keys.shape[0]
        keys = torch.cat([self.null.expand(b, 1, -1), keys], dim=1)
        ignore = torch.cat([torch.zeros(b, 1, dtype=torch.bool, device=keys.device), ~key_present], dim=1)
        out, _ = self.attn(query, keys, keys, key_padding_mask=ignore, need_weights=False)
        return out


class AttentionBlock(nn.Module):
    """Post-norm transformer block whose attention is NullKeyAttention (self- or cross-attention)."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.attn = NullKeyAttention(dim, heads, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, key_present: torch.Tensor) -> torch.Tensor:
        h = self.norm1(query + self.drop(self.attn(query, keys, key_present)))
        return self.norm2(h + self.drop(self.ff(h)))


class ConvEncoder(nn.Module):
    """Per-modality representation: a linear projection, then residual 1-D convolutions over time
    (non-causal, 'same' padding), each with LayerNorm and GELU. [B, L, C_in] -> [B, L, dim]."""

    def __init__(self, c_in: int, dim: int, layers: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.proj = nn.Linear(c_in, dim)
        self.convs = nn.ModuleList(nn.Conv1d(dim, dim, kernel, padding=kernel // 2) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(layers))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.proj(x)
        for conv, norm in zip(self.convs, self.norms):
            h = norm(h + self.drop(nn.functional.gelu(conv(h.transpose(1, 2)).transpose(1, 2))))
        return h


class Heads(nn.Module):
    """Per-tick regression head (valence, arousal; tanh) and, with n_classes, category logits."""

    def __init__(self, dim: int, hidden: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(dim, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout))
        self.va = nn.Linear(hidden, 2)
        self.cls = nn.Linear(hidden, n_classes) if n_classes else None

    def forward(self, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.body(f)
        return torch.tanh(self.va(h)), (self.cls(h) if self.cls is not None else None)
