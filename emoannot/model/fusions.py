"""The three audio-visual fusions, one interface, one registry.

Every fusion reads the same per-tick inputs (features/__init__.fusion_input: each modality's features,
its unimodal (valence, arousal) and a presence bit, [B, L, D + 3], L = cfg.window) and returns
`(va [B, L, 2] in [-1, 1], logits [B, L, C] or None)`; `forward_train` also returns what a fusion's
auxiliary losses need (Foal-Net's alignment and label matching).

- rjcma:    recursive joint cross-modal attention (Praveen & Alam 2024), emoannot.model.rjcma
- cfn-sr:   self-attention and residual cross-modal blocks (Fu et al. 2021), emoannot.model.cfnsr
- foal-net: fusion after audio-video alignment and label matching (Li et al. 2024), emoannot.model.foalnet

The weights part of a fusion is its name with "_" for "-" (rjcma, cfn_sr, foal_net). The layers the fusions
share live in emoannot.model.layers (below them all); this module is the registry only.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from torch import nn

from emoannot.config import Fusion

__all__ = ["Fusion", "REGISTRY", "build", "config_class", "n_parameters"]

#: fusion -> (module, model class, config class); the modules import only emoannot.model.layers
REGISTRY: dict[Fusion, tuple[str, str, str]] = {
    Fusion.rjcma: ("emoannot.model.rjcma", "RJCMA", "RJCMAConfig"),
    Fusion.cfn_sr: ("emoannot.model.cfnsr", "CFNSR", "CFNSRConfig"),
    Fusion.foal_net: ("emoannot.model.foalnet", "FoalNet", "FoalNetConfig"),
}


def _classes(fusion: Fusion):
    module, model, config = REGISTRY[Fusion(fusion)]
    loaded = import_module(module)
    return getattr(loaded, model), getattr(loaded, config)


def config_class(fusion: Fusion):
    return _classes(Fusion(fusion))[1]


def build(fusion: Fusion | str, config: dict[str, Any]) -> nn.Module:
    """The module of `fusion` for the configuration dict of its model card."""
    module, cfg = _classes(Fusion(fusion))
    return module(cfg.from_dict(config))


def n_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))
