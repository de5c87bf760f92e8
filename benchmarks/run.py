"""Speed benchmark: emoannot predict against the floor (ffmpeg decode, PyAV decode, mediapipe alone).

    python benchmarks/run.py [--device cpu|cuda] [--long-minutes 30] [--json benchmarks/results.json]

Inputs: a generated, deterministic 60 s 640x360 30 fps talking-face video with speech (the CREMA-D
example clip looped and scaled), and ../shared/media/WolfgangLanger_Pexels.mp4. Each emoannot run
happens in a fresh subprocess so that its peak RSS is its own. Prints a table and writes JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "1001_DFA_HAP_XX.flv"
PEXELS = Path(os.environ.get("EMOANNOT_SHARED", ROOT.parent / "shared")) / "media" / "WolfgangLanger_Pexels.mp4"


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def make_talking_video(out: Path, seconds: int) -> Path:
    """The example clip (a speaking face) at 640x360, 30 fps, AAC, looped to `seconds`. Deterministic."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    base = out.parent / "talking_base.mp4"
    if not base.exists():
        subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", "-i", str(EXAMPLE), "-vf", "scale=640:360,fps=30",
                        "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-threads", "2", "-c:a", "aac",
                        "-ar", "44100", "-fflags", "+bitexact", str(base)], check=True)
    tmp = out.with_name(out.stem + ".tmp.mp4")
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(base), "-t", str(seconds),
                    "-c", "copy", "-fflags", "+bitexact", str(tmp)], check=True)
    tmp.replace(out)
    return out


def floor(path: Path) -> dict:
    t0 = time.perf_counter()
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v", "-f", "null", "-"], check=True)
    ffmpeg_s = time.perf_counter() - t0
    from emoannot.config import FaceConfig
    from emoannot.faces import FaceDetector
    from emoannot.video import iter_frames, probe

    info = probe(path)
    t0 = time.perf_counter()
    n = sum(1 for _ in iter_frames(info))  # streamed, never all in memory
    pyav_s = time.perf_counter() - t0
    det = FaceDetector(FaceConfig())
    mp_s = 0.0
    for f in iter_frames(info):
        t0 = time.perf_counter()
        det.detect(f.rgb)
        mp_s += time.perf_counter() - t0
    det.close()
    return {"frames": n, "ffmpeg_decode_s": ffmpeg_s, "pyav_decode_rgb_s": pyav_s, "mediapipe_detect_s": mp_s}


def peak_rss_mb() -> float:
    """VmHWM of this process: unlike ru_maxrss it is not inherited from the parent across fork/exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(path: Path, device: str, video: bool) -> dict:
    """emoannot predict in this process (called in a subprocess by main)."""
    import tempfile

    from emoannot.api import predict
    from emoannot.config import Settings
    from emoannot.pipeline import Engine

    t0 = time.perf_counter()
    engine = Engine(Settings(device=device, write_video=video))
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        a, paths = predict(engine, path, Path(tmp))
        total = time.perf_counter() - t0
        seconds = json.loads(paths.manifest.read_text())["seconds"]
    rss_mb = peak_rss_mb()
    return {"frames": a.n_frames, "duration_s": a.info.duration_s, "model_load_s": load_s, "end_to_end_s": total,
            "fps": a.n_frames / total, "realtime_factor": a.info.duration_s / total, "peak_rss_mb": rss_mb,
            "stages_s": seconds}


def measure(path: Path, device: str, video: bool) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", str(path), "--device", device]
                          + (["--video"] if video else []), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    ap.add_argument("--long-minutes", type=float, default=0, help="also measure peak RSS on a generated video this long")
    ap.add_argument("--child", type=Path)
    ap.add_argument("--video", action="store_true")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.device, args.video)))
        return
    work = ROOT / ".cache" / "bench"
    inputs = {"talking_60s_360p": make_talking_video(work / "talking_60s.mp4", 60)}
    if PEXELS.exists():
        inputs["pexels"] = PEXELS
    results = {"date": str(date.today()), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
               f"{platform.processor() or platform.platform()}", "device": args.device, "inputs": {}}
    for name, path in inputs.items():
        r = {"floor": floor(path), "predict": measure(path, args.device, False),
             "predict_with_video": measure(path, args.device, True)}
        results["inputs"][name] = r
    if args.long_minutes:
        for minutes in (0.5, args.long_minutes):
            p = make_talking_video(work / f"talking_{minutes:g}min.mp4", int(minutes * 60))
            r = measure(p, args.device, False)
            results.setdefault("memory", {})[f"{minutes:g} min"] = {"peak_rss_mb": r["peak_rss_mb"], "frames": r["frames"],
                                                                     "end_to_end_s": r["end_to_end_s"]}
    args.json.write_text(json.dumps(results, indent=2))
    print_table(results)


def print_table(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"emoannot benchmark, {results['date']}, {results['machine']}, device {results['device']}")
    for col in ("input", "frames", "ffmpeg decode", "PyAV decode", "mediapipe", "predict", "fps", "x real time",
                "+ video", "peak RSS MB"):
        t.add_column(col)
    for name, r in results["inputs"].items():
        f, p, v = r["floor"], r["predict"], r["predict_with_video"]
        t.add_row(name, str(p["frames"]), f"{f['ffmpeg_decode_s']:.1f} s", f"{f['pyav_decode_rgb_s']:.1f} s",
                  f"{f['mediapipe_detect_s']:.1f} s", f"{p['end_to_end_s']:.1f} s", f"{p['fps']:.0f}",
                  f"{p['realtime_factor']:.1f}", f"{v['end_to_end_s']:.1f} s", f"{p['peak_rss_mb']:.0f}")
    console = Console()
    console.print(t)
    for name, r in results["inputs"].items():
        stages = ", ".join(f"{k} {v:.2f}" for k, v in r["predict_with_video"]["stages_s"].items())
        console.print(f"{name} seconds per stage: {stages}")
    for k, m in results.get("memory", {}).items():
        console.print(f"peak RSS on a {k} video: {m['peak_rss_mb']:.0f} MB ({m['frames']} frames, {m['end_to_end_s']:.0f} s)")


if __name__ == "__main__":
    main()
