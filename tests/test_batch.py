import csv
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from emoannot.batch import BATCH_MANIFEST
from emoannot.cli import app

from helpers import CREMA, need

pytestmark = pytest.mark.slow  # loads the full model set (whisper, MiniLM) or trains

runner = CliRunner()


@pytest.fixture()
def folder(tmp_path):
    d = tmp_path / "clips"
    (d / "nested").mkdir(parents=True)
    for c in ("HAP", "SAD"):
        shutil.copy(need(CREMA / f"1001_DFA_{c}_XX.flv"), d / f"{c.lower()}.flv")
    shutil.copy(CREMA / "1001_DFA_NEU_XX.flv", d / "nested" / "neu.flv")
    (d / "notes.mp4").write_text("a text file named .mp4\n")
    (d / "empty.mov").touch()
    (d / "readme.txt").write_text("not matched by the default pattern")
    return d


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_batch_survives_bad_files_and_resumes(folder, tmp_path):
    out = tmp_path / "results"
    result = runner.invoke(app, ["batch", str(folder), "--out", str(out), "--no-plot", "--quiet"])
    assert result.exit_code == 1, result.output
    summary = {os.path.basename(r["path"]): r for r in rows(out / "summary.csv")}
    assert set(summary) == {"hap.flv", "sad.flv", "notes.mp4", "empty.mov"}
    assert summary["hap.flv"]["status"] == "done" and int(summary["hap.flv"]["frames"]) > 50
    assert 0.9 < float(summary["hap.flv"]["face_coverage"]) <= 1
    assert float(summary["sad.flv"]["valence_mean"]) < float(summary["hap.flv"]["valence_mean"])
    failures = {os.path.basename(r["path"]): r for r in rows(out / "failures.csv")}
    assert set(failures) == {"notes.mp4", "empty.mov"}
    assert "empty" in failures["empty.mov"]["message"] and failures["empty.mov"]["stage"] == "probe"
    assert not (out / "notes.mp4.emoannot").exists()
    assert "failed" in result.output
    # --resume skips the complete ones; --recursive adds the nested clip
    result = runner.invoke(app, ["batch", str(folder), "--out", str(out), "--no-plot", "--quiet", "--resume",
                                 "--recursive"])
    summary = {os.path.basename(r["path"]): r["status"] for r in rows(out / "summary.csv")}
    assert summary["hap.flv"] == "skipped" and summary["sad.flv"] == "skipped" and summary["neu.flv"] == "done"
    assert (out / "nested" / "neu.flv.emoannot" / "neu.csv").exists()
    # settings changed (plot now wanted): resume redoes them
    result = runner.invoke(app, ["batch", str(folder), "--out", str(out), "--quiet", "--resume",
                                 "--pattern", "*.flv"])
    assert result.exit_code == 0, result.output
    assert (out / "hap.flv.emoannot" / "hap.png").exists()


def test_fail_fast_stops_at_the_first_failure(folder, tmp_path):
    out = tmp_path / "ff"
    result = runner.invoke(app, ["batch", str(folder), "--out", str(out), "--no-plot", "--quiet", "--fail-fast"])
    assert result.exit_code == 1
    assert len(rows(out / "failures.csv")) == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_batch_leaves_no_partial_output_and_resume_finishes(tmp_path, sig):
    d = tmp_path / "many"
    d.mkdir()
    for i in range(4):
        for c in ("HAP", "SAD"):
            shutil.copy(need(CREMA / f"1001_DFA_{c}_XX.flv"), d / f"{c.lower()}{i}.flv")
    out = tmp_path / "res"
    cmd = [sys.executable, "-m", "emoannot.cli", "batch", str(d), "--out", str(out), "--quiet", "--resume",
           "--device", "cpu"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while time.time() < deadline and not list(out.glob("*.emoannot")):
        time.sleep(0.2)
    time.sleep(1.0)  # now in the middle of another video
    proc.send_signal(sig)
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 130, output
    assert "interrupted" in output
    done = list(out.glob("*.emoannot"))
    assert 1 <= len(done) < 8
    # nothing hidden but the list of the summary files batch wrote; the lock goes with the batch
    assert not [p for p in out.iterdir() if "partial" in p.name or (p.name.startswith(".") and p.name != BATCH_MANIFEST)]
    for f in done:
        assert (f / "manifest.json").exists()
    proc = subprocess.run(cmd, capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    statuses = [r["status"] for r in rows(out / "summary.csv")]
    assert statuses.count("skipped") == len(done) and statuses.count("done") == 8 - len(done)


def test_batch_lock_on_an_unwritable_output_is_an_output_error(tmp_path):
    from emoannot.batch import batch_lock
    from emoannot.errors import OutputError

    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        with batch_lock(tmp_path / "afile" / "out"):
            pass
