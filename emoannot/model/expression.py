"""Expression CNN for aligned 40x40 grey face crops (centre of a 48x48 crop).

Lean on purpose (about 0.6 M parameters) so that it trains on a 2-core CPU and runs at video rate.
Its 256-d global-average-pooled embedding is the visual feature of RJCMA; its 7-class posterior,
mapped through emoannot.labels, is the face-only valence/arousal estimate.
"""
from __future__ import annotations

import torch
from torch import nn

from emoannot.records import CROP_SIZE  # noqa: F401 - re-exported: the crop the faces stage cuts for this CNN
INPUT_SIZE = 40  #: centre crop (eval) or random crop (train) fed to the network
EMBED_DIM = 256


def _conv(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class ExpressionCNN(nn.Module):
    def __init__(self, n_classes: int = 7, embed_dim: int = EMBED_DIM) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *_conv(1, 32), nn.MaxPool2d(2),  # 20x20
            *_conv(32, 64), *_conv(64, 64), nn.MaxPool2d(2),  # 10x10
            *_conv(64, 128), *_conv(128, 128), nn.MaxPool2d(2),  # 5x5
            *_conv(128, embed_dim),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.dropout = nn.Dropout(0.4)
        self.classifier = nn.Linear(embed_dim, n_classes)

    @staticmethod
    def normalise(x: torch.Tensor) -> torch.Tensor:
        """uint8-range grey [B, 1, H, W] -> zero-mean unit-range floats."""
        return (x.float() / 255.0 - 0.5) / 0.25

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(self.normalise(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.embed(x)))

    def embed_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = self.embed(x)
        return e, self.classifier(e)


def centre_crop(x: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    h, w = x.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top : top + size, left : left + size]
