"""Unimodal valence/arousal heads over frozen encoder features (audio: whisper states; text: MiniLM)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from emoannot.model.layers import mean_reading


class Reading(nn.Module):
    """What the product asks of a head: (valence, arousal) and category probabilities of feature rows."""

    @torch.no_grad()
    def predict_va(self, x: np.ndarray) -> np.ndarray:
        self.eval()
        return self(torch.from_numpy(np.asarray(x, np.float32)))[0].numpy()

    @torch.no_grad()
    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        self.eval()
        logits = self(torch.from_numpy(np.asarray(x, np.float32)))[1]
        return logits.softmax(1).numpy()


class VAHead(Reading):
    """Standardise -> MLP -> (valence, arousal) in [-1, 1], plus optional category logits.

    `cal_matrix` and `cal_offset` hold an affine calibration fitted after training (identity until then):
    (valence, arousal) = tanh(...) @ cal_matrix + cal_offset, clipped to [-1, 1].

    `centre` and `centre_prior` say what the head expects of its input's speaker (the audio head): with
    centre_prior > 0 it was trained on features minus each speaker's neutral mean, and at inference the
    features are centred on features.audio.speaker_centre (the video's own speech mean, drawn towards
    `centre` by centre_prior ticks of it); 0 (every other head, and older sets): raw features."""

    def __init__(self, in_dim: int, n_classes: int = 0, hidden: int = 128, dropout: float = 0.3) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("std", torch.ones(in_dim))
        self.register_buffer("cal_matrix", torch.eye(2))
        self.register_buffer("cal_offset", torch.zeros(2))
        self.register_buffer("centre", torch.zeros(in_dim))
        self.register_buffer("centre_prior", torch.zeros(()))
        self.body = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout))
        self.va = nn.Linear(hidden, 2)
        self.cls = nn.Linear(hidden, n_classes) if n_classes else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.body((x - self.mean) / self.std)
        va = torch.tanh(self.va(h)) @ self.cal_matrix + self.cal_offset
        return va.clamp(-1, 1), (self.cls(h) if self.cls is not None else None)

    @property
    def in_dim(self) -> int:
        return int(self.mean.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.cls.out_features) if self.cls is not None else 0


class HeadEnsemble(Reading):
    """Several VAHeads of one recipe fitted with different seeds (each calibrated on its own), read as one:
    (valence, arousal) is the members' mean and the category logits the log of their mean probabilities, so
    a reading does not depend on one seed's luck. Same interface as a VAHead."""

    def __init__(self, members: list[VAHead]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    @property
    def in_dim(self) -> int:
        return self.members[0].in_dim

    @property
    def n_classes(self) -> int:
        return self.members[0].n_classes

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return mean_reading([m(x) for m in self.members])


def head_from_state(state: dict[str, torch.Tensor]) -> VAHead | HeadEnsemble:
    """A VAHead, or a HeadEnsemble where the state's keys are `members.<i>.<name>`."""
    if any(k.startswith("members.") for k in state):
        n = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("members."))
        return HeadEnsemble([head_from_state({k.split(".", 2)[2]: v for k, v in state.items()
                                              if k.startswith(f"members.{i}.")}) for i in range(n)]).eval()
    in_dim = state["mean"].shape[0]
    hidden = state["va.weight"].shape[1]
    n_classes = state["cls.weight"].shape[0] if "cls.weight" in state else 0
    head = VAHead(in_dim, n_classes, hidden)
    optional = {"cal_matrix", "cal_offset", "centre", "centre_prior"}
    missing, unexpected = head.load_state_dict(state, strict=False)
    if unexpected or set(missing) - optional:  # heads saved before these existed keep their neutral values
        raise KeyError(f"head state does not fit a VAHead: missing {missing}, unexpected {unexpected}")
    return head.eval()
