"""The shipped weights put neutral at the origin (issue: numbers a researcher can trust), measured on
FER2013 *test* images, which neither the CNN nor the visual head saw, read as the product reads a face
(embedding + the landmarker's blendshapes) and labelled by the FER+ majority of 10 annotators (the labels the
head is trained on; FER2013's own labels put many neutral and ambiguous faces in other classes)."""
import numpy as np
import pytest

from emoannot.labels import FACE_CLASSES, va_point

from helpers import SHARED, need

pytestmark = pytest.mark.slow  # loads FER2013 and runs the expression CNN on its test split


@pytest.fixture(scope="module")
def face_va():
    import torch

    from emoannot.features.blendshapes import N_BLENDSHAPES, BlendshapeReader, fer_region, landmarker_path
    from emoannot.features.visual import embed_crops, face_readings
    from emoannot.model.expression import ExpressionCNN
    from emoannot.model.heads import head_from_state
    from emoannot.model.weights import load_state, resolve_set
    from emoannot.train.fit_cnn import ferplus_labels

    with np.load(need(SHARED / "data" / "faces" / "fer2013_48.npz")) as z:
        test = z["split"] == "test"
        x = z["images"][test]
    y = ferplus_labels(SHARED / "data")[1][test]
    folder = resolve_set("default")
    cnn_state, _ = load_state(folder, "expression_cnn")
    cnn = ExpressionCNN()
    cnn.load_state_dict(cnn_state)
    head = head_from_state(load_state(folder, "visual_head")[0])
    torch.manual_seed(0)
    emb, probs = embed_crops(cnn, np.ascontiguousarray(x))
    reader = BlendshapeReader(landmarker_path(folder))
    unread = np.full(N_BLENDSHAPES, np.nan, np.float32)
    bs = np.stack([v if (v := reader.read(fer_region(face))) is not None else unread for face in x])
    reader.close()
    return face_readings(emb, bs, probs, head)[1], y


def test_neutral_faces_sit_at_the_origin_and_surprise_is_pleasant(face_va):
    va, y = face_va
    neutral = va[y == FACE_CLASSES.index("neutral")].mean(0)
    assert np.abs(neutral).max() <= 0.10, neutral
    assert va[y == FACE_CLASSES.index("surprise")].mean(0)[0] > 0


def test_class_means_keep_the_circumplex_order(face_va):
    va, y = face_va
    mean = {c: va[y == i].mean(0) for i, c in enumerate(FACE_CLASSES)}
    assert mean["happy"][0] - mean["neutral"][0] >= 0.6
    for c in ("angry", "disgust", "fear", "sad"):
        assert mean[c][0] < mean["neutral"][0] - 0.2, c
    for c in FACE_CLASSES:
        # sad faces are often read as neutral (their mean stays 0.51 from the point), fear faces as surprise
        # (0.30: FER+ annotators split between the two); measured 2026-12-07 on the five-seed head, README "The
        # shipped weights"
        if c not in ("sad", "fear"):
            assert np.linalg.norm(mean[c] - np.asarray(va_point(c))) <= 0.25, c
