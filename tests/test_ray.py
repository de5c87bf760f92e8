"""`emoannot batch --ray`: a local Ray runtime (ray.init(num_cpus=2)) with the tiny random-weights set, on real
clips: the same files as the plain batch, a failing input, resume, a worker killed with SIGKILL mid-video
(retried on a new worker; killed twice, logged), Ctrl-C. Skipped where Ray is not installed."""
from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import EXAMPLE, MEDIA, need

ray = pytest.importorskip("ray", reason='Ray is an optional extra: pip install -e ".[test]" (or "emoannot[ray]")')


def rows(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def ray_runtime():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("ray-clips")
    shutil.copy(EXAMPLE, d / "talk.flv")  # face and speech
    shutil.copy(need(MEDIA / "single_face.mp4"), d / "face.mp4")
    shutil.copy(need(MEDIA / "no_face.mp4"), d / "nobody.mp4")
    (d / "broken.mp4").write_text("not a video")
    return d


def result_files(out: Path) -> dict[str, bytes]:
    """Every per-video output except the manifest (it holds seconds and paths)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.parent.name.endswith(".emoannot") and p.name != "manifest.json"
            and p.suffix != ".png"}


def plain_batch_as_a_worker_computes(weights: str, clips: Path, out: Path) -> None:
    """The plain batch (emoannot.batch.run_batch) in a fresh process with a Ray worker's compute: one torch
    thread and OMP_NUM_THREADS=1, which Ray sets for a 1-CPU actor. CTranslate2's int8 whisper gives slightly
    other encoder states and word ends with another OpenMP thread count (measured: the example clip's last
    word ends at 1.44 s against 1.48 s), so only the same compute can be compared byte for byte. The settings
    are the tiny_engine fixture's (checked by the caller)."""
    code = ("import sys, torch; torch.set_num_threads(1)\n"
            "from pathlib import Path\n"
            "from emoannot.api import load\n"
            "from emoannot.batch import find_videos, run_batch\n"
            "from emoannot.config import SpeechConfig\n"
            "with load(device='cpu', weights=sys.argv[1], speech=SpeechConfig(check_language=False)) as engine:\n"
            "    run_batch(engine, Path(sys.argv[2]), Path(sys.argv[3]), find_videos(Path(sys.argv[2])))\n")
    subprocess.run([sys.executable, "-c", code, weights, str(clips), str(out)], check=True, capture_output=True,
                   env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.mark.slow
def test_ray_batch_gives_the_plain_batchs_outputs_logs_failures_and_resumes(ray_runtime, tiny_engine, clips,
                                                                           tmp_path):
    from emoannot.batch import find_videos
    from emoannot.config import Settings, SpeechConfig
    from emoannot.distributed import run_batch_ray
    from emoannot.progress import BatchStarted, VideoEvent

    videos = find_videos(clips)
    settings = tiny_engine.settings
    plain, on_ray = tmp_path / "plain", tmp_path / "ray"
    assert settings == Settings(device="cpu", weights=settings.weights, speech=SpeechConfig(check_language=False))
    plain_batch_as_a_worker_computes(settings.weights, clips, plain)
    events = []
    report = run_batch_ray(settings, clips, on_ray, videos, workers=2, on_event=events.append)
    assert sorted(Path(p).name for p in report.done) == ["face.mp4", "nobody.mp4", "talk.flv"]
    assert [Path(f.path).name for f in report.failed] == ["broken.mp4"]
    got, want = result_files(on_ray), result_files(plain)
    assert set(got) == set(want) and len(got) == 3
    for name in want:
        assert got[name] == want[name], name  # identical CSVs with the same weights
    drop = ("seconds", "output")
    assert [{k: v for k, v in r.items() if k not in drop} for r in rows(on_ray / "summary.csv")] == \
           [{k: v for k, v in r.items() if k not in drop} for r in rows(plain / "summary.csv")]
    assert rows(on_ray / "failures.csv")[0]["stage"] == "probe"
    assert isinstance(events[0], BatchStarted) and events[0].videos == 4
    done = [e for e in events if isinstance(e, VideoEvent) and e.status == "done"]
    assert sum(e.frames for e in done) == sum(int(r["frames"]) for r in rows(plain / "summary.csv") if r["frames"])
    # resume: exactly the complete results are skipped; a removed one is redone
    shutil.rmtree(on_ray / "face.mp4.emoannot")
    again = run_batch_ray(settings, clips, on_ray, videos, workers=2, resume=True)
    assert [Path(p).name for p in again.done] == ["face.mp4"]
    assert sorted(Path(p).name for p in again.skipped) == ["nobody.mp4", "talk.flv"]
    assert result_files(on_ray)["face.mp4.emoannot/face.csv"] == want["face.mp4.emoannot/face.csv"]


class Killer(threading.Thread):
    """SIGKILLs the Ray worker process that is annotating (its title is ray::EmoannotWorker.annotate), `times`
    times: a worker dying as it would when the kernel's OOM killer takes it."""

    def __init__(self, times: int) -> None:
        super().__init__(daemon=True)
        self.times, self.killed, self.stop = times, [], threading.Event()

    @staticmethod
    def annotating() -> list[int]:
        pids = []
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::EmoannotWorker.annotate"):
                    pids.append(int(pid))
            except OSError:
                continue
        return pids

    def run(self) -> None:
        while len(self.killed) < self.times and not self.stop.is_set():
            for pid in self.annotating():
                if pid not in self.killed:
                    time.sleep(0.5)  # well inside the video
                    os.kill(pid, signal.SIGKILL)
                    self.killed.append(pid)
                    break
            time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("kills", [1, 2])
def test_a_killed_worker_is_replaced_and_its_video_retried_once(ray_runtime, tiny_engine, clips, tmp_path, kills):
    from emoannot.distributed import run_batch_ray

    out = tmp_path / "out"
    first, second = clips / "face.mp4", clips / "talk.flv"  # longest first: face.mp4 (2.4 s) is killed
    killer = Killer(kills)
    killer.start()
    try:
        report = run_batch_ray(tiny_engine.settings, clips, out, [second, first], workers=1)
    finally:
        killer.stop.set()
    assert len(killer.killed) == kills
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if ".partial" in n]  # the killed worker's half-written folder is gone
    if kills == 1:  # the retry, on a new worker, completes it
        assert sorted(report.done) == sorted(map(str, (first, second))) and not report.failed
        assert rows(out / "failures.csv") == []
        assert (out / "face.mp4.emoannot" / "manifest.json").exists()
    else:  # killed on both tries: logged, and the other video is still done, on a third worker
        assert report.done == [str(second)]
        failure = rows(out / "failures.csv")[0]
        assert failure["path"] == str(first) and failure["stage"] == "worker"
        assert "died 2 times" in failure["message"]
        assert "face.mp4.emoannot" not in names
    assert [r["status"] for r in rows(out / "summary.csv")] == (["done", "done"] if kills == 1 else ["done", "failed"])


@pytest.mark.slow
def test_ctrl_c_stops_a_ray_batch_cleanly(tiny_weights, clips, tmp_path):
    """SIGINT to `emoannot batch --ray local` while a worker annotates: exit 130, no partial folder, summary
    written; --resume then finishes the job."""
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("emoannot")
    args = [str(exe), "batch", str(clips), "--out", str(out), "--weights", str(tiny_weights), "--device", "cpu",
            "--ray", "local", "--workers", "1", "--no-plot", "-q"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killer = Killer(0)
    end = time.monotonic() + 120
    while time.monotonic() < end and proc.poll() is None and not killer.annotating():
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130, output
    assert "--resume" in output
    first = rows(out / "summary.csv")
    assert len(first) < 4 and not [p for p in out.rglob("*") if ".partial" in p.name]
    result = subprocess.run(args + ["--resume"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr  # broken.mp4 fails
    status = {Path(r["path"]).name: r["status"] for r in rows(out / "summary.csv")}
    assert status.pop("broken.mp4") == "failed" and set(status.values()) <= {"done", "skipped"}
    assert len(status) == 3 and all((out / f"{n}.emoannot" / "manifest.json").exists() for n in status)
    assert list(status.values()).count("skipped") == sum(r["status"] == "done" for r in first)


def test_ray_options_need_ray_and_each_other(tiny_weights, clips, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from emoannot.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["batch", str(clips), "--out", str(tmp_path / "o"), "--workers", "2"])
    assert r.exit_code == 2 and "--ray" in r.output
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    r = runner.invoke(app, ["batch", str(clips), "--out", str(tmp_path / "o"), "--ray", "local"])
    assert r.exit_code == 2 and 'pip install "emoannot[ray]"' in r.output
    assert not (tmp_path / "o").exists()


@pytest.mark.slow  # starts a Ray runtime (about 4 s): with the other Ray tests, out of the fast tier
def test_more_workers_than_the_cluster_can_place_are_refused(ray_runtime, tiny_engine, clips, tmp_path):
    """Issue 28.16: on a 2-CPU cluster, --workers 3 made an actor that never started and stranded a video on
    it for good; now it is refused before any video is handed out, saying what the cluster can place."""
    from emoannot.batch import find_videos
    from emoannot.distributed import run_batch_ray
    from emoannot.errors import InputError

    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"--workers 3: the Ray cluster can place 2 worker\(s\) \(2 CPUs"):
        run_batch_ray(tiny_engine.settings, clips, out, find_videos(clips), workers=3)
    assert not list(out.glob("*.emoannot")) and not (out / "summary.csv").exists()
