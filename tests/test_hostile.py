"""Hostile inputs and outputs (one regression test per finding of the hostile-user run): right times on
every container, no file ever lost, one clear line instead of a traceback. Tiny random weights: these
tests check times, names and files, not the emotion numbers."""
import csv
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

import emoannot
from emoannot.atomic import PARTIAL_MARK
from emoannot.cli import app
from emoannot.errors import DataError, InputError, OutputError
from emoannot.timeline import video_ticks

from helpers import EXAMPLE, MEDIA, count_frames, ffmpeg, need

runner = CliRunner()


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """The timing matrix, made from the example clip (speech from about 0.2 s to 1.7 s)."""
    d = tmp_path_factory.mktemp("hostile")
    mp4 = d / "ex.mp4"
    ffmpeg("-i", str(EXAMPLE), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(mp4))
    ffmpeg("-i", str(mp4), "-c", "copy", str(d / "ex.ts"))  # MPEG-TS: the video starts at about 1.4 s
    ffmpeg("-i", str(mp4), "-c", "copy", "-output_ts_offset", "30", str(d / "off30.mkv"))
    long = d / "long.mp4"  # 5.7 s of video, the audio starts 2 s late
    ffmpeg("-stream_loop", "2", "-i", str(mp4), "-c:v", "libx264", "-preset", "ultrafast", "-an", str(d / "loop.mp4"))
    ffmpeg("-i", str(d / "loop.mp4"), "-itsoffset", "2", "-i", str(mp4), "-map", "0:v", "-map", "1:a", "-c", "copy",
           str(long))
    with open(d / "streamed.webm", "wb") as f:  # written to a pipe: no duration in the container
        subprocess.run([_ffmpeg(), "-v", "error", "-i", str(mp4), "-c:v", "libvpx", "-deadline", "realtime",
                        "-c:a", "libopus", "-f", "webm", "pipe:1"], stdout=f, check=True)
    ffmpeg("-i", str(mp4), "-an", "-c:v", "libx264", "-preset", "ultrafast", "-f", "h264", str(d / "raw.h264"))
    ffmpeg("-i", str(EXAMPLE), "-frames:v", "1", str(d / "cover.png"))
    ffmpeg("-i", str(need(MEDIA / "jfk.flac")), "-i", str(d / "cover.png"), "-map", "0", "-map", "1", "-c:a",
           "libmp3lame", "-c:v", "mjpeg", "-disposition:v", "attached_pic", str(d / "cover.mp3"))
    ffmpeg("-t", "1.2", "-i", str(mp4), "-i", str(MEDIA / "jfk.flac"), "-map", "0:v", "-map", "1:a", "-c:v", "copy",
           "-c:a", "aac", str(d / "audio_longer.mp4"))
    a, b = d / "vfr_a.mkv", d / "vfr_b.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=2", "-c:v", "libx264", str(a))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=30:duration=2", "-c:v", "libx264", str(b))
    (d / "vfr.txt").write_text(f"file '{a}'\nfile '{b}'\n")
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(d / "vfr.txt"), "-c", "copy", str(d / "vfr0.mkv"))
    ffmpeg("-i", str(d / "vfr0.mkv"), "-f", "lavfi", "-i", "sine=frequency=440:duration=4", "-map", "0:v", "-map",
           "1:a", "-c:v", "copy", "-c:a", "aac", "-shortest", str(d / "vfr.mkv"))
    return d


def _ffmpeg():
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------------------- 1-5: right times
def test_stream_start_offsets_put_speech_and_frames_on_one_clock(tiny_engine, media):
    ref = emoannot.annotate(media / "ex.mp4", tiny_engine)
    ts = emoannot.annotate(media / "ex.ts", tiny_engine)
    assert ts.times[0] < 0.1  # from the container's start, not the stream's 1.4 s
    assert ref.speech.sum() > 20 and abs(int(ts.speech.sum()) - int(ref.speech.sum())) <= 3
    assert len(np.unique(ts.valence)) > 20  # not one value smeared over the clip
    mkv = emoannot.annotate(media / "off30.mkv", tiny_engine)
    assert mkv.times[0] < 0.1 and not any("truncated" in w for w in mkv.warnings)
    assert abs(int(mkv.speech.sum()) - int(ref.speech.sum())) <= 3


def test_late_audio_keeps_its_place(tiny_engine, media):
    ref = emoannot.annotate(media / "ex.mp4", tiny_engine)
    late = emoannot.annotate(media / "long.mp4", tiny_engine)
    first_ref = ref.times[np.argmax(ref.speech)]
    first_late = late.times[np.argmax(late.speech)]
    assert first_late - first_ref == pytest.approx(2.0, abs=0.15)
    assert late.transcript.words and late.transcript.words[0].start > 2.0


@pytest.mark.parametrize("name", ["streamed.webm", "raw.h264"])
def test_files_without_a_stated_duration_take_their_ticks_from_the_frames(tiny_engine, media, name):
    a = emoannot.annotate(media / name, tiny_engine)
    assert a.n_frames >= 55
    assert len(a.tick_va) == video_ticks(a.times) >= 18
    assert len(np.unique(a.valence)) > 20
    assert not any("truncated" in w for w in a.warnings)


def test_cover_art_is_not_a_video(media):
    with pytest.raises(InputError, match="audio-only file .*cover art"):
        emoannot.annotate(media / "cover.mp3", emoannot.Settings())


def test_audio_past_the_video_end_is_not_counted(tiny_engine, media, tmp_path):
    a, paths = emoannot.predict(media / "audio_longer.mp4", tiny_engine, tmp_path)
    end = a.duration_s
    assert end < 1.5
    manifest = json.loads(paths.manifest.read_text())
    assert manifest["speech_seconds"] <= end + 0.01
    assert all(w.start < end for w in a.transcript.words)
    assert manifest["words"] == len(a.transcript.words) < 8  # jfk.flac has 22 words in 11 s


def test_variable_frame_rate_overlay_keeps_each_frame_time(tiny_engine, media, tmp_path):
    from emoannot.outputs.overlay import write_overlay

    a = emoannot.annotate(media / "vfr.mkv", tiny_engine)
    write_overlay(a, tmp_path / "o.mp4")
    with av.open(str(tmp_path / "o.mp4")) as c:
        times = np.array([f.time for f in c.decode(video=0)])
        assert len(c.streams.audio) == 1
    assert len(times) == a.n_frames == 80
    assert np.abs(times - a.times).max() < 0.002  # 0.27 s of drift before


# ----------------------------------------------------------------------------- 6-9: no file lost
def test_inputs_that_share_a_name_get_their_own_results(tiny_weights, media, tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(media / "raw.h264", tmp_path / sub / "x.h264")
    shutil.copy(media / "streamed.webm", tmp_path / "a" / "x.webm")
    out = tmp_path / "o"
    result = runner.invoke(app, ["predict", str(tmp_path / "a" / "x.h264"), str(tmp_path / "b" / "x.h264"),
                                 str(tmp_path / "a" / "x.webm"), "--out", str(out), "--weights", str(tiny_weights),
                                 "--device", "cpu", "--no-plot", "--quiet"])
    assert result.exit_code == 0, result.output
    folders = sorted(p.name for p in out.iterdir())
    assert len(folders) == 3 and "x.webm.emoannot" in folders
    sources = {json.loads((out / f / "manifest.json").read_text())["input"]["path"] for f in folders}
    assert len(sources) == 3


def test_a_second_predict_keeps_earlier_outputs_user_files_and_inputs(tiny_weights, silent_video, tmp_path):
    out = tmp_path / "o"
    args = ["predict", "--out", str(out), "--weights", str(tiny_weights), "--device", "cpu", "--quiet"]
    assert runner.invoke(app, [*args, str(silent_video), "--video", "--format", "affwild2"]).exit_code == 0
    folder = out / "silent.mp4.emoannot"
    (folder / "my notes.txt").write_text("mine")
    inside = folder / "clip.mp4"
    shutil.copy(silent_video, inside)  # an input kept inside the result folder
    result = runner.invoke(app, [*args, str(silent_video), "--no-plot"])
    assert result.exit_code == 0, result.output
    assert (folder / "silent.annotated.mp4").exists() and (folder / "silent.affwild2.txt").exists()
    assert (folder / "my notes.txt").read_text() == "mine" and inside.exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "silent.annotated.mp4" in manifest["kept_from_earlier_runs"] and "plot" not in manifest["outputs"]
    # a user's file where the result folder goes is neither replaced nor renamed
    (out / "clip.mp4.emoannot").write_text("not a folder")
    result = runner.invoke(app, [*args, str(inside)])
    assert result.exit_code == 3 and "is not a folder" in result.output
    assert (out / "clip.mp4.emoannot").read_text() == "not a folder"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    # issue 28.9: a dangling link where the result folder goes is refused before any work, and left as it is
    (out / "clip.mp4.emoannot").unlink()
    (out / "clip.mp4.emoannot").symlink_to(tmp_path / "gone")
    result = runner.invoke(app, [*args, str(inside)])
    assert result.exit_code == 3 and "does not exist" in result.output and "annotat" not in result.output.lower()
    assert (out / "clip.mp4.emoannot").is_symlink() and not (tmp_path / "gone").exists()


def test_resume_redoes_an_input_replaced_under_the_same_name(tiny_engine, silent_video, no_audio_video, tmp_path):
    from emoannot.batch import find_videos, run_batch

    d = tmp_path / "clips"
    d.mkdir()
    shutil.copy(silent_video, d / "a.mp4")
    out = tmp_path / "out"
    run_batch(tiny_engine, d, out, find_videos(d))
    assert run_batch(tiny_engine, d, out, find_videos(d), resume=True).skipped
    shutil.copy(no_audio_video, d / "a.mp4")  # another file, same name
    report = run_batch(tiny_engine, d, out, find_videos(d), resume=True)
    assert len(report.done) == 1 and not report.skipped
    assert json.loads((out / "a.mp4.emoannot" / "manifest.json").read_text())["input"]["has_audio"] is False


def test_a_second_batch_on_the_same_output_is_told_to_wait_and_stale_partials_go(tiny_weights, silent_video,
                                                                                   tmp_path):
    from emoannot.batch import batch_lock

    d = tmp_path / "clips"
    d.mkdir()
    shutil.copy(silent_video, d / "a.mp4")
    out = tmp_path / "out"
    args = ["batch", str(d), "--out", str(out), "--weights", str(tiny_weights), "--device", "cpu", "--quiet",
            "--no-plot"]
    with batch_lock(out):
        result = runner.invoke(app, args)
    assert result.exit_code == 3 and "another emoannot batch" in result.output
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out / f".a.mp4.emoannot.partial-{dead.pid}-x"  # what a killed emoannot leaves: its mark inside
    stale.mkdir()
    (stale / PARTIAL_MARK).write_text(stale.name + "\n")
    # issue 28.6: a user's folders that only look like one (no mark, or a mark that names another folder)
    lookalikes = [out / f".my.partial-{dead.pid}-notes", out / "sub" / f".x.partial-{dead.pid}-y"]
    for folder in lookalikes:
        folder.mkdir(parents=True)
        (folder / "important.txt").write_text("mine")
    (lookalikes[1] / PARTIAL_MARK).write_text("another-name\n")
    result = runner.invoke(app, args + ["--recursive"])
    assert result.exit_code == 0, result.output
    assert not stale.exists() and (out / "a.mp4.emoannot" / "manifest.json").exists()
    for folder in lookalikes:
        assert (folder / "important.txt").read_text() == "mine"


@pytest.mark.slow  # a predict in a subprocess, killed mid-write (about 6 s)
def test_sigterm_while_predict_writes_leaves_no_partial_folder(tiny_weights, tmp_path):
    video = need(MEDIA / "WolfgangLanger_Pexels.mp4")
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "emoannot.cli", "predict", str(video), "--out", str(out),
                             "--weights", str(tiny_weights), "--device", "cpu", "--video", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob(".*partial*")) and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()[0].decode()
    time.sleep(0.3)  # inside the writers now (the annotated video takes seconds)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 130, output
    assert not [p for p in out.iterdir() if "partial" in p.name]


# ----------------------------------------------------------------------------- 10-13: one clear line
def _csv(tmp_path, tiny_engine, silent_video):
    _, paths = emoannot.predict(silent_video, tiny_engine, tmp_path / "res")
    return paths.csv


@pytest.mark.parametrize("case", ["nan_first", "text_value", "binary", "no_extension", "folder", "missing_folder",
                                  "itself"])
def test_plot_refuses_bad_inputs_and_targets_in_one_line(tiny_engine, silent_video, tmp_path, case):
    import pandas as pd

    good = _csv(tmp_path, tiny_engine, silent_video)
    src, out = tmp_path / "in.csv", tmp_path / "p.png"
    df = pd.read_csv(good)
    if case == "nan_first":
        df.loc[0, ["valence", "arousal"]] = np.nan
    elif case == "text_value":
        df["valence"] = df["valence"].astype(object)
        df.loc[3, "valence"] = "high"
    df.to_csv(src, index=False, na_rep="")
    if case == "binary":
        src.write_bytes(bytes(range(256)) * 20)
    out = {"no_extension": tmp_path / "plot", "folder": tmp_path, "missing_folder": tmp_path / "no" / "p.png",
           "itself": src}.get(case, out)
    result = runner.invoke(app, ["plot", str(src), "--out", str(out)])
    if case == "nan_first":
        assert result.exit_code == 0, result.output
        assert out.read_bytes()[:4] == b"\x89PNG"
        return
    assert result.exit_code == (2 if case in ("text_value", "binary") else 3), result.output
    assert result.output.startswith("error:") and "Traceback" not in result.output
    assert str(src if case in ("text_value", "binary") else out) in result.output.replace("\n", "")


def _txt(path, va):
    path.write_text("valence,arousal\n" + "".join(f"{v},{a}\n" for v, a in va))


def test_evaluate_says_what_is_wrong(tmp_path):
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    gt_dir.mkdir(), pred_dir.mkdir()
    rng = np.random.default_rng(0)
    gt = rng.uniform(-1, 1, (50, 2))
    _txt(gt_dir / "a.txt", gt)
    _txt(pred_dir / "a.txt", gt[:40])
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_dir)])
    assert result.exit_code == 6 and "40 frames" in result.output and "50" in result.output
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_dir), "--allow-length-mismatch"])
    assert result.exit_code == 0 and "prediction 40 frames, ground truth 50" in result.output.replace("\n", " ")
    _txt(pred_dir / "a.txt", gt)
    _txt(gt_dir / "b.txt", [(-5, -5)] * 50)  # nothing annotated: listed, not dropped
    _txt(pred_dir / "b.txt", gt)
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_dir), "--json", str(tmp_path / "s.json")],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["videos"]["b"]["n_frames"] == 0 and scores["pooled"]["n_frames"] == 50
    assert "│ b " in result.output
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_dir), "--json", str(tmp_path / "no" / "s.json")])
    assert result.exit_code == 3 and "does not exist" in result.output
    (gt_dir / "a.txt").write_text("valence,arousal\n0.1,0.2\nhigh,0.3\n")
    result = runner.invoke(app, ["evaluate", str(pred_dir / "a.txt"), str(gt_dir / "a.txt")])
    assert result.exit_code == 6 and "line 3" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("damage", ["registry_not_json", "registry_list", "registry_no_sha", "card_not_json",
                                    "bad_header", "config_mismatch"])
def test_broken_weights_are_reported_not_ok(tiny_weights, tmp_path, damage):
    w = tmp_path / "w"
    shutil.copytree(tiny_weights, w)
    reg = json.loads((w / "registry.json").read_text())
    if damage == "registry_not_json":
        (w / "registry.json").write_text("{not json")
    elif damage == "registry_list":
        (w / "registry.json").write_text(json.dumps(list(reg.values())))
    elif damage == "registry_no_sha":
        del reg["rjcma"]["sha256"]
        (w / "registry.json").write_text(json.dumps(reg))
    elif damage == "card_not_json":
        (w / "text_head.json").write_text("nope")
    elif damage in ("bad_header", "config_mismatch"):
        from emoannot.hashing import sha256_of

        if damage == "bad_header":
            (w / "rjcma.safetensors").write_bytes(b"\xff" * 8 + b"garbage" * 10)
        else:
            card = json.loads((w / "rjcma.json").read_text())
            card["config"]["out_dims"] = [16, 16, 16]
            (w / "rjcma.json").write_text(json.dumps(card))
        reg["rjcma"]["sha256"] = sha256_of(w / "rjcma.safetensors")  # the checksum alone would not notice
        (w / "registry.json").write_text(json.dumps(reg))
    result = runner.invoke(app, ["models", "--weights", str(w)], terminal_width=250)
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["predict", str(EXAMPLE), "--weights", str(w), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 4 and result.output.startswith("error:"), result.output


def test_settings_and_paths_that_used_to_crash(tiny_weights, silent_video, tmp_path, monkeypatch):
    result = runner.invoke(app, ["predict", str(EXAMPLE), "--asr-model", "base", "--language", "xx"])
    assert result.exit_code == 2 and "--language xx" in result.output
    result = runner.invoke(app, ["predict", str(EXAMPLE), "--language", "de"])
    assert result.exit_code == 2 and "--asr-model base" in result.output
    # a relative path with ':' is a file, not a URL
    monkeypatch.chdir(tmp_path)
    shutil.copy(silent_video, tmp_path / "take:2.mp4")
    result = runner.invoke(app, ["predict", "take:2.mp4", "--weights", str(tiny_weights), "--device", "cpu",
                                 "--no-plot", "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "take:2.mp4.emoannot" / "take:2.csv").exists()
    # a 1x1 video is too small, not "damaged"; the path is said once
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=1x1:d=1", "-c:v", "mpeg4", str(tmp_path / "dot.mp4"))
    result = runner.invoke(app, ["predict", str(tmp_path / "dot.mp4")])
    assert result.exit_code == 2 and "too small" in result.output and result.output.count("dot.mp4") == 1


def test_training_on_one_video_names_the_missing_validation_split(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "v.flv")
    _txt(tmp_path / "v.txt", [(0.1, 0.2)] * count_frames(EXAMPLE))
    result = runner.invoke(app, ["train", str(tmp_path), "--format", "affwild2", "--out", str(tmp_path / "w")])
    assert result.exit_code == 6 and "validation" in result.output


def test_a_video_without_any_value_says_so_without_nan_or_warnings(tiny_weights, tmp_path):
    """Issue 28.10: no face and no speech -> 'no frame has a value', never 'mean valence +nan' nor numpy's
    RuntimeWarning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = runner.invoke(app, ["predict", str(need(MEDIA / "no_face.mp4")), "--out", str(tmp_path),
                                     "--weights", str(tiny_weights), "--device", "cpu", "--no-plot"])
    assert result.exit_code == 0, result.output
    assert "nan" not in result.output.lower() and "no frame has a value" in result.output


def test_a_cjk_name_plots_without_glyph_warnings(tmp_path, recwarn):
    """Issue 28.11: a title in Chinese/Japanese draws with a CJK font where one is installed and falls back
    quietly (boxes) where none is: no per-glyph warnings either way."""
    import pandas as pd

    from emoannot.outputs.plot import plot_tables

    n = 50
    df = pd.DataFrame({"time_s": np.arange(n) / 10, "valence": np.linspace(-0.5, 0.5, n), "arousal": np.zeros(n),
                       "face": 1, "speech": 0, "word": "", "emotion": "happy"})
    plot_tables([df], ["録画 采访 인터뷰 🎬"], tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 10_000
    assert not [w for w in recwarn if "Glyph" in str(w.message)], [str(w.message) for w in recwarn]


def test_the_top_of_out_keeps_the_users_files_and_earlier_batches_rows(tiny_weights, silent_video, tmp_path):
    """Issue 28.4: a summary.csv, failures.csv or index.html at the top of --out that emoannot did not write is
    refused before any work; a second batch with another --pattern keeps the first batch's summary rows."""
    from emoannot.batch import BATCH_MANIFEST, LOCK_FILE

    d, out = tmp_path / "clips", tmp_path / "out"
    d.mkdir(), out.mkdir()
    shutil.copy(silent_video, d / "a.mp4")
    shutil.copy(silent_video, d / "b.mov")
    args = ["batch", str(d), "--out", str(out), "--weights", str(tiny_weights), "--device", "cpu", "--quiet",
            "--no-plot"]
    for name, extra in (("summary.csv", []), ("failures.csv", []), ("index.html", ["--format", "html"])):
        (out / name).write_text("mine")
        result = runner.invoke(app, args + extra)
        assert result.exit_code == 3 and "was not written by emoannot" in result.output, result.output
        assert (out / name).read_text() == "mine" and not (out / "a.mp4.emoannot").exists()
        (out / name).unlink()
    assert runner.invoke(app, args + ["--pattern", "*.mp4", "--format", "html"]).exit_code == 0
    assert runner.invoke(app, args + ["--pattern", "*.mov", "--format", "html"]).exit_code == 0
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(Path(r["path"]).name for r in rows) == ["a.mp4", "b.mov"]
    assert all(r["status"] == "done" for r in rows)
    index = (out / "index.html").read_text()
    assert "a.mp4.emoannot/a.html" in index and "b.mov.emoannot/b.html" in index
    assert json.loads((out / BATCH_MANIFEST).read_text())["files"] == ["failures.csv", "index.html", "summary.csv"]
    assert not (out / LOCK_FILE).exists()


def test_batch_into_its_own_input_folder_takes_none_of_its_files_as_videos(tiny_weights, silent_video, tmp_path):
    """Issue 28.8: `--pattern '*'` with --out = the input folder: summary.csv, failures.csv, the batch manifest
    and the lock file are not videos, on the first run or the second; no lock file is left behind."""
    from emoannot.batch import LOCK_FILE

    d = tmp_path / "clips"
    d.mkdir()
    shutil.copy(silent_video, d / "a.mp4")
    args = ["batch", str(d), "--out", str(d), "--pattern", "*", "--weights", str(tiny_weights), "--device", "cpu",
            "--quiet", "--no-plot"]
    for _ in range(2):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        with open(d / "summary.csv", newline="") as f:
            assert [Path(r["path"]).name for r in csv.DictReader(f)] == ["a.mp4"]
        assert (d / "failures.csv").read_text().strip() == "path,stage,message"
        assert not (d / LOCK_FILE).exists()


def test_another_video_of_the_same_name_keeps_both_results_and_a_repeated_input_runs_once(tiny_weights, silent_video,
                                                                                          no_audio_video, tmp_path):
    """Issue 28.5: day1/interview.mp4, then day2/interview.mp4 into the same --out: both results are kept (the
    second beside the first, tagged by its folder); the same call given one file twice annotates it once; the
    same file again replaces its own result."""
    for day, src in (("day1", silent_video), ("day2", no_audio_video)):
        (tmp_path / day).mkdir()
        shutil.copy(src, tmp_path / day / "interview.mp4")
    out = tmp_path / "out"
    args = ["--out", str(out), "--weights", str(tiny_weights), "--device", "cpu", "--no-plot"]
    first = tmp_path / "day1" / "interview.mp4"
    result = runner.invoke(app, ["predict", str(first), str(first), *args])
    assert result.exit_code == 0 and "given more than once" in result.output, result.output
    assert result.output.count("->") == 1
    assert runner.invoke(app, ["predict", str(tmp_path / "day2" / "interview.mp4"), *args]).exit_code == 0
    folders = sorted(p.name for p in out.glob("*.emoannot"))
    assert len(folders) == 2 and "interview.mp4.emoannot" in folders
    assert any(f.startswith("interview.mp4-") and f != "interview.mp4.emoannot" for f in folders)
    inputs = {json.loads((out / f / "manifest.json").read_text())["input"]["has_audio"] for f in folders}
    assert inputs == {True, False}  # day1 has audio, day2 none: two different results, both kept
    assert runner.invoke(app, ["predict", str(first), *args]).exit_code == 0  # its own result, replaced in place
    assert sorted(p.name for p in out.glob("*.emoannot")) == folders


@pytest.mark.parametrize("args, said", [(["--lr", "-1"], "--lr"), (["--batch-size", "0"], "--batch-size"),
                                        (["--epochs", "0"], "--epochs")])
def test_train_checks_its_numbers_before_any_work(tmp_path, args, said):
    """Issue 28.7: impossible numbers are refused at parse time (exit 2), not after feature extraction."""
    result = runner.invoke(app, ["train", str(tmp_path), "--format", "affwild2", "--out", str(tmp_path / "w"), *args])
    assert result.exit_code == 2 and said in result.output and not (tmp_path / "w").exists()


def test_train_never_replaces_a_weights_set_it_did_not_write(tiny_weights, tmp_path):
    """Issue 28.7: --out pointing at a weights folder that this recipe did not write is refused before any
    work (its registry, fusion and card untouched); a folder the recipe wrote may be rebuilt."""
    from emoannot.model.weights import TRAINED_BY_FILE, claim_for_training

    w = tmp_path / "w"
    shutil.copytree(tiny_weights, w)
    before = {p.name: p.read_bytes() for p in w.iterdir()}
    shutil.copy(EXAMPLE, tmp_path / "v.flv")
    _txt(tmp_path / "v.txt", [(0.1, 0.2)] * count_frames(EXAMPLE))
    result = runner.invoke(app, ["train", str(tmp_path), "--format", "affwild2", "--out", str(w)])
    assert result.exit_code == 3 and "will not replace it" in result.output, result.output
    assert {p.name: p.read_bytes() for p in w.iterdir()} == before
    claim_for_training(tmp_path / "new", "affwild2", tmp_path)  # a new folder: claimed for that recipe
    (tmp_path / "new" / "registry.json").write_text("{}")
    claim_for_training(tmp_path / "new", "affwild2", tmp_path)  # its own: a rerun may rebuild it
    with pytest.raises(OutputError, match="--format affwild2"):
        claim_for_training(tmp_path / "new", "offline", tmp_path)
    assert json.loads((tmp_path / "new" / TRAINED_BY_FILE).read_text())["recipe"] == "affwild2"


def test_training_on_too_little_data_says_so(tmp_path):
    """Issue 28.7: two short clips (56 and 72 frames) give no full batch of training windows: a DataError that
    says 'too little training data', not a crash formatting a missing loss."""
    import numpy as np

    from emoannot.train.fit_fusion import FusionTrainConfig, Windows, train_fusion
    from emoannot.model.rjcma import RJCMAConfig

    def windows(n):
        z = lambda d: np.zeros((n, 100, d), np.float32)  # noqa: E731
        return Windows(z(10), z(10), z(10), np.zeros((n, 100, 2), np.float32), np.ones((n, 100), bool))

    cfg = RJCMAConfig(in_dims=(10, 10, 10), out_dims=(4, 4, 4), channels=(4,), window=100, iterations=1,
                      head_hidden=4)
    with pytest.raises(DataError, match="too little training data: 2 window"):
        train_fusion("rjcma", cfg, lambda e: windows(2), windows(2), tmp_path, FusionTrainConfig(epochs=1, batch_size=12),
                     log=lambda s: None)


def test_a_resumed_batch_writes_the_same_summary_row_as_the_run_that_made_the_result(tiny_weights, tmp_path):
    """Issue 28.14: the row of a video skipped by --resume equals the row the run that annotated it wrote
    (valence_sd was recomputed from the rounded CSV, seconds were wall time against the stages' sum)."""
    d, out = tmp_path / "clips", tmp_path / "out"
    d.mkdir()
    shutil.copy(EXAMPLE, d / "a.flv")
    args = ["batch", str(d), "--out", str(out), "--weights", str(tiny_weights), "--device", "cpu", "--quiet",
            "--no-plot"]
    assert runner.invoke(app, args).exit_code == 0
    with open(out / "summary.csv", newline="") as f:
        made = list(csv.DictReader(f))
    assert runner.invoke(app, args + ["--resume"]).exit_code == 0
    with open(out / "summary.csv", newline="") as f:
        resumed = list(csv.DictReader(f))
    assert made[0]["status"] == "done" and resumed[0]["status"] == "skipped"
    assert {k: v for k, v in made[0].items() if k != "status"} == {k: v for k, v in resumed[0].items() if k != "status"}
    assert made[0]["valence_sd"] != "" and float(made[0]["seconds"]) > 0
