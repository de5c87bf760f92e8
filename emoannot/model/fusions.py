"""The three audio-visual fusions, one interface, one registry.

Every fusion reads the same per-tick inputs (features/__init__.fusion_input: each modality's features,
its unimodal (valence, arousal) and a presence bit, [B, L, D + 3], L = cfg.window) and returns
`(va [B, L, 2] in [-1, 1], logits [B, L, C] or None)`; `forward_train` also returns what a fusion's
auxiliary losses need (Foal-Net's alignment and label matching).

- rjcma:    recursive joint cross-modal attention (Praveen & Alam 2024), emoannot.model.rjcma
- cfn-sr:   self-attention and residual cross-modal blocks (Fu et al. 2021), emoannot.model.cfnsr
- foal-net: fusion after audio-video alignment and label matching (Li et al. 2024), emoannot.model.foalnet

The weights part of a fusion is its name with "_" for "-" (rjcma, cfn_sr, foal_net). A part may hold several
members of one configuration trained with different seeds (its card's "members"; tensors `members.<i>.<name>`),
read as one by FusionEnsemble. The layers the fusions share live in emoannot.model.layers (below them all);
this module is the registry and the ensemble only.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

import torch
from torch import nn

from emoannot.config import Fusion
from emoannot.model.layers import mean_reading

__all__ = ["Fusion", "FusionEnsemble", "REGISTRY", "build", "config_class", "members_of", "n_parameters"]

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


class FusionEnsemble(nn.Module):
    """Several fusions of one configuration trained with different seeds, read as one (as the face head's
    HeadEnsemble): (valence, arousal) is the members' mean and the category logits the log of their mean
    probabilities, so that what a video reads does not hang on one seed's luck. Same interface as a fusion
    (`cfg`, `forward(visual, audio, text) -> (va, logits)`); trained member by member."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.cfg = members[0].cfg

    def forward(self, visual: torch.Tensor, audio: torch.Tensor, text: torch.Tensor):
        return mean_reading([m(visual, audio, text) for m in self.members])


def build(fusion: Fusion | str, config: dict[str, Any], members: int = 1) -> nn.Module:
    """The module of `fusion` for the configuration dict of its model card; a FusionEnsemble of `members`
    such modules where the card says more than one."""
    module, cfg = _classes(Fusion(fusion))
    if members > 1:
        return FusionEnsemble([module(cfg.from_dict(config)) for _ in range(members)])
    return module(cfg.from_dict(config))


def members_of(model: nn.Module) -> list[nn.Module]:
    """The fusions a module reads: an ensemble's members, else the module itself."""
    return list(model.members) if isinstance(model, FusionEnsemble) else [model]


def n_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))
