"""predict end to end through the CLI (Typer's CliRunner) and the library, on real media."""
import json

import av
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from emoannot.api import predict
from emoannot.cli import app
from emoannot.outputs.csv import COLUMNS

from helpers import CREMA, EXAMPLE, MEDIA, count_frames, need

pytestmark = pytest.mark.slow  # loads the full model set (whisper, MiniLM) or trains

runner = CliRunner()


def read_outputs(folder, stem):
    df = pd.read_csv(folder / f"{stem}.csv", keep_default_na=False, na_values=[""])
    manifest = json.loads((folder / "manifest.json").read_text())
    return df, manifest


def check_table(df, n_frames):
    assert tuple(df.columns[: len(COLUMNS)]) == COLUMNS
    assert len(df) == n_frames
    assert (df["frame"].to_numpy() == np.arange(n_frames)).all()
    assert np.all(np.diff(df["time_s"].to_numpy()) > 0)
    sources = df["sources"].fillna("")
    for col in ("valence", "arousal"):
        assert df.loc[sources != "", col].notna().all()  # evidence at the frame: always a value
        assert df[col].dropna().between(-1, 1).all()
    assert set(df["face"].unique()) <= {0, 1} and set(df["speech"].unique()) <= {0, 1}
    faces = df[df["face"] == 1]
    assert faces[["face_score", "face_x", "face_y", "face_w", "face_h"]].notna().all().all()
    assert df.loc[df["face"] == 0, "face_w"].isna().all()


def test_predict_crema_clip_with_video(tmp_path):
    result = runner.invoke(app, ["predict", str(EXAMPLE), "--out", str(tmp_path), "--video", "--device", "cpu",
                                 "--format", "affwild2", "--extra-columns"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "1001_DFA_HAP_XX.flv.emoannot"
    df, manifest = read_outputs(folder, "1001_DFA_HAP_XX")
    n = count_frames(EXAMPLE)
    check_table(df, n)
    assert df["face"].mean() > 0.9
    assert df["speech"].sum() > 10
    assert df["word"].fillna("").str.len().gt(0).sum() > 5
    worded = df["word"].fillna("").str.len().gt(0)
    assert (df.loc[worded, "speech"] == 1).all()  # a word never stands outside speech (speech.cover_words)
    src = df["sources"].fillna("")
    assert not (src.str.contains("words") & ~src.str.contains("voice")).any()  # no words without the voice
    assert "valence_visual" in df and "arousal_audio" in df
    assert manifest["frames_decoded"] == n
    assert manifest["input"]["fps"] == pytest.approx(29.97, abs=0.01)
    assert {m["name"] for m in manifest["models"]} >= {"expression_cnn", "audio_head", "text_head", "rjcma"}
    assert all(len(m["sha256"]) == 64 for m in manifest["models"][:4])
    assert {"decode", "decode+faces", "speech", "fusion", "plot", "video"} <= set(manifest["seconds"])
    assert manifest["versions"]["torch"]
    assert (folder / "1001_DFA_HAP_XX.png").stat().st_size > 20_000
    aff = (folder / "1001_DFA_HAP_XX.affwild2.txt").read_text().splitlines()
    assert aff[0] == "valence,arousal" and len(aff) == n + 1
    # the annotated video decodes with the same number of frames and carries the audio
    video = folder / "1001_DFA_HAP_XX.annotated.mp4"
    assert count_frames(video) == n
    with av.open(str(video)) as c:
        assert len(c.streams.audio) == 1
        # the input's geometry: the timeline strip lies over the bottom of the picture
        assert (c.streams.video[0].codec_context.width, c.streams.video[0].codec_context.height) == (480, 360)
        samples = sum(f.samples for f in c.decode(audio=0))
    assert samples / 44100 == pytest.approx(n / 29.97, abs=0.25)
    assert not list(tmp_path.glob(".*partial*"))


def test_no_face_anywhere_keeps_every_row(engine, tmp_path):
    video = need(MEDIA / "no_face.mp4")
    a, paths = predict(video, engine, tmp_path)
    df, manifest = read_outputs(paths.folder, "no_face")
    check_table(df, count_frames(video))
    assert df["face"].sum() == 0
    assert any("no face" in w for w in manifest["warnings"])


def test_no_audio_stream_runs_visual_only(engine, no_audio_video, tmp_path):
    a, paths = predict(no_audio_video, engine, tmp_path)
    df, manifest = read_outputs(paths.folder, "no_audio")
    check_table(df, count_frames(no_audio_video))
    assert df["speech"].sum() == 0 and df["face"].mean() > 0.9
    assert manifest["input"]["has_audio"] is False
    assert any("no audio stream" in w for w in manifest["warnings"])


def test_silent_audio_has_no_speech_and_no_words(engine, silent_video, tmp_path):
    a, paths = predict(silent_video, engine, tmp_path)
    df, manifest = read_outputs(paths.folder, "silent")
    assert df["speech"].sum() == 0 and df["word"].isna().all()
    assert manifest["words"] == 0
    assert any("no speech" in w for w in manifest["warnings"])


def test_short_clip_and_odd_path(engine, odd_name_video, tmp_path):
    out = tmp_path / "sortie à part"
    a, paths = predict(odd_name_video, engine, out)
    assert paths.folder.name == "vidéo ünïcode 1.flv.emoannot"
    df, _ = read_outputs(paths.folder, odd_name_video.stem)
    assert a.info.duration_s < 10  # shorter than one 10 s model window
    check_table(df, count_frames(odd_name_video))


def test_faces_found_in_rotated_video(engine, media_dir, tmp_path):
    from helpers import ffmpeg

    upright, rotated = media_dir / "upright2.mp4", media_dir / "rotated2.mp4"
    ffmpeg("-i", str(EXAMPLE), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-an", str(upright))
    ffmpeg("-display_rotation", "90", "-i", str(upright), "-c", "copy", str(rotated))
    a = engine.annotate(rotated)
    assert a.faces.present.mean() > 0.9  # mediapipe only finds upright faces
    assert np.nanmax(a.faces.box[:, 1] + a.faces.box[:, 3]) <= 480 + 1


def test_4k_frames_report_boxes_in_original_pixels(engine, media_dir):
    from helpers import ffmpeg

    big = media_dir / "uhd.mp4"
    ffmpeg("-i", str(EXAMPLE), "-t", "1", "-vf", "scale=2880:2160,pad=3840:2160:480:0", "-c:v", "libx264",
           "-preset", "ultrafast",
           "-an", str(big))
    small = engine.annotate(EXAMPLE)
    a = engine.annotate(big)
    assert a.faces.present.mean() > 0.9
    ratio = np.nanmedian(a.faces.box[:, 2]) / np.nanmedian(small.faces.box[:, 2])
    assert ratio == pytest.approx(2160 / 360, rel=0.1)


@pytest.mark.parametrize("clip", ["1001_DFA_ANG_XX.flv", "1001_DFA_SAD_XX.flv"])
def test_other_crema_clips(engine, clip, tmp_path):
    video = need(CREMA / clip)
    a, paths = predict(video, engine, tmp_path)
    assert a.n_frames == count_frames(video)
    assert np.isfinite(a.valence).all()


def test_cli_errors_leave_no_output(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_text("not a video")
    out = tmp_path / "out"
    result = runner.invoke(app, ["predict", str(bad), "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    assert "not a readable video" in result.output
    assert not out.exists() or not any(out.iterdir())
    result = runner.invoke(app, ["predict", str(tmp_path / "missing.mp4")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_cli_unwritable_output(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        target = locked / "sub"
        result = runner.invoke(app, ["predict", str(EXAMPLE), "--out", str(target)])
        import os
        if os.geteuid() == 0:  # root writes anywhere; use a path under a file instead
            (tmp_path / "afile").write_text("x")
            result = runner.invoke(app, ["predict", str(EXAMPLE), "--out", str(tmp_path / "afile" / "sub")])
        assert result.exit_code == 3
        assert "cannot write" in result.output
    finally:
        locked.chmod(0o700)


def test_plot_overlays_several_csvs(engine, tmp_path):
    csvs = []
    for clip in ("1001_DFA_HAP_XX.flv", "1001_DFA_SAD_XX.flv"):
        _, paths = predict(need(CREMA / clip), engine, tmp_path)
        csvs.append(paths.csv)
    out = tmp_path / "both.png"
    result = runner.invoke(app, ["plot", *map(str, csvs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 20_000
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["plot", str(bad)])
    assert result.exit_code == 2 and "not an emoannot per-frame CSV" in result.output


def test_truncated_video_is_annotated_up_to_the_damage_with_a_warning(engine, tmp_path):
    src = need(CREMA / "1001_DFA_ANG_XX.flv").read_bytes()
    half = tmp_path / "half.flv"
    half.write_bytes(src[: len(src) // 2])
    a, paths = predict(half, engine, tmp_path)
    df, manifest = read_outputs(paths.folder, "half")
    assert 0 < len(df) < count_frames(CREMA / "1001_DFA_ANG_XX.flv")
    assert any("truncated" in w for w in manifest["warnings"])


def test_multilingual_base_model_annotates_a_clip_with_speech(tmp_path):
    """--asr-model base recognises the words; the audio features still come from the head's own encoder."""
    result = runner.invoke(app, ["predict", str(EXAMPLE), "--out", str(tmp_path), "--asr-model", "base",
                                 "--language", "en", "--device", "cpu", "--no-plot", "--extra-columns", "--quiet"])
    assert result.exit_code == 0, result.output
    df, manifest = read_outputs(tmp_path / "1001_DFA_HAP_XX.flv.emoannot", "1001_DFA_HAP_XX")
    assert "forget" in manifest["transcript"].lower() and manifest["language"] == "en"
    assert df["arousal_audio"].notna().sum() > 10
    names = [m["name"] for m in manifest["models"]]
    assert any(n.startswith("whisper-base") for n in names) and any("tiny.en encoder" in n for n in names)
