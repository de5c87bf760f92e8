"""What a second person costs (README "Several people"): the same two-person video annotated with
--people main (one face tracked, fused with all the speech) and --people all (both tracked, fused each),
models loaded once, each timed RUNS times (interleaved, after a warm-up run; the best counts); and the
speaker attribution on real clips.

    .venv/bin/python benchmarks/people.py --shared ../shared    # writes benchmarks/people.json
    .venv/bin/python benchmarks/people.py --shared ../shared --every-frame   # people_every_frame.json

Input for the timing: a real talking head beside a MEAD clip (../shared/data/real), 360x360 each, looped to
30 s. Speaker attribution: each of the 5 talking heads alone, and each beside PER_HEAD MEAD clips (20 of the
24, each used once; the talking head on the left, then on the right), the share of speech frames whose
speaking flag is on the talking head (and, beside, on the MEAD actor); an unseen speaker: a MEAD clip
alone under each talking head's voice (the head not in the picture), the share of speech frames given to
the visible actor; and turn-taking: two talking heads side by side (both looped, both moving their lips),
the left one heard for a turn, then the right one: two turns of 3 s (5 pairs) and three turns of 8 s (10
pairs): the share of speech frames whose flag is on the person heard.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np

import emoannot
from emoannot.config import FaceConfig, PeopleMode, SpeechConfig

MEAD = ("W009_front_happy_level3_001.mp4", "M030_front_angry_level3_001.mp4", "W011_front_sad_level3_001.mp4",
        "W009_front_neutral_level1_001.mp4", "M030_front_happy_level3_001.mp4")
RUNS = 5  #: timed runs of each mode (the best counts)
PER_HEAD = 4  #: MEAD neighbours per talking head (all 24 clips in turn), left and right alternately


def side_by_side(talking: Path, mead: Path, out: Path, seconds: float | None = None, talking_right: bool = False) -> Path:
    total = str(seconds or _duration(talking))
    loop = ["-stream_loop", "-1", "-t", total] if seconds else []
    order = "[b][a]" if talking_right else "[a][b]"
    # looped inputs are bounded where they are read (-t before -i): see turns()
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *loop, "-i", str(talking), "-stream_loop", "-1",
                    "-t", total, "-i", str(mead), "-filter_complex",
                    f"[0:v]scale=360:360,setsar=1,fps=25[a];[1:v]scale=360:360,setsar=1,fps=25[b];{order}hstack=inputs=2[v]",
                    "-map", "[v]", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-t", total, str(out)], check=True)
    return out


def turns(left: Path, right: Path, out: Path, turn_s: float, n: int) -> Path:
    """Two talking heads side by side (each looped, so both keep moving their lips), n turns of turn_s: the
    sound is the left one's own for the first turn, the right one's for the second, and so on."""
    g = ("[0:v]scale=360:360,setsar=1,fps=25[a];[1:v]scale=360:360,setsar=1,fps=25[b];[a][b]hstack=inputs=2:shortest=1[v];"
         f"[0:a]asplit={(n + 1) // 2}" + "".join(f"[s{j}]" for j in range(0, n, 2)) + ";")
    if n > 1:
        g += f"[1:a]asplit={n // 2}" + "".join(f"[s{j}]" for j in range(1, n, 2)) + ";"
    for j in range(n):
        g += f"[s{j}]atrim={j * turn_s}:{(j + 1) * turn_s},asetpts=PTS-STARTPTS,aresample=16000[p{j}];"
    g += "".join(f"[p{j}]" for j in range(n)) + f"concat=n={n}:v=0:a=1[au]"
    # each looped input is bounded where it is read (-t before -i): with only the output's -t, the demuxer of an
    # endlessly looped input could read ahead without limit (one CI run of the same graph: 23.7 GB, OOM-killed)
    total = str(turn_s * n)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-t", total, "-i", str(left),
                    "-stream_loop", "-1", "-t", total, "-i", str(right), "-filter_complex", g, "-map", "[v]", "-map", "[au]",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-t", total, str(out)], check=True)
    return out


def _duration(p: Path) -> float:
    import av

    with av.open(str(p)) as c:
        return float(c.duration / 1e6)


def timing(shared: Path, every_frame: bool = False, runs: int = RUNS) -> dict:
    """The two-person clip (a talking head beside a MEAD actor, 30 s) annotated with --people main and --people
    all, models loaded once, `runs` times each, interleaved after a warm-up: seconds, and all / main (best)."""
    real = shared / "data" / "real"
    talking = sorted((real / "talking").glob("face*.mp4"))
    speech = SpeechConfig(check_language=False)
    engines = {m: emoannot.load(device="cpu", faces=FaceConfig(people=m, every_frame=every_frame), speech=speech)
               for m in PeopleMode}
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        clip = side_by_side(talking[0], real / "mead" / MEAD[0], Path(tmp) / "two.mp4", 30.0)
        seconds = {mode: [] for mode in engines}
        for engine in engines.values():
            emoannot.annotate(clip, engine)  # warm-up: lazy models load here
        for _ in range(runs):  # interleaved, so a change in the machine's load falls on both
            for mode, engine in engines.items():
                t0 = time.perf_counter()
                a = emoannot.annotate(clip, engine)
                seconds[mode].append(time.perf_counter() - t0)
                out[mode.value] = {"seconds": [round(r, 2) for r in seconds[mode]], "frames": a.n_frames,
                                   "people": len(a.people)}
    for engine in engines.values():
        engine.close()
    out["all_over_main"] = round(min(seconds[PeopleMode.all]) / min(seconds[PeopleMode.main]), 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--out", type=Path, help="default: people.json (people_every_frame.json with --every-frame)")
    ap.add_argument("--timing-only", action="store_true", help="measure the cost only; print, write nothing")
    ap.add_argument("--every-frame", action="store_true", help="faces analysed on every frame (--every-frame)")
    args = ap.parse_args()
    out = args.out or Path(__file__).with_name("people_every_frame.json" if args.every_frame else "people.json")
    real = args.shared / "data" / "real"
    talking = sorted((real / "talking").glob("face*.mp4"))
    speech = SpeechConfig(check_language=False)
    doc = {"machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
           "faces_analysed": "every frame" if args.every_frame else "first frame of each 0.1 s tick",
           "timing": timing(args.shared, args.every_frame), "speaker": {}}
    print(doc["timing"], flush=True)
    if args.timing_only:
        return
    engines = {PeopleMode.all: emoannot.load(device="cpu", faces=FaceConfig(people=PeopleMode.all,
                                                                             every_frame=args.every_frame),
                                             speech=speech)}
    with tempfile.TemporaryDirectory() as tmp:
        mead = sorted((real / "mead").glob("*.mp4"))
        for i, t in enumerate(talking):
            clips = [("alone", t, False)]
            for j in range(PER_HEAD):
                m, right = mead[(i * PER_HEAD + j) % len(mead)], bool(j % 2)
                clips.append((f"beside {m.stem} (talking head {'right' if right else 'left'})",
                              side_by_side(t, m, Path(tmp) / f"s{i}{j}.mp4", talking_right=right), right))
            for label, clip, right in clips:
                a = emoannot.annotate(clip, engines[PeopleMode.all])
                ranked = sorted(a.people, key=lambda p: np.nanmean(p.track.box[:, 0]), reverse=right)
                shares = [float((p.speaking & a.speech).sum() / max(a.speech.sum(), 1)) for p in ranked]
                doc["speaker"][f"{t.name} {label}"] = {"people": len(a.people), "speech_frames": int(a.speech.sum()),
                                                       "on_the_talking_head": round(shares[0], 2) if shares else 0.0,
                                                       "on_the_mead_actor": round(shares[1], 2) if len(shares) > 1 else None}
                print(t.name, label, doc["speaker"][f"{t.name} {label}"], flush=True)
        # an unseen speaker: a MEAD actor mouthing words, under a talking head's voice (the head not in the picture)
        doc["unseen speaker"] = {}
        for i, t in enumerate(talking):
            m = mead[(i * PER_HEAD + PER_HEAD) % len(mead)]  # another head's neighbour above
            clip = Path(tmp) / f"u{i}.mp4"
            subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(m),
                            "-i", str(t), "-filter_complex", "[0:v]scale=360:360,setsar=1,fps=25[v]", "-map", "[v]",
                            "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a",
                            "aac", "-t", str(_duration(t)), str(clip)], check=True)
            a = emoannot.annotate(clip, engines[PeopleMode.all])
            flagged = max((float((p.speaking & a.speech).sum() / max(a.speech.sum(), 1)) for p in a.people), default=0.0)
            doc["unseen speaker"][f"{m.stem} under {t.name}'s voice"] = {"people": len(a.people),
                                                                        "speech_frames": int(a.speech.sum()),
                                                                        "given_to_a_visible_person": round(flagged, 2)}
            print("unseen", m.stem, t.name, doc["unseen speaker"][f"{m.stem} under {t.name}'s voice"], flush=True)
        # turn-taking: two talking heads side by side, the sound of the left one, then of the right one, ...
        for turn_s, n, pairs in ((3.0, 2, 1), (8.0, 3, 2)):
            key = f"turns of {turn_s:g} s"
            doc[key] = {}
            for i in range(len(talking)):
                for step in range(1, pairs + 1):
                    left, right = talking[i], talking[(i + step) % len(talking)]
                    clip = turns(left, right, Path(tmp) / f"t{turn_s:g}_{i}{step}.mp4", turn_s, n)
                    a = emoannot.annotate(clip, engines[PeopleMode.all])
                    ranked = sorted(a.people, key=lambda p: np.nanmean(p.track.box[:, 0]))
                    heard_right = (np.floor(a.times / turn_s) % 2).astype(bool)
                    correct = sum(int((p.speaking & a.speech & (heard_right if j else ~heard_right)).sum())
                                  for j, p in enumerate(ranked[:2]))
                    doc[key][f"{left.name} then {right.name}"] = {
                        "people": len(a.people), "speech_frames": int(a.speech.sum()),
                        "on_the_person_heard": round(correct / max(a.speech.sum(), 1), 2)}
                    print(key, left.name, right.name, doc[key][f"{left.name} then {right.name}"], flush=True)
    for kind in ("alone", "beside"):
        shares = [v["on_the_talking_head"] for k, v in doc["speaker"].items() if kind in k]
        doc[f"speaker_{kind}_clips_at_or_above_0.8"] = f"{sum(s >= 0.8 for s in shares)} of {len(shares)}"
    shares = [v["given_to_a_visible_person"] for v in doc["unseen speaker"].values()]
    doc["unseen speaker: clips at or below 0.2"] = f"{sum(s <= 0.2 for s in shares)} of {len(shares)}"
    for key in ("turns of 3 s", "turns of 8 s"):
        shares = [v["on_the_person_heard"] for v in doc[key].values()]
        doc[f"{key}: clips at or above 0.8"] = f"{sum(s >= 0.8 for s in shares)} of {len(shares)}"
        doc[f"{key}: mean"] = round(float(np.mean(shares)), 2)
    out.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
