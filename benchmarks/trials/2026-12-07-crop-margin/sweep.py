"""The expression CNN's accuracy on the product's crops of 1,000 FER2013 faces (validation or test split;
upscaled 4x and padded into a frame as benchmarks/crop_check.py does) for crop variants: the square's
margin over the detector box, a vertical shift (fraction of the side), eye-levelling on or off; against
the direct 48x48 crops of the same faces. From the repository root:

    EMOANNOT_SHARED=../shared .venv/bin/python benchmarks/trials/2026-12-07-crop-margin/sweep.py val|test
"""
import math
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from emoannot.config import FaceConfig
from emoannot.faces import FaceDetector
from emoannot.features.visual import embed_crops
from emoannot.model.expression import ExpressionCNN
from emoannot.model.weights import load_state, shipped_dir

SHARED = Path(os.environ.get("EMOANNOT_SHARED", "../shared"))
split = sys.argv[1] if len(sys.argv) > 1 else "val"
fer = np.load(SHARED / "data/faces/fer2013_48.npz")
pool = np.flatnonzero(fer["split"].astype(str) == split)
idx = np.random.default_rng(0).choice(pool, 1000, replace=False)
faces, y = fer["images"][idx], fer["labels"][idx].astype(int)
det = FaceDetector(FaceConfig())
state, _ = load_state(shipped_dir(), "expression_cnn")
cnn = ExpressionCNN()
cnn.load_state_dict(state)
frames, dets = [], []
for face in faces:
    big = cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC)
    frame = cv2.copyMakeBorder(big, 144, 144, 224, 224, cv2.BORDER_REPLICATE)
    d = det.detect(np.ascontiguousarray(np.repeat(frame[..., None], 3, 2)))
    frames.append(frame)
    dets.append(max(d, key=lambda x: x.score) if d else None)
found = np.array([d is not None for d in dets])
print(split, "detected", found.mean())
_, direct = embed_crops(cnn, np.ascontiguousarray(faces))
acc_direct = (direct.argmax(1)[found] == y[found]).mean()
print("direct", round(acc_direct, 4))
def crop(frame, d, margin, shift, level):
    (rx, ry), (lx, ly) = d.eyes
    angle = math.degrees(math.atan2(ly - ry, lx - rx)) if level else 0.0
    box = d.box
    side = max(box[2], box[3]) * margin
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2 + shift * side
    m = cv2.getRotationMatrix2D((float(cx), float(cy)), angle, 48 / side)
    m[0, 2] += 24 - cx
    m[1, 2] += 24 - cy
    return cv2.warpAffine(frame, m, (48, 48), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
for level in (True, False):
    for margin in (1.0, 1.1, 1.15, 1.2, 1.3, 1.4):
        for shift in (-0.05, 0.0, 0.05):
            crops = np.zeros_like(faces)
            for i in np.flatnonzero(found):
                crops[i] = crop(frames[i], dets[i], margin, shift, level)
            _, p = embed_crops(cnn, crops)
            acc = (p.argmax(1)[found] == y[found]).mean()
            same = (p.argmax(1)[found] == direct.argmax(1)[found]).mean()
            print(f"level={level} margin={margin} shift={shift:+.2f} acc={acc:.4f} same={same:.3f}", flush=True)
