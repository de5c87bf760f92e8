"""`--weights tiny`: a random-weights set (like demucs' `demucs_unittest`), the shipped architecture's shapes
where the loader needs them and small everywhere else. It exercises loading, checksums and the whole
pipeline in seconds (smoke runs, the fast tests); its numbers mean nothing. Made on first use in the cache
(`emoannot.paths.cache_dir()`), once per version of the model code; the face landmarker is the shipped one."""
from __future__ import annotations

import torch

from emoannot.records import N_BLENDSHAPES
from emoannot.labels import FACE_CLASSES
from emoannot.model.expression import ExpressionCNN
from emoannot.model.heads import VAHead
from emoannot.model.cfnsr import CFNSRConfig
from emoannot.model.foalnet import FoalNetConfig
from emoannot.model.fusions import build
from emoannot.model.rjcma import RJCMAConfig
from emoannot.timeline import WINDOW

CARD = {"metrics": {"note": "random weights for smoke runs and tests: no metric"}, "data": "none (random)",
        "recipe": "none: torch.manual_seed(seed), then each part's own initialisation"}


def tiny_parts(seed: int = 0) -> dict[str, tuple[dict, dict]]:
    """{part: (state dict, model card)} of the tiny set (deterministic for a seed and a version of the model
    code); `emoannot.model.weights.write_tiny` writes them as a weights set."""
    torch.manual_seed(seed)
    parts = {"expression_cnn": (ExpressionCNN(len(FACE_CLASSES)).state_dict(), {**CARD, "classes": list(FACE_CLASSES)}),
             "audio_head": (VAHead(384, 9, hidden=8).state_dict(), {**CARD, "encoder": "tiny.en"}),
             "text_head": (VAHead(384, 0, hidden=8).state_dict(), dict(CARD)),
             # the face as the shipped set reads it: embedding + blendshapes in, 7 categories out; the fusion
             # reads the head's probabilities and the blendshapes (features.visual.fusion_face)
             "visual_head": (VAHead(256 + N_BLENDSHAPES + 1, len(FACE_CLASSES), hidden=8).state_dict(), dict(CARD))}
    dims = (len(FACE_CLASSES) + N_BLENDSHAPES + 1 + 3, 384 + 3, 384 + 3)
    configs = {"rjcma": RJCMAConfig(in_dims=dims, out_dims=(8, 8, 8), channels=(8,), window=WINDOW, iterations=1,
                                    head_hidden=8, classes=FACE_CLASSES),
               "cfn-sr": CFNSRConfig(in_dims=dims, window=WINDOW, dim=8, heads=2, conv_layers=1, blocks=1, ff=8,
                                     head_hidden=8, classes=FACE_CLASSES),
               "foal-net": FoalNetConfig(in_dims=dims, window=WINDOW, dim=8, heads=2, conv_layers=1, ff=8, align_dim=4,
                                         head_hidden=8, classes=FACE_CLASSES)}
    members = {"rjcma": 2}  # the default fusion ships as an ensemble of seeds (train.offline.FUSION_MEMBERS)
    for name, cfg in configs.items():
        n = members.get(name, 1)
        parts[name.replace("-", "_")] = (build(name, cfg.to_dict(), n).state_dict(),
                                         {**CARD, "config": cfg.to_dict(), "classes": list(FACE_CLASSES),
                                          **({"members": n} if n > 1 else {})})
    return parts
