"""The face landmarker's blendshapes: read on the face the tracker found (real MEAD clips), the same way on a
48x48 training face, shipped with its checksum, and written as bs_* columns with --extra-columns."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from emoannot.config import FaceConfig
from emoannot.errors import WeightsError
from emoannot.features.blendshapes import (COLUMNS, FACE_PX, LANDMARKER_CARD, LANDMARKER_FILE, N_BLENDSHAPES, NAMES,
                                           REGION_SIZE, BlendshapeReader, fer_region, landmarker_path)
from emoannot.model.weights import shipped_dir

from helpers import SHARED, count_frames, need

MEAD = SHARED / "data" / "real" / "mead"


@pytest.fixture(scope="module")
def reader():
    r = BlendshapeReader(landmarker_path(shipped_dir()))
    yield r
    r.close()


def _track(path, reader):
    from emoannot.faces import FaceDetector, track_faces
    from emoannot.video import iter_frames, probe

    cfg = FaceConfig()
    detector = FaceDetector(cfg)
    try:
        return track_faces(iter_frames(probe(path), cfg.max_side), cfg, detector, reader=reader)
    finally:
        detector.close()


def test_blendshapes_of_real_faces_tell_a_smile_and_a_frown_from_a_neutral_face(reader):
    """MEAD actor W009 (real video, never trained on): the landmarker reads the tracked face on every analysed
    tick, and its coefficients move the way the expressions do."""
    mean = {}
    for emotion in ("neutral_level1", "happy_level3", "angry_level3"):
        track = _track(need(MEAD / f"W009_front_{emotion}_001.mp4"), reader)
        bs = track.blendshapes[track.crop_mask]
        assert bs.shape[1] == N_BLENDSHAPES and np.isfinite(bs).all(1).mean() > 0.9
        assert np.nanmin(bs) >= 0 and np.nanmax(bs) <= 1
        mean[emotion.split("_")[0]] = dict(zip(NAMES, np.nanmean(bs, 0)))
        # per frame: the tick's values where the face is, empty where it is not
        per_frame = track.frame_blendshapes()
        assert per_frame.shape == (track.n_frames, N_BLENDSHAPES)
        assert np.isnan(per_frame[~track.present]).all()
    smile = lambda m: m["mouthSmileLeft"] + m["mouthSmileRight"]  # noqa: E731
    brows = lambda m: m["browDownLeft"] + m["browDownRight"]  # noqa: E731
    assert smile(mean["happy"]) > smile(mean["neutral"]) + 0.3
    assert brows(mean["angry"]) > brows(mean["neutral"]) + 0.1


def test_a_training_face_is_framed_like_the_products_face_region(reader):
    """fer_region puts a 48x48 face in the middle of the region at the size face_region gives the crop's square;
    the landmarker reads most FER2013 faces that way."""
    fer = np.load(need(SHARED / "data" / "faces" / "fer2013_48.npz"))["images"][:40]
    region = fer_region(fer[0])
    assert region.shape == (REGION_SIZE, REGION_SIZE) and region.dtype == np.uint8
    pad = (REGION_SIZE - FACE_PX) // 2
    import cv2

    middle = cv2.resize(region[pad : pad + FACE_PX, pad : pad + FACE_PX], (48, 48), interpolation=cv2.INTER_AREA)
    assert np.abs(middle.astype(int) - fer[0]).mean() < 4
    read = [reader.read(fer_region(f)) is not None for f in fer]
    assert np.mean(read) >= 0.8


def test_the_landmarker_is_checked_against_its_card(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    shutil.copy(shipped_dir() / LANDMARKER_CARD, folder / LANDMARKER_CARD)
    with pytest.raises(WeightsError, match="missing"):
        landmarker_path(folder)
    (folder / LANDMARKER_FILE).write_bytes((shipped_dir() / LANDMARKER_FILE).read_bytes()[:-10] + b"0123456789")
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        landmarker_path(folder)
    card = json.loads((shipped_dir() / LANDMARKER_CARD).read_text())
    assert card["licence"] == "Apache-2.0" and (shipped_dir() / "LICENSE-face_landmarker.txt").exists()


def test_extra_columns_write_the_blendshapes_empty_without_a_face(tiny_weights, tmp_path):
    """With --extra-columns, <name>.csv and <name>.people.csv carry the 51 bs_* columns: numbers in [0, 1] on
    frames with the face, empty cells on the frames without it (a MEAD clip, then two seconds of grey)."""
    from helpers import ffmpeg
    from emoannot.cli import app

    clip = tmp_path / "face then grey.mp4"
    ffmpeg("-i", str(need(MEAD / "W011_front_happy_level3_001.mp4")), "-f", "lavfi", "-i",
           "color=c=gray:s=256x256:d=2:r=30", "-filter_complex",
           "[0:v]fps=30,setsar=1[a];[1:v]setsar=1[b];[a][b]concat=n=2:v=1:a=0[v]", "-map", "[v]",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["predict", str(clip), "--out", str(out), "--weights", str(tiny_weights),
                                      "--device", "cpu", "--no-plot", "--extra-columns", "--people", "all", "-q"])
    assert result.exit_code == 0, result.output
    folder = out / f"{clip.name}.emoannot"
    df = pd.read_csv(folder / "face then grey.csv")
    assert len(df) == count_frames(clip) and list(df.columns[-len(COLUMNS):]) == list(COLUMNS)
    bs = df[list(COLUMNS)]
    face = df["face"] == 1
    assert face.sum() > 30 and (~face).sum() >= 55
    assert bs[~face].isna().all().all()
    assert bs[face].notna().all(axis=1).mean() > 0.9 and bs.max().max() <= 1 and bs.min().min() >= 0
    assert bs.loc[face, "bs_mouthSmileLeft"].mean() > 0.3  # a happy face, read on the product's own crop
    people = pd.read_csv(folder / "face then grey.people.csv")
    assert list(people.columns[-len(COLUMNS):]) == list(COLUMNS)
    mine = people[people.person == 1].set_index("frame")
    assert np.allclose(mine[list(COLUMNS)].to_numpy(), bs.to_numpy(), equal_nan=True)
    without = CliRunner().invoke(app, ["predict", str(clip), "--out", str(tmp_path / "plain"), "--weights",
                                       str(tiny_weights), "--device", "cpu", "--no-plot", "-q"])
    assert without.exit_code == 0 and not any(c.startswith("bs_") for c in
                                              pd.read_csv(tmp_path / "plain" / f"{clip.name}.emoannot" / "face then grey.csv"))
