"""RJCMA: recursive joint cross-modal attention (Praveen & Alam, CVPR-W 2024), per design/rjcma.md.

Per modality a TCN (4 residual blocks, dilation 1/2/4/8, kernel 5, causal) and BatchNorm; then R
iterations of joint cross-attention, each with its own weights; then a regression head. The head has
two outputs (valence, arousal) - the variant design/rjcma.md allows - and, when the config names
`classes`, a second head of the same shape gives the emotion category logits per tick.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from emoannot.model.layers import ConfigRecord

MODALITIES = ("visual", "audio", "text")


@dataclass(frozen=True)
class RJCMAConfig(ConfigRecord):
    in_dims: tuple[int, int, int]  #: input feature sizes (visual, audio, text)
    out_dims: tuple[int, int, int] = (64, 32, 32)  #: d_v, d_a, d_t after each TCN
    channels: tuple[int, ...] = (64, 64, 64)  #: hidden TCN channels; the last block outputs out_dims[m]
    window: int = 100  #: L, the model-frame window the L x L key projection is tied to
    iterations: int = 2  #: R
    kernel: int = 5
    tcn_dropout: float = 0.1
    attn_dropout: float = 0.6
    head_hidden: int = 256
    classes: tuple[str, ...] = ()  #: emotion categories of the category head (none: valence/arousal only)


class _Chomp(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., : -self.n] if self.n else x


class TemporalBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        pad = (kernel - 1) * dilation
        layers: list[nn.Module] = []
        for i in range(2):
            layers += [weight_norm(nn.Conv1d(c_in if i == 0 else c_out, c_out, kernel, padding=pad, dilation=dilation)),
                       _Chomp(pad), nn.LeakyReLU(), nn.Dropout(dropout)]
        self.net = nn.Sequential(*layers)
        self.down = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) + self.down(x)


class TCN(nn.Module):
    """[B, L, C_in] -> [B, L, C_out]; receptive field 1 + 2 * (k - 1) * (1 + 2 + 4 + 8) = 121 frames."""

    def __init__(self, c_in: int, channels: tuple[int, ...], c_out: int, kernel: int, dropout: float) -> None:
        super().__init__()
        sizes = [c_in, *channels, c_out]
        self.blocks = nn.Sequential(*[TemporalBlock(sizes[i], sizes[i + 1], kernel, 2 ** i, dropout)
                                      for i in range(len(sizes) - 1)])
        self.norm = nn.BatchNorm1d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.blocks(x.transpose(1, 2))).transpose(1, 2)


class JointCrossAttention(nn.Module):
    """One iteration: every modality attends to the joint representation J = concat(X_v, X_a, X_t)."""

    def __init__(self, dims: tuple[int, ...], window: int, dropout: float) -> None:
        super().__init__()
        total = sum(dims)
        self.scale = 1.0 / math.sqrt(total)
        self.key = nn.ModuleList(nn.Linear(window, window, bias=False) for _ in dims)
        self.value = nn.ModuleList(nn.Linear(d, d, bias=False) for d in dims)
        self.out = nn.ModuleList(nn.Linear(total, d) for d in dims)
        self.drop = nn.Dropout(dropout)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        joint = torch.cat(xs, dim=-1)  # [B, L, D]
        updated = []
        for m, x in enumerate(xs):
            k = self.key[m](x.transpose(1, 2))  # [B, d_m, L]
            v = self.value[m](x)  # [B, L, d_m]
            c = self.drop(torch.tanh(torch.bmm(k, joint) * self.scale))  # [B, d_m, D]
            h = torch.relu(torch.tanh(torch.bmm(v, c)))  # [B, L, D]
            updated.append(x + self.drop(torch.relu(self.out[m](h))))
        return updated


class RJCMA(nn.Module):
    def __init__(self, cfg: RJCMAConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tcns = nn.ModuleList(TCN(i, cfg.channels, o, cfg.kernel, cfg.tcn_dropout)
                                  for i, o in zip(cfg.in_dims, cfg.out_dims))
        self.iterations = nn.ModuleList(JointCrossAttention(cfg.out_dims, cfg.window, cfg.attn_dropout)
                                        for _ in range(cfg.iterations))
        total = sum(cfg.out_dims)
        self.head = nn.Sequential(nn.Linear(total, cfg.head_hidden), nn.BatchNorm1d(cfg.head_hidden),
                                  nn.LeakyReLU(0.01), nn.Linear(cfg.head_hidden, 2))
        self.cls_head = (nn.Sequential(nn.Linear(total, cfg.head_hidden), nn.BatchNorm1d(cfg.head_hidden),
                                       nn.LeakyReLU(0.01), nn.Linear(cfg.head_hidden, len(cfg.classes)))
                         if cfg.classes else None)

    def forward_train(self, visual: torch.Tensor, audio: torch.Tensor, text: torch.Tensor):
        """Each input [B, L, in_dim_m] with L == cfg.window -> (valence/arousal [B, L, 2] in [-1, 1],
        category logits [B, L, C] or None, {} (RJCMA has no auxiliary loss))."""
        xs = [tcn(x) for tcn, x in zip(self.tcns, (visual, audio, text))]
        for it in self.iterations:
            xs = it(xs)
        f = torch.cat(xs, dim=-1)
        b, length, d = f.shape
        flat = f.reshape(b * length, d)
        va = torch.tanh(self.head(flat)).reshape(b, length, 2)
        logits = self.cls_head(flat).reshape(b, length, -1) if self.cls_head is not None else None
        return va, logits, {}

    def forward(self, visual: torch.Tensor, audio: torch.Tensor, text: torch.Tensor):
        va, logits, _ = self.forward_train(visual, audio, text)
        return va, logits


def ccc(x: torch.Tensor, y: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Concordance correlation coefficient along `dim`."""
    mx, my = x.mean(dim, keepdim=True), y.mean(dim, keepdim=True)
    vx, vy = ((x - mx) ** 2).mean(dim), ((y - my) ** 2).mean(dim)
    cov = ((x - mx) * (y - my)).mean(dim)
    return 2 * cov / (vx + vy + (mx.squeeze(dim) - my.squeeze(dim)) ** 2 + 1e-8)
