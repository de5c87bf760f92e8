"""Unit tier: the pure functions where subtle bugs live, on small synthetic inputs (no model files)."""
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from emoannot.atomic import atomic_path
from emoannot.config import AsrModel, FaceConfig, Settings, SpeechConfig
from emoannot.errors import WeightsError
from emoannot.metrics import ccc, pearson, rmse
from emoannot.records import (CSV_COLUMNS, Annotation, FaceTrack, ModalityFeatures, ModelRecord, PersonResult, Segment,
                              Transcript, VideoInfo, Word)


# ----------------------------------------------------------------------------- fusion over windows
def _tiny_rjcma(window=20):
    from emoannot.model.rjcma import RJCMA, RJCMAConfig

    torch.manual_seed(0)
    return RJCMA(RJCMAConfig(in_dims=(5, 6, 7), out_dims=(4, 4, 4), channels=(4,), window=window, iterations=1,
                             head_hidden=8, classes=("a", "b", "c"))).eval()


def _feats(k, rng):
    out = []
    for name, d in (("visual", 2), ("audio", 3), ("text", 4)):
        mask = rng.random(k) > 0.3
        out.append(ModalityFeatures(name, np.where(mask[:, None], rng.normal(size=(k, d)), 0).astype(np.float32),
                                    mask, np.where(mask[:, None], rng.uniform(-1, 1, (k, 2)), np.nan).astype(np.float32)))
    return tuple(out)


def test_fuse_averages_overlapping_windows_exactly():
    from emoannot.features import fusion_input
    from emoannot.fusion import fuse
    from emoannot.timeline import window_starts

    model, rng = _tiny_rjcma(20), np.random.default_rng(0)
    feats = _feats(47, rng)
    got, probs = fuse(model, feats, hop=10)
    inputs = [torch.from_numpy(fusion_input(f)) for f in feats]
    total, count, ptotal = np.zeros((47, 2)), np.zeros(47), np.zeros((47, 3))
    with torch.no_grad():
        for s in window_starts(47, 20, 10):
            va, logits = model(*(x[None, s : s + 20] for x in inputs))
            total[s : s + 20] += va[0].numpy()
            ptotal[s : s + 20] += logits[0].softmax(-1).numpy()
            count[s : s + 20] += 1
    assert got.shape == (47, 2) and probs.shape == (47, 3)
    assert np.allclose(got, total / count[:, None], atol=1e-5)
    assert np.allclose(probs, ptotal / count[:, None], atol=1e-5) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_fuse_pads_a_clip_shorter_than_a_window():
    from emoannot.fusion import fuse

    model, rng = _tiny_rjcma(20), np.random.default_rng(1)
    feats = _feats(7, rng)
    got, _ = fuse(model, feats)
    # causal TCN: the padding after the clip cannot change the clip's own ticks... except through attention,
    # which sees the whole window; so compare with an explicit zero-padded window
    from emoannot.features import fusion_input

    padded = [torch.from_numpy(np.pad(fusion_input(f), ((0, 13), (0, 0))))[None] for f in feats]
    with torch.no_grad():
        want = model(*padded)[0][0, :7].numpy()
    assert got.shape == (7, 2) and np.allclose(got, want, atol=1e-6)


def test_fusion_input_layout():
    from emoannot.features import fit_ticks, fusion_input

    f = _feats(5, np.random.default_rng(2))[1]
    x = fusion_input(f)
    assert x.shape == (5, 3 + 3)
    assert (x[:, -1] == f.mask).all() and (x[~f.mask, 3:5] == 0).all()
    assert fit_ticks(x, 3).shape == (3, 6) and fit_ticks(x, 8)[5:].sum() == 0


# ----------------------------------------------------------------------------- face tracking
def _det(x, y, w=50, score=0.9):
    from emoannot.faces import Detection

    return Detection(score, np.array([x, y, w, w], np.float32), np.array([[x + 15, y + 20], [x + 35, y + 20]], np.float32))


def test_tracker_keeps_the_same_face_and_smooths_its_box():
    from emoannot.faces.track import _Tracker

    tr = _Tracker(FaceConfig(smooth=0.5))
    d, box = tr.update([_det(100, 100), _det(300, 100, w=40)])
    assert box[0] == 100  # the larger face is taken first
    d, box = tr.update([_det(300, 100, w=80), _det(110, 100)])  # a bigger face appears elsewhere: keep ours
    assert d.box[0] == 110 and box[0] == pytest.approx(105)
    assert tr.update([]) is None  # lost: the next detection starts afresh
    d, box = tr.update([_det(300, 100, w=80)])
    assert box[0] == 300


def test_track_faces_one_crop_per_tick_and_gaps_filled():
    from emoannot.faces import track_faces
    from emoannot.records import Frame

    class FakeDetector:
        def detect(self, rgb):
            return [] if rgb[0, 0, 0] == 1 else [_det(20, 20)]

    frames = []
    for i in range(12):  # 5 fps for 2.4 s: ticks 0,2,4,... are reached, the odd ticks are filled from the previous
        rgb = np.zeros((120, 120, 3), np.uint8)
        rgb[:, :, 0] = 1 if i in (3, 4) else 0
        rgb[30:90, 30:90] = 80 + i
        frames.append(Frame(i, i / 5, rgb, 1.0))
    track = track_faces(frames, FaceConfig(), FakeDetector())
    assert track.n_frames == 12 and track.present.tolist() == [i not in (3, 4) for i in range(12)]
    assert track.crops.shape == (24, 48, 48) and len(track.crop_mask) == 24
    assert not track.crop_mask[6] and not track.crop_mask[8]  # frames 3 and 4 had no face
    assert track.crop_mask[7] == track.crop_mask[6] and (track.crops[5] == track.crops[4]).all()
    assert np.isnan(track.box[3]).all() and not np.isnan(track.box[0]).any()
    assert track.coverage == pytest.approx(10 / 12)


def _two_faces(n, bad=None):
    """n frames at 25 fps of two faces of different colours (left, right, 80 px); the left one's mouth region
    moves (its texture shifts by a pixel each frame), the right one's is still; frame `bad` is not an image."""
    from emoannot.records import Frame

    rng = np.random.default_rng(0)
    texture = (rng.random((24, 48, 3)) * 255).astype(np.uint8)
    frames = []
    for i in range(n):
        rgb = np.zeros((120, 240, 3), np.uint8)
        rgb[20:100, 20:100], rgb[20:100, 140:220] = (200, 120, 90), (60, 90, 200)
        rgb[70:94, 36:84] = np.roll(texture, i % 2, axis=1)  # the left mouth: back and forth
        rgb[70:94, 156:204] = texture  # the right mouth: still
        frames.append(Frame(i, i / 25, rgb[:, :, 0] if i == bad else rgb, 1.0))
    return frames


def test_track_people_follows_everyone_and_measures_each_mouth_on_the_worker():
    from emoannot.faces import track_people

    class FakeDetector:
        def detect_everyone(self, rgb, look_far):
            return [_det(140, 20, w=80), _det(20, 20, w=80)], False

    times, people = track_people(_two_faces(30), FaceConfig(every_frame=True), FakeDetector())
    assert len(times) == 30 and [p.id for p in people] == [1, 2]
    left, right = sorted(people, key=lambda p: p.track.box[0, 0])
    assert left.track.present.all() and right.track.present.all()
    assert np.isnan(left.mouth[0]) and np.isfinite(left.mouth[1:]).all()  # motion since the previous frame
    assert np.median(left.mouth[1:]) > 0.5 > 0.05 > np.median(right.mouth[1:])


def test_track_people_at_the_tick_rate_analyses_once_a_tick_and_measures_the_mouth_on_every_frame():
    from emoannot.faces import track_people

    calls, near = [], []

    class FakeDetector:
        def detect_everyone(self, rgb, look_far):
            calls.append(rgb)
            return [_det(140, 20, w=80), _det(20, 20, w=80)], False

        def detect_near(self, rgb):
            near.append(rgb)
            return [_det(140, 20, w=80), _det(20, 20, w=80)]

    frames = _two_faces(30)  # 25 fps: the first frame of each 0.1 s tick is 0, 3, 5, 8, 10, ...
    times, people = track_people(frames, FaceConfig(), FakeDetector())
    assert len(calls) == 12 and [c is frames[i].rgb for i, c in zip((0, 3, 5, 8), calls)] == [True] * 4
    assert len(near) == 18  # the other frames: the short-range detector alone, for the mouth boxes
    left, right = sorted(people, key=lambda p: p.track.box[0, 0])
    assert np.isnan(left.mouth[0]) and np.isfinite(left.mouth[1:]).all()  # on every frame
    assert np.median(left.mouth[1:]) > 0.5 > 0.05 > np.median(right.mouth[1:])
    assert left.track.present.all() and not np.isnan(left.track.box).any()  # the frames between filled in


def _moving_face_frames(n: int, fps: float, gone=()):
    """n frames of a face whose box moves 3 px right per frame (its x written into the pixels, for the fake
    detector); no face on the frames in `gone`."""
    from emoannot.records import Frame

    frames = []
    for i in range(n):
        rgb = np.zeros((120, 240, 3), np.uint8)
        rgb[0, 0, 0] = 255 if i in gone else 0
        rgb[0, 1, 0] = 10 + 3 * i
        rgb[30:90, 30:90] = 80
        frames.append(Frame(i, i / fps, rgb, 2.0))
    return frames


class _XDetector:
    """A detector that reads the face's x from the pixels (_moving_face_frames) and counts its calls."""

    def __init__(self):
        self.calls = 0

    def detect(self, rgb):
        self.calls += 1
        return [] if rgb[0, 0, 0] == 255 else [_det(float(rgb[0, 1, 0]), 20)]


def test_track_faces_at_the_tick_rate_interpolates_the_boxes_between_analysed_frames():
    from emoannot.faces import track_faces

    det = _XDetector()
    track = track_faces(_moving_face_frames(30, 30.0), FaceConfig(), det)
    assert det.calls == 10  # 30 fps: one frame in three is analysed
    x = track.box[:, 0] / 2.0  # boxes are in original pixels (scale 2)
    # the analysed frames carry the (lightly smoothed) detections; the frames between lie on the line joining them
    assert np.allclose(x[1], x[0] + (x[3] - x[0]) / 3, atol=1e-4) and np.allclose(x[2], x[0] + 2 * (x[3] - x[0]) / 3,
                                                                                   atol=1e-4)
    assert np.abs(x - (10 + 3 * np.arange(30)))[:28].max() < 1  # the smoothing lags by well under a frame's move
    assert x[28] == x[29] == x[27]  # after the last analysed frame (27) the box is held, not extrapolated
    assert track.present.all() and track.crop_mask.sum() == 10

    every = _XDetector()
    full = track_faces(_moving_face_frames(30, 30.0), FaceConfig(every_frame=True), every)
    assert every.calls == 30 and full.present.all()


def test_track_faces_at_the_tick_rate_takes_presence_from_the_nearer_analysed_frame():
    from emoannot.faces import track_faces

    # 30 fps, frames 0, 3, 6, 9 analysed; frame 6 has no face: the frames nearer to it than to 3 or 9 (5, 7)
    # have none either, the others keep the face (4 is nearer to 3, 8 to 9)
    track = track_faces(_moving_face_frames(12, 30.0, gone={6, 7, 8}), FaceConfig(), _XDetector())
    assert track.present.tolist() == [True] * 5 + [False] * 3 + [True] * 4
    assert np.isnan(track.box[5:8]).all() and np.isnan(track.score[5:8]).all()
    assert np.allclose(track.box[4], track.box[3]) and np.allclose(track.box[8], track.box[9])


def test_below_ten_frames_a_second_every_frame_is_analysed():
    from emoannot.faces import track_faces

    det = _XDetector()
    track = track_faces(_moving_face_frames(12, 4.0), FaceConfig(), det)  # 4 fps: each frame opens its own tick
    assert det.calls == 12 and track.present.all()
    assert track.crop_mask.all() and len(track.crop_mask) == 30  # the ticks no frame reached take the previous crop


def test_track_people_an_error_on_the_worker_reaches_the_caller():
    import cv2

    from emoannot.faces import track_people

    class FakeDetector:
        def detect_everyone(self, rgb, look_far):
            return [_det(20, 20, w=80)], False

        def detect_near(self, rgb):
            return [_det(20, 20, w=80)]

    with pytest.raises(cv2.error):  # frame 5 is not a colour image: its appearance cannot be measured
        track_people(_two_faces(40, bad=5), FaceConfig(), FakeDetector())


# ----------------------------------------------------------------------------- records and writers
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


# ----------------------------------------------------------------------------- atomic writes
def _commit(folder, names, files, extra_manifest=None):
    from emoannot.atomic import partial_folder
    from emoannot.outputs import commit_folder

    with partial_folder(folder) as tmp:
        for n, text in files.items():
            (tmp / n).write_text(text)
        commit_folder(tmp, folder, names, {"outputs": names, **(extra_manifest or {})})


def test_result_folder_is_filled_without_touching_files_emoannot_did_not_write(tmp_path):
    from emoannot.errors import OutputError

    folder = tmp_path / "x.mp4.emoannot"
    names = {"csv": "x.csv", "video": "x.annotated.mp4", "manifest": "manifest.json"}
    _commit(folder, names, {"x.csv": "1", "x.annotated.mp4": "v1"})
    assert json.loads((folder / "manifest.json").read_text())["complete"] is True
    (folder / "my notes.txt").write_text("mine")
    # a second run without the video: the csv is replaced, the earlier video and the user's file are kept
    _commit(folder, {"csv": "x.csv", "manifest": "manifest.json"}, {"x.csv": "2"})
    assert (folder / "x.csv").read_text() == "2" and (folder / "x.annotated.mp4").read_text() == "v1"
    assert (folder / "my notes.txt").read_text() == "mine"
    m = json.loads((folder / "manifest.json").read_text())
    assert m["kept_from_earlier_runs"] == {"x.annotated.mp4": "x.annotated.mp4"}
    # the kept video is still ours: a later run may replace it
    _commit(folder, names, {"x.csv": "3", "x.annotated.mp4": "v3"})
    assert (folder / "x.annotated.mp4").read_text() == "v3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.mp4.emoannot"]  # no partial folder left
    # a file emoannot did not write is never replaced
    (folder / "x.png").write_text("the user's own picture")
    with pytest.raises(OutputError, match="not written by emoannot"):
        _commit(folder, {**names, "plot": "x.png"}, {"x.csv": "4", "x.annotated.mp4": "v4", "x.png": "plot"})
    assert (folder / "x.png").read_text() == "the user's own picture" and (folder / "x.csv").read_text() == "3"
    # nor a file where the folder should be
    (tmp_path / "y.mp4.emoannot").write_text("a file")
    with pytest.raises(OutputError, match="is not a folder"):
        _commit(tmp_path / "y.mp4.emoannot", names, {"x.csv": "1", "x.annotated.mp4": "v"})
    assert (tmp_path / "y.mp4.emoannot").read_text() == "a file"


def test_an_input_inside_the_result_folder_is_never_overwritten(tmp_path):
    from emoannot.errors import OutputError
    from emoannot.outputs import check_outputs_free

    folder = tmp_path / "x.mp4.emoannot"
    _commit(folder, {"csv": "x.csv", "manifest": "manifest.json"}, {"x.csv": "1"})
    video = folder / "x.csv"  # an input that happens to sit where an output goes
    with pytest.raises(OutputError, match="input of this run"):
        check_outputs_free(folder, {"csv": "x.csv"}, (video,))


def test_stale_partial_folders_of_dead_writers_are_removed(tmp_path):
    import os

    from emoannot.atomic import PARTIAL_MARK, clean_stale_partials, partial_folder

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / "sub" / f".a.mp4.emoannot.partial-{dead.pid}-xyz"
    live = tmp_path / f".b.mp4.emoannot.partial-{os.getpid()}-abc"
    lookalike = tmp_path / f".notes.partial-{dead.pid}-mine"  # a user's folder: no mark inside
    for folder in (stale, live, lookalike):
        folder.mkdir(parents=True)
    for folder in (stale, live):  # what partial_folder leaves inside each folder it makes
        (folder / PARTIAL_MARK).write_text(folder.name + "\n")
    assert clean_stale_partials(tmp_path) == []  # not recursive: the stale one is in a subfolder
    assert clean_stale_partials(tmp_path, recursive=True) == [stale]
    assert live.exists() and not stale.exists() and lookalike.exists()
    with pytest.raises(ValueError):
        with partial_folder(tmp_path / "c.emoannot") as tmp:
            assert str(os.getpid()) in tmp.name
            assert (tmp / PARTIAL_MARK).read_text().strip() == tmp.name
            raise ValueError
    assert not list(tmp_path.glob(".c.emoannot*"))


def test_result_names_include_the_extension_and_disambiguate_collisions(tmp_path):
    from emoannot.outputs import output_folder, result_folders

    assert output_folder(Path("a/c.mp4"), tmp_path).name == "c.mp4.emoannot"
    folders = result_folders([Path("a/x.mp4"), Path("b/x.mp4"), Path("a/x.mov")], tmp_path)
    names = [f.name for f in folders]
    assert len(set(names)) == 3 and names[2] == "x.mov.emoannot"
    assert names[0].startswith("x.mp4-") and names[1].startswith("x.mp4-")
    assert result_folders([Path("b/x.mp4"), Path("a/x.mp4")], tmp_path)[1] == folders[0]  # stable


def test_file_identity_notices_a_replaced_file(tmp_path):
    import os

    from emoannot.hashing import file_identity

    f = tmp_path / "v.mp4"
    f.write_bytes(b"a" * 3_000_000)
    before = file_identity(f)
    assert file_identity(f) == before
    f.write_bytes(b"a" * 2_999_999 + b"b")  # same size, one byte changed at the end
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, before["mtime_ns"]))  # even with the old modification time
    assert file_identity(f)["sha256_ends"] != before["sha256_ends"]


def test_atomic_path_keeps_the_suffix_and_cleans_up(tmp_path):
    target = tmp_path / "sub" / "summary.csv"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".csv" and tmp.parent == target.parent and tmp != target
        tmp.write_text("x")
    assert target.read_text() == "x"
    with pytest.raises(KeyError):
        with atomic_path(target) as tmp:
            tmp.write_text("y")
            raise KeyError
    assert target.read_text() == "x" and [p.name for p in target.parent.iterdir()] == ["summary.csv"]


# ----------------------------------------------------------------------------- metrics
def test_metrics_match_their_formulas():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=200), rng.normal(size=200) * 0.5 + 0.2
    want = 2 * np.cov(x, y, bias=True)[0, 1] / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    assert ccc(x, y) == pytest.approx(want) and ccc(x, x) == pytest.approx(1.0)
    assert pearson(x, 2 * x + 1) == pytest.approx(1.0) and np.isnan(pearson(x, np.ones(200)))
    assert rmse(x, x + 0.5) == pytest.approx(0.5)
    assert np.isnan(ccc(x[:1], y[:1]))


# ----------------------------------------------------------------------------- speech spans, encoder check
def test_long_speech_is_recognised_in_bounded_pieces():
    from emoannot.speech import ASR_MAX_SPAN_S, ASR_WINDOW_S, asr_groups, asr_spans

    speech = tuple(Segment(t, t + 4.0) for t in np.arange(0, 1800, 5.0))  # 30 min of talk, 1 s pauses
    spans = asr_spans(speech, 1800.0)
    assert max(s.end - s.start for s in spans) <= ASR_MAX_SPAN_S + 0.5
    assert spans[0].start == 0 and spans[-1].end == pytest.approx(1799.2)
    groups = asr_groups(spans)
    assert all(g[-1].end - g[0].start <= ASR_WINDOW_S for g in groups)
    assert [s for g in groups for s in g] == spans


def test_runaway_decodes_are_dropped_and_the_language_check_is_gated():
    from emoannot.records import Word
    from emoannot.speech import doubtful
    from emoannot.speech.recognisers import plausible

    cfg = SpeechConfig()
    assert plausible(8, 0.0, 3.0, 1.5, cfg)  # ordinary speech
    assert not plausible(167, 0.0, 2.0, 1.9, cfg)  # a 2 s clip decoded into 167 words (seen on EmoDB, tiny.en)
    assert not plausible(11, 0.0, 1.3, 1.9, cfg) and plausible(6, 0.0, 1.0, 1.9, cfg)  # short segments count 1 s
    assert not plausible(20, 0.0, 10.0, cfg.compression_ratio_threshold + 0.1, cfg)  # still repetitive
    words = [Word(0.0, 0.5, " ask", 0.9), Word(0.5, 0.9, " not", 0.8)]
    assert not doubtful(words, cfg)
    assert doubtful([], cfg) and doubtful([Word(0.0, 0.5, " Lappen", 0.3)] + words, cfg)


def test_batched_recogniser_clips_fit_one_whisper_window():
    from emoannot.speech.recognisers import window_clips

    clips = window_clips([0.0, 12.0, 20.0, 95.0])  # 12 s, then 75 s of speech without a pause
    assert clips[0] == {"start": 0.0, "end": 12.0} and len(clips) == 4
    assert all(c["end"] - c["start"] <= 30.0 for c in clips)
    assert clips[1]["start"] == 20.0 and clips[-1]["end"] == 95.0
    assert all(a["end"] == b["start"] for a, b in zip(clips[1:], clips[2:]))  # cut, nothing lost


def test_audio_encoder_width_is_checked_against_the_head_at_load():
    from emoannot.features.audio import AudioEncoder

    with pytest.raises(WeightsError, match="512-d"):
        AudioEncoder(AsrModel.base, 384, "cpu")
    enc = AudioEncoder(AsrModel.tiny_en, 384, "cpu")  # nothing is loaded until the first encode
    assert enc.dim == 384 and enc._model is None


def test_pool_to_ticks_averages_each_tick_interval():
    from emoannot.features.audio import pool_to_ticks

    states = np.repeat(np.arange(10, dtype=np.float32)[:, None], 2, 1)  # 10 encoder frames = 0.2 s
    out = pool_to_ticks(states, 3)
    assert out[:, 0].tolist() == [2.0, 7.0, 0.0]


def test_word_index_per_tick_uses_tick_centres():
    from emoannot.features.text import word_index_per_tick

    words = (Word(0.0, 0.12, "a", 1), Word(0.31, 0.33, "b", 1), Word(0.6, 0.9, "c", 1))
    assert word_index_per_tick(words, 10).tolist() == [0, -1, -1, 1, -1, -1, 2, 2, 2, -1]


def test_ct2_whisper_weights_convert_to_openai_whisper():
    import whisper

    from emoannot.speech.convert import ct2_to_openai, read_ct2
    from emoannot.speech.weights import asr_model_dir

    dims, state = ct2_to_openai(read_ct2(asr_model_dir(AsrModel.tiny_en) / "model.bin"))
    assert dims["n_audio_state"] == 384 and dims["n_vocab"] == 51864
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**dims))
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(np.array(v)).float() for k, v in state.items()},
                                                strict=False)
    assert not unexpected and all(m.endswith("key.bias") for m in missing)


# ----------------------------------------------------------------------------- evidence and training material
def test_within_dilates_evidence_by_one_second():
    from emoannot.timeline import within

    m = np.zeros(50, bool)
    m[20] = True
    out = within(m, 1.0)
    assert np.flatnonzero(out).tolist() == list(range(10, 31))
    assert not within(np.zeros(5, bool), 1.0).any()


def test_balanced_weights_equalise_classes_and_boost_the_anchor():
    from emoannot.train.fit_heads import balanced_weights

    y = np.array([0] * 90 + [1] * 10 + [2] * 10)
    w = balanced_weights(y, {2: 2.0})
    assert w.sum() == pytest.approx(1.0)
    assert w[y == 0].sum() == pytest.approx(w[y == 1].sum()) and w[y == 2].sum() == pytest.approx(2 * w[y == 1].sum())


def _pool(rng, dv=4, da=3, dt=2):
    from emoannot.train.composites import CATEGORIES, Pool

    face_emb = {c: rng.normal(size=(5, dv)).astype(np.float32) for c in CATEGORIES}
    face_va = {c: np.zeros((5, 2), np.float32) for c in CATEGORIES}
    clips = {c: [(rng.normal(size=(20, da)).astype(np.float32), np.ones(20, bool), np.zeros((20, 2), np.float32))]
             for c in CATEGORIES}
    sents = {c: [(rng.normal(size=(6, dt)).astype(np.float32), np.zeros((6, 2), np.float32))] for c in CATEGORIES}
    return Pool(face_emb, face_va, clips, sents)


def test_composites_follow_the_face_and_leave_empty_segments_unlabelled():
    from emoannot.labels import va_point
    from emoannot.train.composites import CATEGORIES, compose

    pool = _pool(np.random.default_rng(0))
    w, present = compose(pool, 200, 100, seed=1, p_fast=1.0, p_mixed=1.0)
    points = {c: np.asarray(va_point(c), np.float32) for c in CATEGORIES}
    face_cat = {tuple(pool.face_emb[c][j]): c for c in CATEGORIES for j in range(5)}
    checked = 0
    for s in range(200):
        for t in range(100):
            if present[s, t, 0]:
                c = face_cat[tuple(w.visual[s, t, :4])]
                assert np.allclose(w.target[s, t], points[c])  # the target is what the face shows
                checked += 1
            if not present[s, max(0, t - 40) : t + 40].any():
                assert not w.label_mask[s, t]
    assert checked > 5000
    # short segments: the target changes often
    changes = (np.abs(np.diff(w.target[..., 0], axis=1)) > 0).sum(1)
    assert changes.mean() > 3


def test_faces_only_sequences_change_every_second():
    from emoannot.train.composites import faces_only

    w, present = faces_only(_pool(np.random.default_rng(2)), 4, 100, seed=3)
    assert present[..., 0].all() and not w.audio.any() and not w.text.any()
    assert (w.visual[:, :, -1] == 1).all()
    assert all((w.target[:, a : a + 10] == w.target[:, a : a + 1]).all() for a in range(0, 100, 10))


def test_class_point_metrics_report_distance_to_each_point():
    from emoannot.labels import va_point
    from emoannot.train.fit_heads import class_point_metrics

    classes = ["happy"] * 3 + ["neutral"] * 3
    pred = np.array([va_point("happy")] * 3 + [(0.1, 0.0)] * 3)
    m = class_point_metrics(pred, classes)
    assert m["per_class"]["happy"]["distance_to_point"] == pytest.approx(0.0, abs=1e-6)
    assert m["per_class"]["neutral"]["valence"] == pytest.approx(0.1)
    assert m["max_distance_to_point"] == pytest.approx(0.1)


def test_batch_lock_on_an_unwritable_output_is_an_output_error(tmp_path):
    from emoannot.batch import batch_lock
    from emoannot.errors import OutputError

    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        with batch_lock(tmp_path / "afile" / "out"):
            pass


def test_viterbi_pays_for_a_change_of_speaker_only_when_the_evidence_lasts():
    from emoannot.speakers import viterbi

    # state 1 is better by 0.5 for one step, then state 0 again: a blip, not worth a change costing 1.0
    blip = np.array([[1.0, 0.0]] * 3 + [[0.0, 0.5]] + [[1.0, 0.0]] * 3)
    assert viterbi(blip, np.full(6, 1.0)).tolist() == [0] * 7
    # the same blip where changes are free (a pause): it is followed
    assert viterbi(blip, np.zeros(6)).tolist() == [0, 0, 0, 1, 0, 0, 0]
    # a lasting turn pays for its two changes
    turn = np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 4)
    assert viterbi(turn, np.full(6, 1.0)).tolist() == [0, 0, 0, 1, 1, 1, 1]
    # an impossible state (an unseen person) is never chosen, whatever it would have scored
    gone = np.array([[1.0, 0.0, 0.05], [-np.inf, 5.0, 0.05], [1.0, 0.0, 0.05]])
    assert 0 not in viterbi(gone, np.full(2, 10.0))[1:2]


def test_speaker_follows_the_mouth_in_step_with_the_voice_and_no_still_mouth():
    """Mouth series made from the loudness itself (in step), from another stretch of it (out of step) and a
    still one: the voice goes to the one in step, turn by turn, never to the still mouth."""
    from emoannot.faces import empty_track
    from emoannot.records import Person
    from emoannot.speakers import ENERGY_RATE, attribute, energy_track
    from emoannot.timeline import tick_times

    rng = np.random.default_rng(0)
    rate, seconds, fps = 16000, 16.0, 25
    # speech-like loudness: noise bursts of 0.1-0.3 s with gaps, the envelope changing at syllable rate
    env = np.repeat(rng.uniform(0.05, 1.0, int(seconds * 5)) * (rng.random(int(seconds * 5)) > 0.3), rate // 5)
    audio = (rng.standard_normal(len(env)) * env).astype(np.float32)
    energy = energy_track(audio, rate)
    times = np.arange(int(seconds * fps)) / fps
    loud = energy[np.clip(np.round(times * ENERGY_RATE).astype(int), 0, len(energy) - 1)]
    in_step = (loud - loud.min()).astype(np.float32)
    out_of_step = np.roll(in_step, 37 * fps // 10)  # 3.7 s away
    first = times < 8.0  # A moves with the voice for 8 s, then B
    a = np.where(first, in_step, out_of_step).astype(np.float32)
    b = np.where(first, out_of_step, in_step).astype(np.float32)
    still = np.full(len(times), 0.001, np.float32)
    track = empty_track(times)
    people = tuple(Person(i + 1, track, m) for i, m in enumerate((a, b, still)))
    k = len(tick_times(int(seconds * 10)))
    out = attribute(people, (Segment(0.0, seconds),), times, energy, k)
    t = tick_times(k)
    assert out[1][t < 7.0].mean() > 0.9 and out[2][t > 9.0].mean() > 0.9
    assert not out[3].any()
    assert not (out[1] & out[2]).any()


def test_window_syncs_match_a_direct_correlation_window_by_window():
    from emoannot.speakers import LAGS_S, MIN_FRAMES, MOVE_MIN, energy_track, loudness_at, window_syncs

    def sync(mouth, times, energy):  # the definition, one window at a time, with numpy's corrcoef
        ok = np.isfinite(mouth)
        if ok.sum() < MIN_FRAMES or np.median(mouth[ok]) < MOVE_MIN or np.std(mouth[ok]) == 0:
            return np.nan
        return max(np.corrcoef(mouth[ok], loudness_at(energy, times[ok] + lag))[0, 1]
                   for lag in np.arange(LAGS_S[0], LAGS_S[1] + 1e-9, 0.04))

    rng = np.random.default_rng(1)
    audio = (rng.standard_normal(16000 * 12) * np.repeat(rng.uniform(0, 1, 60), 3200)).astype(np.float32)
    energy = energy_track(audio, 16000)
    times = np.arange(300) / 25
    mouth = rng.uniform(0, 1, 300)
    mouth[40:80] = np.nan  # unseen
    mouth[200:260] = 0.01  # still
    lo = rng.integers(0, 280, 40)
    hi = np.minimum(lo + rng.integers(5, 90, 40), 300)
    got = window_syncs(mouth, times, energy, lo, hi)
    for w in range(40):
        seg = mouth[lo[w]:hi[w]]
        want = sync(seg, times[lo[w]:hi[w]], energy) if np.isfinite(seg).sum() >= 0.5 * len(seg) else np.nan
        assert (np.isnan(want) and np.isnan(got[w])) or abs(want - got[w]) < 1e-7, (w, want, got[w])
    assert np.isfinite(got).any() and np.isnan(got).any()


def test_speech_covers_the_recognised_words():
    from emoannot.records import Segment, Word
    from emoannot.speech import cover_words

    speech = (Segment(0.43, 1.2), Segment(2.0, 3.0))
    words = (Word(0.23, 0.5, "Don't", 0.9), Word(1.1, 1.33, "go", 0.9), Word(1.9, 2.1, "now", 0.9),
             Word(3.5, 3.7, "ok", 0.9))
    assert cover_words(speech, words) == (Segment(0.23, 1.33), Segment(1.9, 3.0), Segment(3.5, 3.7))
    assert cover_words(speech, ()) == speech and cover_words((), ()) == ()


def _table(n: int, face_from: int = 0, speech=(), words=()) -> pd.DataFrame:
    t = np.arange(n) / 25
    w = [""] * n
    for i, word in words:
        w[i] = word
    return pd.DataFrame({"frame": np.arange(n), "time_s": t, "valence": np.sin(t), "arousal": np.cos(t),
                         "emotion": ["happy"] * n, "face": (np.arange(n) >= face_from).astype(int),
                         "speech": np.isin(np.arange(n), speech).astype(int), "word": w})


def test_plot_gives_each_table_its_own_named_lanes_and_keeps_the_legend_off_the_lines():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emoannot.outputs.plot import figure

    a, b = _table(100, speech=range(10, 40), words=[(12, "hello")]), _table(60, face_from=20, words=[(5, "hi")])
    fig = figure([a, b], ["a", "b"])
    try:
        ax_v, _, ax_e, ax_w = fig.axes[:4]
        assert [t.get_text() for t in ax_w.get_yticklabels()] == ["a", "b"]
        assert [t.get_text() for t in ax_e.get_yticklabels()] == ["a", "b"]
        assert {t.get_text() for t in ax_w.texts} == {"hello", "hi"}
        fig.canvas.draw()
        legend = ax_v.get_legend()
        assert legend.get_window_extent().y0 >= ax_v.get_window_extent().y1 - 1  # above the axes, not over lines
        assert {t.get_text() for t in legend.get_texts()} == {"a", "b", "no face", "speech"}
    finally:
        plt.close(fig)
    fig = figure([_table(50)], ["one"])  # a face in every frame, no speech: nothing to shade, nothing listed
    try:
        assert {t.get_text() for t in fig.axes[0].get_legend().get_texts()} == {"one"}
    finally:
        plt.close(fig)


def test_confidence_is_certainty_times_agreement_times_closeness_to_evidence():
    from emoannot.confidence import disagreement, emotion_p, frame_confidence

    n = 50
    times = np.arange(n) / 10  # 10 fps: frame i at i / 10 s
    valence = np.full(n, 0.2, np.float32)
    valence[45:] = np.nan  # beyond the evidence
    sources = tuple(["face+voice"] * 30 + [""] * 20)  # evidence ends after frame 29
    probs = np.full((n, 4), 0.1, np.float32)
    probs[:, 0] = 0.7  # p = 0.7 over 4 classes: certainty (0.7 - 0.25) / 0.75 = 0.6
    vv, va = np.full(n, 0.5, np.float32), np.full(n, 0.5, np.float32)
    va[10:20] = -0.5  # face and voice 1.0 apart: agreement 0.5
    conf = frame_confidence(times, valence, sources, {"valence_visual": vv, "valence_audio": va}, probs)
    assert conf[:10] == pytest.approx(0.6) and conf[10:20] == pytest.approx(0.3)
    assert conf[34] == pytest.approx(0.6 * 0.5, abs=1e-5)  # 0.5 s from the last evidence (frame 29)
    assert conf[39] == pytest.approx(0.0, abs=1e-6) and np.isnan(conf[45:]).all()
    assert emotion_p(probs, n)[0] == pytest.approx(0.7) and np.isnan(emotion_p(None, 3)).all()
    no_voice = {"valence_visual": vv, "valence_audio": np.full(n, np.nan)}  # nothing to disagree with
    assert frame_confidence(times, valence, sources, no_voice, None)[:30] == pytest.approx(1.0)
    assert disagreement(times, {"valence_visual": vv, "valence_audio": va}) is None  # 10 of 50 frames
    va[:40] = -0.6
    assert "disagree on valence" in disagreement(times, {"valence_visual": vv, "valence_audio": va})


def test_overlay_colours_stay_visible_and_labels_avoid_the_inset():
    from emoannot.outputs import EMOTION_COLOURS, PERSON_COLOURS
    from emoannot.outputs.overlay import INSET, _inset_rect, _label_at, _va_colour

    for v in (-1.0, -0.5, 0.0, 0.5, 1.0):
        assert max(_va_colour(v)) >= 180  # never near black (valence 0 was (40, 40, 60))
    red, amber, green = _va_colour(-1), _va_colour(0), _va_colour(1)
    assert red[0] > 200 > red[1] and green[1] > 180 > green[0] and amber[0] > 200 and amber[1] > 150
    for c in PERSON_COLOURS:  # no person is drawn in the valence scale's red or green
        r, g, b = (int(c[j:j + 2], 16) for j in (1, 3, 5))
        assert not (r > 180 and g < 90 and b < 90) and not (g > 150 and r < 90 and b < 90)
    assert not set(PERSON_COLOURS) & set(EMOTION_COLOURS.values())
    rect = _inset_rect(640, 360)
    assert _label_at(100, 50, 80, 120, rect, 360) == (100, 44)  # clear of the inset: above the box
    x, y = _label_at(640 - INSET, 20, 80, 120, rect, 360)  # under the inset: below the box instead
    assert y > 20 + 80
