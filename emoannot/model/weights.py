"""Registry of named weights: file, sha256 and model card, safetensors only.

A weights set is a folder holding `registry.json` ({name: {file, sha256, card}}), the safetensors
files and one JSON model card per file. The shipped set lives in the repository's top-level
`weights/` (installed as the `emoannot_weights` package); `--weights PATH` selects another folder.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors.torch import load_file, save_file

from emoannot.atomic import atomic_path, write_text
from emoannot.errors import WeightsError
from emoannot.hashing import sha256_of

REGISTRY_FILE = "registry.json"
DEFAULT_SET = "default"
#: the parts a complete emoannot weights set must hold
REQUIRED_PARTS = ("expression_cnn", "audio_head", "text_head", "rjcma")


@dataclass(frozen=True)
class WeightsInfo:
    name: str
    path: Path
    sha256: str
    card: Mapping[str, Any]


def shipped_dir() -> Path:
    try:
        return Path(str(resources.files("emoannot_weights")))
    except ModuleNotFoundError:  # running from a source checkout that is not installed
        return Path(__file__).resolve().parents[2] / "weights"


def resolve_set(name_or_path: str | Path = DEFAULT_SET) -> Path:
    """'default' -> the shipped folder; anything else must be a folder holding registry.json."""
    if str(name_or_path) == DEFAULT_SET:
        folder = shipped_dir()
    else:
        folder = Path(name_or_path).expanduser()
    if not (folder / REGISTRY_FILE).exists():
        raise WeightsError(
            f"no weights set at {folder} (no {REGISTRY_FILE}). Use --weights default, or a folder written by "
            "`emoannot train`; run `emoannot models` to list what is installed.")
    return folder


def read_registry(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / REGISTRY_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def weights_info(folder: Path, name: str, verify: bool = True) -> WeightsInfo:
    reg = read_registry(folder)
    if name not in reg:
        raise WeightsError(f"weights set {folder} has no part '{name}'; train it with `emoannot train` "
                           f"(parts present: {', '.join(sorted(reg)) or 'none'}).")
    entry = reg[name]
    path = folder / entry["file"]
    if not path.exists():
        raise WeightsError(f"weights file {path} is missing; reinstall emoannot or retrain with `emoannot train`.")
    if path.suffix != ".safetensors":
        raise WeightsError(f"{path} is not a .safetensors file; emoannot never loads pickled weights.")
    card = json.loads((folder / entry["card"]).read_text())
    if verify:
        actual = sha256_of(path)
        if actual != entry["sha256"]:
            raise WeightsError(
                f"sha256 mismatch for {path}: expected {entry['sha256'][:16]}..., got {actual[:16]}... "
                "The file was changed or damaged; reinstall emoannot or retrain with `emoannot train`.")
    if not card.get("trained", False) or not card.get("metrics"):
        raise WeightsError(f"{path} is not a trained model (its card has no held-out metrics); "
                           "train it with `emoannot train` before predicting.")
    return WeightsInfo(name, path, entry["sha256"], card)


def load_state(folder: Path, name: str) -> tuple[dict[str, torch.Tensor], WeightsInfo]:
    info = weights_info(folder, name)
    return load_file(str(info.path)), info


def register(folder: Path, name: str, entry: dict[str, str]) -> None:
    """Add or replace one part in the folder's registry.json (atomically)."""
    reg = read_registry(folder)
    reg[name] = entry
    write_text(folder / REGISTRY_FILE, json.dumps(dict(sorted(reg.items())), indent=2) + "\n")


def write_weights(folder: Path, name: str, state: Mapping[str, torch.Tensor], card: dict[str, Any]) -> WeightsInfo:
    """Save `state` as safetensors with its card; update the folder's registry (atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    with atomic_path(path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(tmp),
                  metadata={"name": name, "format": "pt"})
    card = {**card, "name": name, "trained": True, "file": path.name, "sha256": sha256_of(path)}
    write_text(folder / f"{name}.json", json.dumps(card, indent=2) + "\n")
    register(folder, name, {"file": path.name, "sha256": card["sha256"], "card": f"{name}.json"})
    return WeightsInfo(name, path, card["sha256"], card)
