"""Faces analysed at the model's tick rate (the default) against --every-frame, on the dev media: the five
real talking heads (../shared/data/real/talking) and the 24 MEAD clips (../shared/data/real/mead). For each
clip: the mean absolute difference of the fused valence and arousal over the frames both give a value, the
share of frames whose `face` agrees, and the face box error (the largest of |dx|, |dy|, |dw|, |dh| over the
face's size, the longer side of the --every-frame box) on the frames both have a face; and the time of each
mode (models loaded once, interleaved).

    .venv/bin/python benchmarks/tick_rate.py --shared ../shared     # writes benchmarks/tick_rate.json
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np

import emoannot
from emoannot.config import FaceConfig


def compare(a, b) -> dict:
    both = np.isfinite(a.valence) & np.isfinite(b.valence)
    faces = a.faces.present & b.faces.present
    size = np.maximum(b.faces.box[faces, 2], b.faces.box[faces, 3])
    err = np.abs(a.faces.box[faces] - b.faces.box[faces]).max(1) / size
    return {"frames": a.n_frames,
            "valence_mad": round(float(np.abs(a.valence - b.valence)[both].mean()), 4) if both.any() else None,
            "arousal_mad": round(float(np.abs(a.arousal - b.arousal)[both].mean()), 4) if both.any() else None,
            "face_agrees": round(float((a.faces.present == b.faces.present).mean()), 4),
            "box_error_mean": round(float(err.mean()), 4) if len(err) else None,
            "box_error_p95": round(float(np.percentile(err, 95)), 4) if len(err) else None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("tick_rate.json"))
    args = ap.parse_args()
    real = args.shared / "data" / "real"
    groups = {"talking": sorted((real / "talking").glob("*.mp4")), "mead": sorted((real / "mead").glob("*.mp4"))}
    engines = {mode: emoannot.load(device="cpu", faces=FaceConfig(every_frame=mode == "every_frame"))
               for mode in ("tick", "every_frame")}
    seconds = {mode: 0.0 for mode in engines}
    doc: dict = {"date": str(date.today()), "machine": f"{platform.machine()}", "clips": {}}
    for group, clips in groups.items():
        for clip in clips:
            out = {}
            for mode, engine in engines.items():  # interleaved: a change in the machine's load falls on both
                t0 = time.perf_counter()
                out[mode] = emoannot.annotate(clip, engine)
                seconds[mode] += time.perf_counter() - t0
            doc["clips"][f"{group}/{clip.name}"] = compare(out["tick"], out["every_frame"])
            print(clip.name, doc["clips"][f"{group}/{clip.name}"], flush=True)
    for group in groups:
        rows = [v for k, v in doc["clips"].items() if k.startswith(group + "/")]
        doc[f"{group}_mean"] = {key: round(float(np.mean([r[key] for r in rows if r[key] is not None])), 4)
                                for key in ("valence_mad", "arousal_mad", "face_agrees", "box_error_mean",
                                            "box_error_p95")}
    doc["seconds"] = {m: round(s, 1) for m, s in seconds.items()}
    doc["every_frame_over_tick"] = round(seconds["every_frame"] / seconds["tick"], 2)
    print({k: v for k, v in doc.items() if k != "clips"})
    args.out.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
