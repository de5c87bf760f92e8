"""`emoannot train --format affwild2` learns a known function of what is on screen and in the audio.

The synthetic set: CREMA-D clips of actor 1001 (six emotions) concatenated in random orders into
videos; every frame is labelled with the circumplex point of the clip it comes from
(emoannot.labels), so the labels are a learnable function of the face and the voice."""
import json

import numpy as np
import pytest

from emoannot.labels import va_point
from emoannot.train.affwild2 import find_items, to_windows, video_features
from emoannot.train.corpora import CREMA

from helpers import CREMA as CREMA_DIR, count_frames, ffmpeg, need

pytestmark = pytest.mark.slow  # loads the full model set (whisper, MiniLM) or trains

CLIPS = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")


def make_video(out, order):
    srcs = [need(CREMA_DIR / f"1001_DFA_{c}_XX.flv") for c in order]
    args = []
    for s in srcs:
        args += ["-i", str(s)]
    n = len(srcs)
    graph = "".join(f"[{i}:v]scale=480:360,fps=30000/1001,setsar=1[v{i}];[{i}:a]aresample=44100[a{i}];" for i in range(n))
    graph += "".join(f"[v{i}][a{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=1[v][a]"
    ffmpeg(*args, "-filter_complex", graph, "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "aac", str(out))
    labels = []
    for c, s in zip(order, srcs):
        labels += [va_point(CREMA[c])] * count_frames(s)
    return labels


@pytest.fixture(scope="module")
def affwild_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("affwild2")
    (root / "videos").mkdir()
    for split in ("Train_Set", "Validation_Set"):
        (root / "annotations" / split).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(7):
        order = list(rng.permutation(CLIPS))
        video = root / "videos" / f"v{i}.mp4"
        labels = make_video(video, order)
        n = count_frames(video)
        labels = (labels + [labels[-1]] * n)[:n]
        labels[:5] = [(-5, -5)] * 5  # unannotated frames, as in Aff-Wild2
        split = "Validation_Set" if i >= 5 else "Train_Set"
        txt = root / "annotations" / split / f"v{i}.txt"
        txt.write_text("valence,arousal\n" + "\n".join(f"{v:.3f},{a:.3f}" for v, a in labels) + "\n")
    return root


def test_affwild2_training_learns_the_labels(affwild_set, tmp_path, engine):
    from typer.testing import CliRunner

    from emoannot.cli import app

    items = find_items(affwild_set)
    assert sorted(i.split for i in items) == ["train"] * 5 + ["val"] * 2
    out, run = tmp_path / "weights", tmp_path / "run"
    result = CliRunner().invoke(app, ["train", str(affwild_set), "--format", "affwild2", "--out", str(out),
                                      "--run-dir", str(run), "--epochs", "40", "--lr", "1e-3", "--batch-size", "4",
                                      "--device", "cpu"])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "rjcma.json").read_text())
    val = card["metrics"]["validation_windows"]
    print("affwild2 synthetic validation CCC", val)
    assert val["ccc_valence"] > 0.6, val
    assert val["ccc_arousal"] > 0.3, val
    assert len(list((run / "features").glob("*.npz"))) == 7
    # the trained folder is a complete weights set that predict accepts
    from emoannot.model.weights import REQUIRED_PARTS, read_registry

    assert set(REQUIRED_PARTS) <= set(read_registry(out))
    result = CliRunner().invoke(app, ["predict", str(affwild_set / "videos" / "v6.mp4"), "--weights", str(out),
                                      "--out", str(tmp_path / "pred"), "--no-plot", "--quiet"])
    assert result.exit_code == 0, result.output
    # a second run reuses the cached features: extraction is not called again
    def boom(*a, **k):
        raise AssertionError("features were extracted again")
    original = engine.extract
    engine.extract = boom
    try:
        feats = [video_features(i, engine, run / "features") for i in items]
    finally:
        engine.extract = original
    assert len(to_windows(feats)) >= 7
