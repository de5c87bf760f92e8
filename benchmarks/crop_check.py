"""Do the crops the product cuts look like the crops the expression CNN was trained on? FER2013 test faces,
upscaled 4x and padded into a 640x480 frame (their border replicated: emoannot.train.face_inputs.framed_still,
as training shows them), go through the product's own detector
(emoannot.faces.FaceDetector) and aligner (align_crop); the CNN's accuracy on those crops is compared with
its accuracy on the direct 48x48 crops of the same faces, and the landmarker's read rate on the product's
face region with that on fer_region (how training reads a face).

    python benchmarks/crop_check.py [--n 1000] [--out benchmarks/crop_check.json]
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EMOANNOT_SHARED", ROOT.parent / "shared"))


def main() -> None:
    from emoannot.config import FaceConfig
    from emoannot.faces import FaceDetector, align_crop, face_region
    from emoannot.features.blendshapes import BlendshapeReader, fer_region, landmarker_path
    from emoannot.features.visual import embed_crops
    from emoannot.model.expression import ExpressionCNN
    from emoannot.model.weights import load_state, shipped_dir
    from emoannot.train.face_inputs import framed_still

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "crop_check.json")
    args = ap.parse_args()
    fer = np.load(SHARED / "data" / "faces" / "fer2013_48.npz")
    test = np.flatnonzero(fer["split"].astype(str) == "test")
    idx = np.random.default_rng(0).choice(test, min(args.n, len(test)), replace=False)
    faces, y = fer["images"][idx], fer["labels"][idx].astype(int)
    cfg = FaceConfig()
    detector = FaceDetector(cfg)
    reader = BlendshapeReader(landmarker_path(shipped_dir()))
    state, _ = load_state(shipped_dir(), "expression_cnn")
    cnn = ExpressionCNN()
    cnn.load_state_dict(state)
    crops = np.zeros_like(faces)
    found = np.zeros(len(faces), bool)
    read_product = np.zeros(len(faces), bool)
    read_training = np.zeros(len(faces), bool)
    for i, face in enumerate(faces):
        frame = framed_still(face)
        dets = detector.detect(np.ascontiguousarray(np.repeat(frame[..., None], 3, 2)))
        read_training[i] = reader.read(fer_region(face)) is not None
        if dets:
            d = max(dets, key=lambda x: x.score)
            crops[i], found[i] = align_crop(frame, d, d.box, cfg.crop_margin), True
            read_product[i] = reader.read(face_region(frame, d.eyes, d.box, cfg.crop_margin)) is not None
    _, direct = embed_crops(cnn, np.ascontiguousarray(faces))
    _, product = embed_crops(cnn, crops)
    result = {
        "n": int(len(faces)), "detected": float(found.mean()),
        "cnn_accuracy_direct_crops_on_detected": float((direct.argmax(1) == y)[found].mean()),
        "cnn_accuracy_product_crops_on_detected": float((product.argmax(1) == y)[found].mean()),
        "cnn_same_class_direct_vs_product": float((direct.argmax(1) == product.argmax(1))[found].mean()),
        "landmarker_read_training_region": float(read_training.mean()),
        "landmarker_read_product_region_on_detected": float(read_product[found].mean()),
        "command": "python benchmarks/crop_check.py --n %d" % args.n,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
