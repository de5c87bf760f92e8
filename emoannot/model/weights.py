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
from typing import TYPE_CHECKING, Any, Mapping

from emoannot.atomic import atomic_path, write_text
from emoannot.errors import WeightsError
from emoannot.hashing import sha256_of

if TYPE_CHECKING:
    import torch

REGISTRY_FILE = "registry.json"
#: written by `emoannot train` into the weights folder it makes: which recipe and data; a folder holding a
#: weights set without it (or made by the other recipe) is never written into by train
TRAINED_BY_FILE = "trained_by.json"
DEFAULT_SET = "default"
#: random weights for smoke runs (emoannot/model/tiny.py): made in the cache on first use
TINY_SET = "tiny"
#: the parts a complete emoannot weights set must hold (cfn_sr and foal_net, the other fusions, are optional)
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


def write_tiny(folder: Path, seed: int = 0) -> Path:
    """Write the tiny random-weights set (emoannot/model/tiny.py) into `folder`."""
    from emoannot.model.tiny import tiny_parts

    for name, (state, card) in tiny_parts(seed).items():
        write_weights(folder, name, state, card)
    return folder


def tiny_set() -> Path:
    """The tiny random-weights set, made in the cache on first use (keyed by the model code's own text, so
    that a change of an architecture makes a new one; made under a temporary name, then renamed)."""
    import hashlib
    import os
    import shutil
    import tempfile

    from emoannot.paths import cache_dir

    code = hashlib.sha256()
    package = Path(__file__).parent.parent  # the model code and what the tiny parts' shapes come from
    for path in [*sorted(Path(__file__).parent.glob("*.py")), *(package / f for f in ("labels.py", "records.py",
                                                                                       "timeline.py"))]:
        code.update(path.read_bytes())
    folder = cache_dir() / "weights" / f"tiny-{code.hexdigest()[:12]}"
    if (folder / REGISTRY_FILE).exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-", dir=folder.parent))
    try:
        write_tiny(tmp)
        os.rename(tmp, folder)
    except OSError:  # another process made it first
        if not (folder / REGISTRY_FILE).exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def resolve_set(name_or_path: str | Path = DEFAULT_SET) -> Path:
    """'default' -> the shipped folder; 'tiny' -> the random-weights set for smoke runs; anything else must
    be a folder holding registry.json."""
    if str(name_or_path) == DEFAULT_SET:
        folder = shipped_dir()
    elif str(name_or_path) == TINY_SET:
        folder = tiny_set()
    else:
        folder = Path(name_or_path).expanduser()
    if not (folder / REGISTRY_FILE).exists():
        raise WeightsError(
            f"no weights set at {folder} (no {REGISTRY_FILE}). Use --weights default (or tiny, for a smoke run), or "
            "a folder written by `emoannot train`; run `emoannot models` to list what is installed.")
    return folder


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise WeightsError(f"{path}: the {what} cannot be read as JSON ({type(exc).__name__}: {exc}); reinstall "
                           "emoannot or retrain with `emoannot train`.") from exc


def read_registry(folder: Path) -> dict[str, dict[str, Any]]:
    """{part: {file, sha256, card}}; a damaged registry is a WeightsError (empty when there is none)."""
    path = folder / REGISTRY_FILE
    if not path.exists():
        return {}
    reg = _read_json(path, "weights registry")
    if not isinstance(reg, dict):
        raise WeightsError(f"{path} must map part names to entries, not be a {type(reg).__name__}; reinstall "
                           "emoannot or retrain with `emoannot train`.")
    for name, entry in reg.items():
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("file", "sha256", "card"))):
            raise WeightsError(f"{path}: the entry of '{name}' needs 'file', 'sha256' and 'card'; reinstall emoannot "
                               "or retrain with `emoannot train`.")
    return reg


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
    card = _read_json(folder / entry["card"], "model card")
    if not isinstance(card, dict):
        raise WeightsError(f"{folder / entry['card']}: a model card must be a JSON object; reinstall or retrain.")
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


def tensor_shapes(info: WeightsInfo) -> dict[str, tuple[int, ...]]:
    """The tensors' names and shapes from the safetensors header (a damaged header is a WeightsError)."""
    from safetensors import safe_open

    try:
        with safe_open(str(info.path), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types for a damaged header
        raise WeightsError(f"{info.path} is not a readable safetensors file ({type(exc).__name__}: {exc}); "
                           "reinstall emoannot or retrain with `emoannot train`.") from exc


def expected_shapes(info: WeightsInfo, shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]] | None:
    """The tensor shapes the module described by the card needs (None where the card does not fix them)."""
    from emoannot.config import Fusion
    from emoannot.model.expression import ExpressionCNN
    from emoannot.model.fusions import build

    fusions = {f.part: f for f in Fusion}
    try:
        if info.name == "expression_cnn":
            module = ExpressionCNN(len(info.card["classes"]))
        elif info.name in fusions:
            module = build(fusions[info.name], info.card["config"], info.card.get("members", 1))
        else:
            return None
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{info.path}: its card does not describe a {info.name} ({type(exc).__name__}: {exc}); "
                           "reinstall emoannot or retrain with `emoannot train`.") from exc
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def check_tensors(info: WeightsInfo) -> None:
    """The file's tensors are what its card says (names and shapes)."""
    shapes = tensor_shapes(info)
    want = expected_shapes(info, shapes)
    if want is not None and want != shapes:
        diff = sorted(set(want.items()) ^ set(shapes.items()))[:3]
        raise WeightsError(f"{info.path} does not match the configuration in its card (first differences: {diff}); "
                           "the card and the tensors come from different models: retrain with `emoannot train`.")


def load_state(folder: Path, name: str) -> tuple[dict[str, torch.Tensor], WeightsInfo]:
    from safetensors.torch import load_file  # torch only where tensors are loaded: listing and checking need none

    info = weights_info(folder, name)
    check_tensors(info)
    return load_file(str(info.path)), info


def register(folder: Path, name: str, entry: dict[str, str]) -> None:
    """Add or replace one part in the folder's registry.json (atomically)."""
    reg = read_registry(folder)
    reg[name] = entry
    write_text(folder / REGISTRY_FILE, json.dumps(dict(sorted(reg.items())), indent=2) + "\n")


def write_weights(folder: Path, name: str, state: Mapping[str, torch.Tensor], card: dict[str, Any]) -> WeightsInfo:
    """Save `state` as safetensors with its card; update the folder's registry (atomically)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    with atomic_path(path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(tmp),
                  metadata={"name": name, "format": "pt"})
    card = {**card, "name": name, "trained": True, "file": path.name, "sha256": sha256_of(path)}
    write_text(folder / f"{name}.json", json.dumps(card, indent=2) + "\n")
    register(folder, name, {"file": path.name, "sha256": card["sha256"], "card": f"{name}.json"})
    return WeightsInfo(name, path, card["sha256"], card)


def claim_for_training(out: Path, recipe: str, data: Path) -> None:
    """`emoannot train --format RECIPE --out OUT`: OUT is new, or a weights folder that this recipe wrote
    (a rerun rebuilds it, resuming from its run folder); a weights set it did not write (another recipe's, a
    downloaded one, the installed default under another name) is refused before any work, so that no
    model card is left describing weights that were replaced."""
    from emoannot.errors import OutputError

    out = Path(out)
    mark = out / TRAINED_BY_FILE
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; give a folder for the weights.", stage="train")
    if (out / REGISTRY_FILE).exists():
        try:
            by = json.loads(mark.read_text()).get("recipe") if mark.exists() else None
        except (OSError, ValueError, AttributeError):
            by = None
        if by != recipe:
            said = f"`emoannot train --format {by}`" if by else "something other than `emoannot train`"
            raise OutputError(f"{out} holds a weights set written by {said}; emoannot train --format {recipe} will "
                              "not replace it. Choose a new --out (then use it with --weights).", stage="train")
    out.mkdir(parents=True, exist_ok=True)
    write_text(mark, json.dumps({"recipe": recipe, "data": str(Path(data).resolve())}, indent=2) + "\n")


def _get(metrics: dict, *path: str):
    for key in path:
        if not isinstance(metrics, dict) or key not in metrics:
            return None
        metrics = metrics[key]
    return metrics


def headline(name: str, card: dict) -> str:
    """The one figure (or two) a model card is read for, in words: what `emoannot models` shows per part."""
    m = card.get("metrics", {})
    pairs = []

    def add(label: str, value, digits: int = 3) -> None:
        if isinstance(value, (int, float)):
            pairs.append(f"{label} {value:.{digits}f}")

    if name == "expression_cnn":
        add("FER2013 test accuracy", m.get("fer2013_test_accuracy"))
    elif name == "visual_head":
        add("FER2013 test accuracy", _get(m, "fer2013_test_categories", "accuracy"))
        add("FER+ majority", _get(m, "ferplus_majority_test_categories", "accuracy"))
    elif name == "audio_head":
        add("RAVDESS leave-actors-out accuracy (8)", m.get("ravdess_leave_actors_out_accuracy_8class"))
        add("EmoDB leave-speakers-out (7)", m.get("emodb_leave_speakers_out_accuracy_7class"))
    elif name == "text_head":
        add("EmoBank test CCC valence", m.get("emobank_test_ccc_valence"))
        add("arousal", m.get("emobank_test_ccc_arousal"))
    elif _get(m, "heldout_composites") is not None:  # a fusion
        add("held-out composites: CCC valence", _get(m, "heldout_composites", "overall", "fusion", "valence"))
        add("arousal", _get(m, "heldout_composites", "overall", "fusion", "arousal"))
        add("category accuracy (7)", _get(m, "heldout_composites", "categories", "accuracy"))
    if not pairs:  # a part this function does not know: its numeric metrics as they are
        pairs = [f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in m.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)][:3]
    members = card.get("members", m.get("members"))  # an ensemble: a fusion's card, or the face head's metrics
    if isinstance(members, int) and members > 1:
        pairs.append(f"{members} seeds averaged")
    return ", ".join(pairs)
