"""CLI, library API and batch plumbing with the tiny random-weights set (fast tier: no whisper, no MiniLM;
the clips have no speech, so the speech models are never loaded)."""
import csv
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import emoannot
from emoannot.cli import SHARED_OPTIONS, app
from emoannot.labels import FACE_CLASSES
from emoannot.records import CSV_COLUMNS

from helpers import EXAMPLE, count_frames

runner = CliRunner()


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_public_api_annotates_and_gives_a_dataframe(tiny_weights, silent_video):
    with emoannot.load(device="cpu", weights=str(tiny_weights)) as engine:
        a = emoannot.annotate(silent_video, engine)
    assert isinstance(a, emoannot.Annotation)
    df = a.to_dataframe()
    assert tuple(df.columns) == CSV_COLUMNS and len(df) == count_frames(silent_video)
    assert a.faces.coverage > 0.9 and not a.speech.any() and a.transcript.words == ()
    assert engine.speech.loaded_recogniser() is None and "words" not in vars(engine)  # never needed: never loaded
    assert {"probe", "decode+faces", "visual", "speech", "fusion"} <= set(a.seconds)


def test_load_rejects_unknown_settings():
    with pytest.raises(TypeError, match="unknown setting"):
        emoannot.load(devise="cpu")


def test_cli_predict_with_tiny_weights(tiny_weights, silent_video, tmp_path, monkeypatch):
    import sys

    args = ["predict", str(silent_video), "--out", str(tmp_path), "--weights", str(tiny_weights), "--device", "cpu",
            "--format", "affwild2", "--extra-columns", "--quiet"]
    monkeypatch.setattr(sys, "argv", ["/somewhere/bin/emoannot", *args])  # what the console script is started with
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "silent.mp4.emoannot"
    df = pd.read_csv(folder / "silent.csv")
    n = count_frames(silent_video)
    assert len(df) == n and tuple(df.columns[: len(CSV_COLUMNS)]) == CSV_COLUMNS and "valence_visual" in df
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["frames_decoded"] == n
    shas = {m["name"]: m["sha256"] for m in manifest["models"]}
    registry = json.loads((tiny_weights / "registry.json").read_text())
    assert shas["rjcma"] == registry["rjcma"]["sha256"]
    assert set(manifest["outputs"]) == {"csv", "manifest", "plot", "affwild2"}
    from datetime import datetime

    assert datetime.fromisoformat(manifest["created"]).tzinfo is not None
    assert manifest["command"].startswith(f"emoannot predict {silent_video} --out ")
    landmarker = next(m["source"] for m in manifest["models"] if "landmarker" in m["name"])
    assert landmarker.split("/")[0] in ("emoannot_weights", "weights") and not landmarker.startswith("/")
    assert all(len(repr(v).split(".")[-1]) <= 6 for v in (manifest["duration_s"], manifest["face_coverage"]))
    assert len((folder / "silent.affwild2.txt").read_text().splitlines()) == n + 1


def test_every_frame_is_recorded_and_gives_a_row_per_frame_either_way(tiny_weights, silent_video, tmp_path):
    frames = {}
    for flag in ([], ["--every-frame"]):
        out = tmp_path / (flag[0][2:] if flag else "tick")
        result = runner.invoke(app, ["predict", str(silent_video), "--out", str(out), "--weights", str(tiny_weights),
                                     "--device", "cpu", "--quiet", "--no-plot", *flag])
        assert result.exit_code == 0, result.output
        folder = out / "silent.mp4.emoannot"
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["settings"]["faces"]["every_frame"] is bool(flag)
        frames[bool(flag)] = pd.read_csv(folder / "silent.csv")
    tick, every = frames[False], frames[True]
    assert len(tick) == len(every) == count_frames(silent_video) and (tick["face"] == every["face"]).all()
    face = tick["face"] == 1
    assert face.mean() > 0.9  # the example's face is in every frame
    size = every.loc[face, ["face_w", "face_h"]].max(axis=1)
    for col in ("face_x", "face_y", "face_w", "face_h"):
        assert ((tick.loc[face, col] - every.loc[face, col]).abs() / size).max() < 0.05


def test_the_optional_openai_whisper_engine_is_asked_for_by_name_when_missing(monkeypatch, silent_video, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "whisper" else real(name, *a))
    result = runner.invoke(app, ["predict", str(silent_video), "--out", str(tmp_path), "--asr-engine",
                                 "openai-whisper", "--quiet"])
    assert result.exit_code == 2 and "emoannot[openai-whisper]" in result.output
    assert not list(tmp_path.iterdir())


def test_help_shows_brackets_and_defaults_as_written_and_the_version():
    from importlib.metadata import version

    out = runner.invoke(app, ["predict", "--help"], terminal_width=200).output
    assert "[default: .]" in out and "<bool>" not in out and "Emotion categories and the three fusions" in out
    assert "emoannot[ray]" in runner.invoke(app, ["batch", "--help"], terminal_width=200).output
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"emoannot {version('emoannot')}"


def test_predict_and_batch_share_one_declaration_of_their_options():
    names = [n for n, _, _ in SHARED_OPTIONS]
    assert len(names) == 13
    for command in ("predict", "batch"):
        out = runner.invoke(app, [command, "--help"], terminal_width=200).output
        for n in names:
            assert "--" + n.replace("_", "-") in out, (command, n)


@pytest.mark.parametrize("args, refused", [
    (["--format", "offline", "--lr", "0.1"], "--lr"),
    (["--format", "offline", "--device", "cpu", "--base-weights", "x"], "--base-weights, --device"),
    (["--format", "affwild2", "--visual-epochs", "3"], "--visual-epochs"),
    (["--format", "review", "--visual-epochs", "3"], "--visual-epochs"),
    (["--format", "offline", "--init", "default"], "--init"),
])
def test_train_refuses_options_its_format_ignores(tmp_path, args, refused):
    result = runner.invoke(app, ["train", str(tmp_path), *args, "--out", str(tmp_path / "w")])
    assert result.exit_code == 2
    assert refused in result.output and "does not apply" in result.output or "do not apply" in result.output
    assert not (tmp_path / "w").exists()


def test_batch_events_resume_and_failures_with_tiny_weights(tiny_engine, silent_video, no_audio_video, tmp_path):
    from emoannot.batch import find_videos, run_batch
    from emoannot.progress import BatchStarted, VideoEvent

    d = tmp_path / "clips"
    d.mkdir()
    shutil.copy(silent_video, d / "a.mp4")
    shutil.copy(no_audio_video, d / "b.mp4")
    (d / "c.mp4").write_text("not a video")
    out = tmp_path / "out"
    events = []
    report = run_batch(tiny_engine, d, out, find_videos(d), on_event=events.append)
    assert [os.path.basename(p) for p in report.done] == ["a.mp4", "b.mp4"]
    assert [os.path.basename(f.path) for f in report.failed] == ["c.mp4"] and report.failed[0].stage == "probe"
    started = events[0]
    assert isinstance(started, BatchStarted) and started.videos == 3
    n = count_frames(silent_video)
    assert started.frames == pytest.approx(2 * n, abs=4)
    done = [e for e in events if isinstance(e, VideoEvent) and e.status == "done"]
    assert [e.frames for e in done] == [n, count_frames(no_audio_video)]  # the frames bar advances for successes
    assert any(e.status == "warning" and "no audio stream" in e.message for e in events[1:])
    summary = {os.path.basename(r["path"]): r for r in rows(out / "summary.csv")}
    assert summary["a.mp4"]["status"] == "done" and int(summary["a.mp4"]["frames"]) == n
    assert rows(out / "failures.csv")[0]["stage"] == "probe"
    # resume: the complete results are skipped, with their numbers read back
    report = run_batch(tiny_engine, d, out, find_videos(d), resume=True)
    assert len(report.skipped) == 2 and len(report.failed) == 1
    again = {os.path.basename(r["path"]): r for r in rows(out / "summary.csv")}
    assert again["a.mp4"]["status"] == "skipped" and again["a.mp4"]["valence_mean"] == summary["a.mp4"]["valence_mean"]
    assert summary["a.mp4"]["emotion_top"] in FACE_CLASSES and 0 < float(summary["a.mp4"]["emotion_top_share"]) <= 1
    assert again["a.mp4"]["emotion_top"] == summary["a.mp4"]["emotion_top"]


def test_cli_batch_with_tiny_weights(tiny_weights, silent_video, tmp_path, monkeypatch):
    import emoannot.batch

    d = tmp_path / "clips"
    d.mkdir()
    shutil.copy(silent_video, d / "x.mp4")
    out = tmp_path / "res"
    args = ["batch", str(d), "--out", str(out), "--weights", str(tiny_weights), "--device", "cpu", "--no-plot"]
    result = runner.invoke(app, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    assert "[1/1] done" in result.output

    def no_models(*_a, **_k):
        raise AssertionError("a batch with nothing left to do loaded the models")

    monkeypatch.setattr(emoannot.batch, "Engine", no_models)  # --resume decides before any model loads
    result = runner.invoke(app, [*args, "--quiet", "--resume"])
    assert result.exit_code == 0 and "[1/1] skipped" in result.output, result.output
    assert (out / "x.mp4.emoannot" / "x.csv").exists()


def test_plot_redraws_from_a_csv(tiny_engine, silent_video, tmp_path):
    from emoannot.api import predict

    _, paths = predict(silent_video, tiny_engine, tmp_path)
    out = tmp_path / "again.png"
    result = runner.invoke(app, ["plot", str(paths.csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_no_information_gives_no_number(tiny_engine, tmp_path):
    """A grey video with a silent audio track: no face, no speech, so no valence or arousal anywhere; the
    writers show the gap instead of a guess."""
    from helpers import ffmpeg
    from emoannot.config import OutputFormat

    grey = tmp_path / "grey.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=320x240:d=20:r=10", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono",
           "-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(grey))
    a = emoannot.annotate(grey, tiny_engine)
    assert a.n_frames == 200 and np.isnan(a.valence).all() and np.isnan(a.arousal).all()
    assert set(a.sources) == {""} and np.isnan(a.tick_va).all()
    assert [w for w in a.warnings if "no information" in w] and not [w for w in a.warnings if "alone" in w]
    from dataclasses import replace

    engine_settings = replace(tiny_engine.settings, write_video=True, formats=(OutputFormat.csv, OutputFormat.affwild2))
    from emoannot.api import write_outputs

    paths = write_outputs(replace(a, settings=engine_settings), tmp_path / "grey.mp4.emoannot", "cpu")
    df = pd.read_csv(paths.csv, keep_default_na=False, na_values=[""])
    assert df["valence"].isna().all() and df["sources"].isna().all()
    assert set((paths.affwild2).read_text().splitlines()[1:]) == {"-5.0000,-5.0000"}
    assert json.loads(paths.manifest.read_text())["frames_with_values"] == 0
    assert paths.plot.stat().st_size > 10_000 and paths.video.stat().st_size > 1_000


def test_values_reach_one_second_beyond_the_evidence(tiny_engine, tmp_path):
    """Face for the first 3 s, then grey: values end about 1 s after the face does; sources say face."""
    from helpers import ffmpeg

    clip = tmp_path / "face_then_grey.mp4"
    ffmpeg("-i", str(EXAMPLE), "-f", "lavfi", "-i", "color=c=gray:s=480x360:d=4:r=30", "-filter_complex",
           "[0:v]fps=30,setsar=1[a];[1:v]setsar=1[b];[a][b]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-c:v", "libx264",
           "-preset", "ultrafast", str(clip))
    a = emoannot.annotate(clip, tiny_engine)
    face_end = a.times[a.faces.present][-1]
    valued = a.times[np.isfinite(a.valence)]
    assert valued[0] < 0.1 and face_end + 0.8 <= valued[-1] <= face_end + 1.25
    assert set(a.sources[: 10]) == {"face"} and a.sources[-1] == ""


def test_batch_names_a_failed_file_once(tiny_weights, tmp_path):
    d = tmp_path / "clips"
    d.mkdir()
    (d / "broken.mp4").write_text("not a video")
    result = runner.invoke(app, ["batch", str(d), "--out", str(tmp_path / "o"), "--weights", str(tiny_weights),
                                 "--device", "cpu", "--quiet", "--no-plot"], terminal_width=300)
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if x.startswith("failed"))
    assert line.count("broken.mp4") == 1 and "[probe]" in line


def test_the_api_checks_its_arguments_and_a_closed_engine_says_so(tiny_weights, silent_video):
    """Issue 28.12: help() lists the API; bad arguments are clear errors before any model loads; close() is
    idempotent and a closed engine refuses to work with a message that says what to do."""
    import pydoc

    text = pydoc.render_doc(emoannot, renderer=pydoc.plaintext)
    assert all(f"{name}(" in text for name in ("load", "annotate", "predict"))
    with pytest.raises(ValueError, match="device='tpu' is not one of auto, cpu, cuda"):
        emoannot.load(device="tpu")
    with pytest.raises(ValueError, match="formats='pdf' is not one of"):
        emoannot.load(formats=("pdf",))
    with pytest.raises(TypeError, match="engine must be an Engine"):
        emoannot.annotate(silent_video, "cpu")
    engine = emoannot.load(device="cpu", weights=str(tiny_weights))
    engine.close()
    engine.close()
    with pytest.raises(RuntimeError, match="closed"):
        emoannot.annotate(silent_video, engine)


def test_the_api_plots_an_annotation_and_gives_the_extra_columns(tiny_engine, silent_video, tmp_path):
    a = emoannot.annotate(silent_video, tiny_engine)
    assert emoannot.plot(a, tmp_path / "a.png").stat().st_size > 20_000
    fig = emoannot.plot(a)
    import matplotlib.pyplot as plt

    assert len(fig.axes) >= 5
    plt.close(fig)
    extra = a.to_dataframe(extra=True)
    assert "valence_visual" in extra and "p_happy" in extra and "bs_jawOpen" in extra
    assert list(a.to_dataframe(extra_columns=True).columns) == list(extra.columns)
    assert "valence_visual" not in a.to_dataframe()


def test_weights_tiny_is_a_smoke_run_set_made_once_in_the_cache(tmp_path, monkeypatch, silent_video):
    """--weights tiny: random weights made in the cache on first use (then reused), a run that works end to end
    and says that its numbers mean nothing."""
    from emoannot.model.weights import resolve_set, tiny_set

    monkeypatch.setenv("EMOANNOT_CACHE", str(tmp_path / "cache"))
    folder = resolve_set("tiny")
    assert folder.parent == tmp_path / "cache" / "weights" and (folder / "registry.json").is_file()
    stamp = (folder / "rjcma.safetensors").stat().st_mtime_ns
    assert tiny_set() == folder and (folder / "rjcma.safetensors").stat().st_mtime_ns == stamp  # made once
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".tiny-")]  # no temporary left
    out = tmp_path / "out"
    r = runner.invoke(app, ["predict", str(silent_video), "--weights", "tiny", "--out", str(out), "--device", "cpu",
                            "--no-plot"])
    assert r.exit_code == 0, r.output
    assert "random weights for smoke runs" in r.output
    manifest = json.loads(next(out.glob("*/manifest.json")).read_text())
    assert any("the numbers mean nothing" in w for w in manifest["warnings"])
