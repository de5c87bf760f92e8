"""Which torch device a run uses."""
from __future__ import annotations

from emoannot.errors import DeviceError


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; 'cuda' without a GPU is an error."""
    import torch

    device = getattr(device, "value", device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda was asked for but torch sees no CUDA GPU; use --device cpu or auto.")
    return device


def compute_type(device: str) -> str:
    """CTranslate2 precision: float16 on a GPU, int8 on the CPU."""
    return "float16" if device == "cuda" else "int8"
