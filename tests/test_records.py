"""Records (emoannot/records.py) and the writers that need no model: columns, empty cells, no torch."""
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from emoannot.config import AsrModel, Settings, SpeechConfig
from emoannot.records import (CSV_COLUMNS, Annotation, FaceTrack, ModelRecord, PersonResult, Segment,
                              Transcript, VideoInfo, Word)


def _annotation(n=6, settings=Settings()) -> Annotation:
    times = np.arange(n) / 3.0
    present = np.array([True, True, False, True, False, True])[:n]
    box = np.where(present[:, None], np.array([1, 2, 30, 40], np.float32), np.nan).astype(np.float32)
    track = FaceTrack(times, present, np.where(present, 0.9, np.nan).astype(np.float32), box,
                      np.zeros((20, 48, 48), np.uint8), present.repeat(4)[:20] if n * 4 >= 20 else np.ones(20, bool))
    info = VideoInfo(Path("x.mp4"), 640, 360, 3.0, n, n / 3.0, 0, "h264", True, "aac", 44100, 1, 1000)
    words = (Word(0.3, 0.7, " hello", 0.9),)
    va = np.linspace(-0.5, 0.5, n).astype(np.float32)
    person = PersonResult(1, times, track, va, -va, ("face",) * n, times < 1,
                          {"valence_visual": np.where(present, va, np.nan).astype(np.float32)}, np.zeros((20, 2), np.float32))
    return Annotation(info, times, times < 1, ("", "hello", "hello", "", "", "")[:n],
                      Transcript((Segment(0, 1),), words, "en", "tiny.en"), (person,), (), {},
                      (ModelRecord("m", "0" * 64),), settings)


def test_annotation_to_dataframe_columns_and_empty_cells():
    a = _annotation()
    df = a.to_dataframe()
    assert tuple(df.columns) == CSV_COLUMNS and len(df) == 6
    assert df["face"].tolist() == [1, 1, 0, 1, 0, 1]
    assert df.loc[df["face"] == 0, ["face_score", "face_x", "face_w"]].isna().all().all()
    assert df["speech"].tolist() == [1, 1, 1, 0, 0, 0]
    extra = a.to_dataframe(extra_columns=True)
    assert "valence_visual" in extra and extra["valence_visual"].isna().sum() == 2


def test_writers_round_trip_without_torch(tmp_path):
    from emoannot.evaluate import read_va
    from emoannot.outputs.csv import write_affwild2, write_csv

    a = _annotation()
    write_csv(a, tmp_path / "x.csv")
    person = replace(a.person, valence=np.where(a.faces.present, a.valence, np.nan).astype(np.float32))
    write_affwild2(replace(a, people=(person,)), tmp_path / "x.txt")
    back = read_va(tmp_path / "x.txt")
    # -5 is read per dimension: the frame without a face has no valence but keeps its arousal
    assert np.isnan(back[2, 0]) and back[2, 1] == pytest.approx(a.arousal[2], abs=1e-4)
    assert back[0, 0] == pytest.approx(-0.5)
    assert read_va(tmp_path / "x.csv").shape == (6, 2)


def test_importing_the_writers_and_evaluate_does_not_load_torch():
    code = ("import sys, emoannot, emoannot.outputs, emoannot.outputs.csv, emoannot.outputs.plot, "
            "emoannot.outputs.manifest, emoannot.outputs.overlay, emoannot.evaluate, emoannot.records; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_settings_fingerprint_ignores_the_device_only():
    a, b = Settings(device="cpu"), Settings(device="cuda")
    assert a.fingerprint() == b.fingerprint()
    assert "device" not in a.fingerprint()
    c = Settings(speech=SpeechConfig(asr_model=AsrModel.base))
    assert c.fingerprint() != a.fingerprint()
    assert json.loads(json.dumps(a.fingerprint())) == a.fingerprint()  # what the manifest stores
