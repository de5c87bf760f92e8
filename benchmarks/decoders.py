"""Why emoannot decodes with PyAV and not moviepy (README "Dependencies"): frame count, timestamps and speed
of both on the same files. moviepy is not a dependency of emoannot; run this in a scratch environment:

    python3 -m venv /tmp/mpv && /tmp/mpv/bin/pip install moviepy av "numpy<2"
    /tmp/mpv/bin/python benchmarks/decoders.py --shared ../shared    # writes benchmarks/decoders.json

Inputs: a variable-frame-rate file made with ffmpeg (2 s at 10 fps, then 2 s at 30 fps: 80 frames whose
true times are known), ../shared/media/WolfgangLanger_Pexels.mp4 (19.7 s, 1080p) and
../shared/data/real/talking's first clip.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np


def pyav_frames(path: Path) -> tuple[np.ndarray, float]:
    import av

    t0 = time.perf_counter()
    times = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for f in c.decode(s):
            f.to_ndarray(format="rgb24")
            times.append(float(f.pts * s.time_base))
    return np.array(times), time.perf_counter() - t0


def moviepy_frames(path: Path) -> tuple[np.ndarray, float]:
    from moviepy import VideoFileClip

    t0 = time.perf_counter()
    with VideoFileClip(str(path), audio=False) as clip:
        times = [t for t, _ in clip.iter_frames(with_times=True)]
    return np.array(times), time.perf_counter() - t0


def make_vfr(folder: Path) -> Path:
    import imageio_ffmpeg

    ff = imageio_ffmpeg.get_ffmpeg_exe()
    a, b, out, lst = folder / "a.mkv", folder / "b.mkv", folder / "vfr.mkv", folder / "list.txt"
    for rate, p in ((10, a), (30, b)):
        subprocess.run([ff, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate={rate}:duration=2",
                        "-c:v", "libx264", str(p)], check=True)
    lst.write_text(f"file '{a}'\nfile '{b}'\n")
    subprocess.run([ff, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(lst), "-c", "copy", str(out)],
                   check=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("decoders.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vfr = make_vfr(Path(tmp))
        truth = np.concatenate([np.arange(20) * 0.1, 2 + np.arange(60) / 30])
        rows = {}
        inputs = {"variable frame rate (80 frames)": vfr,
                  "WolfgangLanger_Pexels.mp4": args.shared / "media" / "WolfgangLanger_Pexels.mp4",
                  "real talking head": sorted((args.shared / "data" / "real" / "talking").glob("*.mp4"))[0]}
        for name, path in inputs.items():
            row = {}
            for lib, fn in (("pyav", pyav_frames), ("moviepy", moviepy_frames)):
                fn(path)  # warm the file cache
                times, seconds = fn(path)
                row[lib] = {"frames": int(len(times)), "seconds": round(seconds, 2)}
                if path == vfr:
                    n = min(len(times), len(truth))
                    row[lib]["max_time_error_s"] = round(float(np.abs(times[:n] - truth[:n]).max()), 3)
            rows[name] = row
            print(name, json.dumps(row))
    result = {"machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores",
              "versions": {p: metadata.version(p) for p in ("av", "moviepy")}, "results": rows}
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
