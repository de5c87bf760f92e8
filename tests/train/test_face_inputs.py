"""The training faces as the product reads a face (emoannot/train/face_inputs.py): the crop the product's own
detector and aligner cut from a FER2013 face shown in a frame, and the face inputs built from those crops
(cached under the run folder), with the crop gap the model card reports. Real FER2013 faces from ../shared."""
import numpy as np
import pytest

from emoannot.features.blendshapes import landmarker_path
from emoannot.features.visual import embed_crops
from emoannot.labels import FACE_CLASSES
from emoannot.model.expression import ExpressionCNN
from emoannot.model.weights import load_state, shipped_dir
from emoannot.train.face_inputs import FRAME_SIZE, crop_gap, face_inputs, framed_still, product_crops
from helpers import SHARED, need

FER = SHARED / "data" / "faces" / "fer2013_48.npz"


@pytest.fixture(scope="module")
def fer_test():
    z = np.load(need(FER))
    idx = np.flatnonzero(z["split"].astype(str) == "test")[:40]
    return z["images"][idx], z["labels"][idx].astype(int)


@pytest.fixture(scope="module")
def cnn():
    model = ExpressionCNN()
    model.load_state_dict(load_state(shipped_dir(), "expression_cnn")[0])
    return model.eval()


def test_a_training_face_is_shown_in_a_frame_and_cut_by_the_products_detector(fer_test, cnn):
    faces, _ = fer_test
    frame = framed_still(faces[0])
    assert frame.shape == (FRAME_SIZE[1], FRAME_SIZE[0]) and frame.dtype == np.uint8
    crops, found = product_crops(faces)
    assert crops.shape == faces.shape and crops.dtype == np.uint8
    assert 0.4 <= found.mean() < 1  # the detector finds about two thirds of FER2013's tight 48x48 stills
    assert (crops[~found] == faces[~found]).all()  # the face itself where the detector finds none
    assert not (crops[found] == faces[found]).all(axis=(1, 2)).any()  # a new cut where it finds one
    # a re-cut of the same face: the shipped CNN names the same class as on the direct crop for most of them
    _, p_crop = embed_crops(cnn, crops[found])
    _, p_face = embed_crops(cnn, np.ascontiguousarray(faces[found]))
    assert (p_crop.argmax(1) == p_face.argmax(1)).mean() >= 0.6


def _votes(labels):
    columns = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"]
    plus = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "sad": "sadness",
            "surprise": "surprise", "neutral": "neutral"}
    votes = np.zeros((len(labels), 10), np.int8)
    votes[np.arange(len(labels)), [columns.index(plus[FACE_CLASSES[y]]) for y in labels]] = 10
    return votes, np.array(columns)


def test_face_inputs_read_the_products_crops_cached_and_report_the_crop_gap(fer_test, cnn, tmp_path):
    faces, labels = fer_test
    data = tmp_path / "data" / "faces"
    data.mkdir(parents=True)
    split = np.array(["train", "val", "test", "test"] * 10)
    np.savez(data / "fer2013_48.npz", images=faces, labels=labels.astype(np.int8), split=split,
             classes=np.array(FACE_CLASSES))
    votes, columns = _votes(labels)
    np.savez(data / "ferplus_votes_for_fer2013_48.npz", votes=votes, matched=np.ones(len(faces), bool), columns=columns)
    cache, lines = tmp_path / "run" / "cache", []
    f = face_inputs(tmp_path / "data", cnn, cache, landmarker_path(shipped_dir()), lines.append)
    assert (cache / "face_crops.npz").exists() and any("found by the detector" in s for s in lines)
    assert {k: len(v) for k, v in f.x.items()} == {"train": 10, "val": 10, "test": 20}
    # the 20 fitting faces from their direct crops, and again from the product's crops where the detector found them
    n_fit = 20 + int(f.found["train"].sum() + f.found["val"].sum())
    assert f.fit_x.shape == (n_fit, 308) and f.fit_soft.shape == (n_fit, 7) and n_fit > 20
    found_rows = np.zeros(len(split), bool)
    for s in ("train", "val"):
        found_rows[split == s] = f.found[s]
    again_cut = found_rows[split != "test"]
    np.testing.assert_array_equal(f.fit_soft[20:], f.fit_soft[:20][again_cut])
    assert np.abs(f.fit_x[20:] - f.fit_x[:20][again_cut]).max() > 0.05
    test = f.found["test"]
    assert 0 < test.mean() < 1
    # the test faces the detector missed are read from the face itself, the same as the direct crop
    np.testing.assert_allclose(f.x["test"][~test], f.direct_test[~test], atol=1e-6)
    assert np.abs(f.x["test"][test] - f.direct_test[test]).max() > 0.05
    # the second call reads the crops from the cache
    lines.clear()
    again = face_inputs(tmp_path / "data", cnn, cache, landmarker_path(shipped_dir()), lines.append)
    assert not any("found by the detector" in s for s in lines)
    np.testing.assert_array_equal(again.x["test"], f.x["test"])

    class ByCnn:  # a head that names the class the vector's first 7 numbers point to: enough to score the plumbing
        def predict_proba(self, x):
            return x[:, :7]

    gap = crop_gap(ByCnn(), f)
    assert gap["n_found_with_ferplus"] == int(test.sum()) and gap["detector_found_test"] == float(test.mean())
    sel = test
    assert gap["ferplus_majority_found_product_crops"] == float((f.x["test"][sel, :7].argmax(1) == f.plus["test"][sel]).mean())
    assert gap["ferplus_majority_found_direct_crops"] == float(
        (f.direct_test[sel, :7].argmax(1) == f.plus["test"][sel]).mean())
