"""The expression CNN's recipe (emoannot/train/fit_cnn.py): the augmentation, and a whole (tiny) run on a
synthetic corpus folder that writes the weights (scored on FER2013's labels and the FER+ majority) and
resumes from its checkpoint. Seconds."""
import json

import numpy as np
import torch

from emoannot.labels import FACE_CLASSES
from emoannot.train.fit_cnn import VisualTrainConfig, augment, train_visual


def test_augment_cuts_a_40_pixel_view_and_mirrors_about_half_the_faces():
    gen = torch.Generator().manual_seed(0)
    flat = torch.full((4, 1, 48, 48), 77, dtype=torch.uint8)
    out = augment(flat, gen)
    assert out.shape == (4, 1, 40, 40)
    # a flat grey face stays flat (only the brightness/contrast jitter moves it, the same for every pixel)
    assert float((out - out.mean(dim=(2, 3), keepdim=True)).abs().max()) < 1e-3
    # a face bright on its left: mirrored faces come out bright on the right
    half = torch.zeros((400, 1, 48, 48), dtype=torch.uint8)
    half[..., :24] = 200
    out = augment(half, gen)
    left_brighter = out[..., :20].mean(dim=(1, 2, 3)) > out[..., 20:].mean(dim=(1, 2, 3))
    assert 0.4 < float(left_brighter.float().mean()) < 0.6
    assert float(out.min()) >= 0 and float(out.max()) <= 255


def _corpus(folder, rng):
    """A tiny FER2013-shaped corpus: class i is a bright bar at row 4 + 5 i (learnable); FER+ votes agreeing
    with FER2013's label except on the first test face of each class (all ten annotators say neutral)."""
    n = 7 * 40
    labels = np.repeat(np.arange(7), 40)
    images = rng.integers(0, 60, (n, 48, 48)).astype(np.uint8)
    for i, y in enumerate(labels):
        images[i, 4 + 5 * y : 8 + 5 * y] = 220
    split = np.array(["train", "train", "val", "test"] * (n // 4))
    faces = folder / "faces"
    faces.mkdir(parents=True)
    np.savez(faces / "fer2013_48.npz", images=images, labels=labels.astype(np.int8), split=split,
             classes=np.array(FACE_CLASSES))
    columns = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"]
    plus_name = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "sad": "sadness",
                 "surprise": "surprise", "neutral": "neutral"}
    votes = np.zeros((n, 10), np.int8)
    votes[np.arange(n), [columns.index(plus_name[FACE_CLASSES[y]]) for y in labels]] = 10
    for c in range(7):
        first_test = np.flatnonzero((labels == c) & (split == "test"))[0]
        votes[first_test] = 0
        votes[first_test, columns.index("neutral")] = 10
    np.savez(faces / "ferplus_votes_for_fer2013_48.npz", votes=votes, matched=np.ones(n, bool),
             columns=np.array(columns))


def test_a_tiny_training_run_writes_the_weights_and_resumes(tmp_path):
    _corpus(tmp_path / "data", np.random.default_rng(0))
    cfg = VisualTrainConfig(epochs=6, batch_size=32, lr=3e-3, seed=0)
    metrics = train_visual(tmp_path / "data", tmp_path / "run", tmp_path / "out", cfg, log=lambda s: None)
    card = json.loads((tmp_path / "out" / "expression_cnn.json").read_text())
    assert (tmp_path / "out" / "expression_cnn.safetensors").exists()
    assert card["recipe"]["epochs_run"] == 6 and len(card["history"]) == 6
    assert card["metrics"] == metrics and metrics["n_test"] == 70
    # the bars are learnable: far above chance (1/7), on FER2013's labels and on the FER+ majority alike
    assert metrics["fer2013_test_accuracy"] > 0.5
    # both scores recomputed from the written weights: FER+'s majority differs on seven test faces
    from safetensors.torch import load_file

    from emoannot.model.expression import ExpressionCNN
    from emoannot.train.fit_cnn import predict_logits

    model = ExpressionCNN()
    model.load_state_dict(load_file(str(tmp_path / "out" / "expression_cnn.safetensors")))
    z = np.load(tmp_path / "data" / "faces" / "fer2013_48.npz")
    test = z["split"] == "test"
    pred = predict_logits(model, z["images"][test]).argmax(1)
    plus = np.load(tmp_path / "data" / "faces" / "ferplus_votes_for_fer2013_48.npz")["votes"][test]
    majority = np.array([FACE_CLASSES.index("neutral") if v[0] == 10 else y for v, y in zip(plus, z["labels"][test])])
    assert metrics["fer2013_test_accuracy"] == float((pred == z["labels"][test]).mean())
    assert metrics["ferplus_majority_test_accuracy"] == float((pred == majority).mean())
    # a second call finds every epoch done in the checkpoint and only writes the weights again
    lines = []
    again = train_visual(tmp_path / "data", tmp_path / "run", tmp_path / "out2", cfg, log=lines.append)
    assert lines == [] and again == metrics
