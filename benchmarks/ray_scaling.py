"""Local scaling of `emoannot batch --ray` (README "Beyond one machine"): the same folder annotated by the plain
batch, by Ray with 1 worker and by Ray with 2 workers, each in a fresh process (Ray's start-up and every
worker's model loading included), shipped weights, CPU.

    .venv/bin/python benchmarks/ray_scaling.py --shared ../shared    # writes benchmarks/ray_scaling.json

Input: the 5 real talking heads of ../shared/data/real/talking (speech) and the 8 MEAD clips of one
person (../shared/data/real/mead/M030_*, no audio), linked into one folder.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--gpus-per-worker", type=float, default=0.0)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("ray_scaling.json"))
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("emoannot"))
    real = args.shared / "data" / "real"
    inputs = sorted((real / "talking").glob("*.mp4")) + sorted((real / "mead").glob("M030_*.mp4"))
    runs = {"plain batch": [], "ray, 1 worker": ["--ray", "local", "--workers", "1"],
            "ray, 2 workers": ["--ray", "local", "--workers", "2"]}
    if args.gpus_per_worker:
        runs = {k: v + (["--gpus-per-worker", str(args.gpus_per_worker)] if v else []) for k, v in runs.items()}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        clips = Path(tmp) / "clips"
        clips.mkdir()
        for p in inputs:
            os.symlink(p, clips / p.name)
        for name, extra in runs.items():
            out = Path(tmp) / "out"
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            r = subprocess.run([exe, "batch", str(clips), "--out", str(out), "--device", args.device, "--no-plot", "-q",
                                *extra], capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if r.returncode != 0:
                raise SystemExit(f"{name}: exit {r.returncode}\n{r.stderr[-2000:]}")
            results[name] = {"wall_s": round(wall, 1)}
            print(name, results[name], flush=True)
    base = results["plain batch"]["wall_s"]
    for v in results.values():
        v["speedup_vs_plain"] = round(base / v["wall_s"], 2)
    doc = {"machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores", "device": args.device,
           "videos": len(inputs), "inputs": [p.name for p in inputs], "results": results}
    args.out.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
