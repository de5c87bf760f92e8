"""Cooperative annotation, measured (README "Reviewing and correcting"): does fine-tuning on a few corrected
videos move the output towards the annotator, and how long does it take?

The annotator is simulated, with a scale of their own: valence 1.5 times the machine's plus 0.3 (stretched
and shifted), arousal judged from the voice alone (the voice's own arousal; not annotated without speech).
The same rule as tests/outputs/test_review.py's demonstration.

1. Demonstration: the six CREMA-D audio-visual clips of ../shared/data/av (face and voice, actor 1001):
   three annotated clips train (`emoannot train --format review --init default`), three are held out
   (under valid/). The held-out clips are predicted with the default and the new weights; per-frame CCC
   against the annotator, pooled over the three clips.
2. Timing: ten 1-minute videos (the six clips and four of them mirrored, each looped to 60 s), annotated
   the same way; `train --format review --init default` on them (every 5th held out), timed: feature
   extraction and fine-tuning in one fresh process.

    .venv/bin/python benchmarks/fine_tune.py --shared ../shared     # writes benchmarks/fine_tune.json
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pandas as pd


def rater(a) -> tuple[np.ndarray, np.ndarray]:
    return np.clip(1.5 * a.valence + 0.3, -1, 1), np.clip(a.per_modality["arousal_audio"], -1, 1)


def write_human(path: Path, a) -> tuple[np.ndarray, np.ndarray]:
    valence, arousal = rater(a)
    pd.DataFrame({"frame": np.arange(a.n_frames), "time_s": a.times, "valence": valence.round(4),
                  "arousal": arousal.round(4), "annotator": "voice"}).to_csv(path, index=False, na_rep="")
    return valence, arousal


def train(data: Path, out: Path, run: Path) -> tuple[float, dict]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "emoannot.cli", "train", str(data), "--format", "review", "--init",
                           "default", "--out", str(out), "--run-dir", str(run), "--device", "cpu"],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-2000:] + proc.stderr[-3000:])
    return seconds, json.loads((out / "rjcma.json").read_text())


def pooled_ccc(truth: list[np.ndarray], pred: list[np.ndarray]) -> float:
    from emoannot.metrics import ccc

    x, y = np.concatenate(truth), np.concatenate(pred)
    ok = np.isfinite(x) & np.isfinite(y)
    return round(float(ccc(x[ok], y[ok])), 3)


def demonstration(crema: Path, tmp: Path) -> dict:
    import emoannot

    clips = sorted(crema.glob("*.flv"))
    data = tmp / "demo"
    held, truth, before = [], {"valence": [], "arousal": []}, {"valence": [], "arousal": []}
    with emoannot.load(device="cpu") as engine:
        for i, clip in enumerate(clips):
            dest = data / ("valid" if i % 2 else "") / clip.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(clip, dest)
            a = emoannot.annotate(dest, engine)
            v, ar = write_human(dest.parent / f"{dest.stem}.human.csv", a)
            if i % 2:
                held.append(dest)
                truth["valence"].append(v), truth["arousal"].append(ar)
                before["valence"].append(a.valence), before["arousal"].append(a.arousal)
    seconds, card = train(data, tmp / "demo-weights", tmp / "demo-run")
    after = {"valence": [], "arousal": []}
    with emoannot.load(device="cpu", weights=str(tmp / "demo-weights")) as mine:
        for video in held:
            a = emoannot.annotate(video, mine)
            after["valence"].append(a.valence), after["arousal"].append(a.arousal)
    return {"clips": [c.name for c in clips], "trained_on": [c.name for i, c in enumerate(clips) if i % 2 == 0],
            "held_out": [v.name for v in held], "train_s": round(seconds, 1), "epochs_run": epochs_run(card),
            "held_out_ccc_default": {d: pooled_ccc(truth[d], before[d]) for d in truth},
            "held_out_ccc_fine_tuned": {d: pooled_ccc(truth[d], after[d]) for d in truth},
            "held_out_mean_default": {d: round(float(np.nanmean(np.concatenate(before[d]))), 3) for d in truth},
            "held_out_mean_fine_tuned": {d: round(float(np.nanmean(np.concatenate(after[d]))), 3) for d in truth},
            "held_out_mean_annotator": {d: round(float(np.nanmean(np.concatenate(truth[d]))), 3) for d in truth},
            "card_before_after_windows": card["before_after"]}


def epochs_run(card: dict) -> list[int]:
    """Epochs each member of the fine-tuned fusion ran (one number for a single fusion)."""
    members = sorted({h.get("member", 0) for h in card["history"]})
    return [sum(h.get("member", 0) == m for h in card["history"]) for m in members]


def timing(crema: Path, tmp: Path) -> dict:
    import emoannot

    data = tmp / "ten"
    data.mkdir()
    clips = sorted(crema.glob("*.flv"))
    jobs = [(c, False) for c in clips] + [(c, True) for c in clips[:4]]
    ff = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y"]
    for clip, mirrored in jobs:  # an mp4 of the clip first (flv cannot be looped), then looped by stream copy
        name = f"{clip.stem}{'_m' if mirrored else ''}"
        once = tmp / f"{name}.once.mp4"
        subprocess.run([*ff, "-i", str(clip), *(["-vf", "hflip"] if mirrored else []), "-c:v", "libx264", "-preset",
                        "ultrafast", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", str(once)], check=True)
        subprocess.run([*ff, "-stream_loop", "-1", "-i", str(once), "-t", "60", "-c", "copy", str(data / f"{name}.mp4")],
                       check=True)
    t0 = time.perf_counter()
    with emoannot.load(device="cpu") as engine:
        for video in sorted(data.glob("*.mp4")):
            write_human(data / f"{video.stem}.human.csv", emoannot.annotate(video, engine))
    labels_s = time.perf_counter() - t0
    seconds, card = train(data, tmp / "ten-weights", tmp / "ten-run")
    return {"videos": len(jobs), "minutes_each": 1, "making_the_labels_s": round(labels_s, 1),
            "train_review_init_default_s": round(seconds, 1), "epochs_run": epochs_run(card),
            "data": card["data"], "card_before_after_windows": card["before_after"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("fine_tune.json"))
    ap.add_argument("--no-timing", action="store_true", help="only the demonstration")
    args = ap.parse_args()
    crema = args.shared / "data" / "av" / "crema-d"
    with tempfile.TemporaryDirectory() as tmp:
        doc = {"date": str(date.today()), "machine": f"{platform.machine()}, 2 cores",
               "annotator": "valence = clip(1.5 x machine valence + 0.3); arousal = the voice's own arousal",
               "demonstration": demonstration(crema, Path(tmp))}
        print(json.dumps(doc, indent=2), flush=True)
        if not args.no_timing:
            doc["ten_one_minute_videos"] = timing(crema, Path(tmp))
    print(json.dumps(doc, indent=2))
    args.out.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
