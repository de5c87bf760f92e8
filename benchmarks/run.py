"""Speed benchmark: emoannot predict (faces at the model's tick rate, the default, and --every-frame) against
the floor (ffmpeg decode, PyAV decode, mediapipe alone, the face path alone at both rates) and against the
words alone (faster-whisper and openai-whisper on the same audio, load included).

    python benchmarks/run.py [--device cpu|cuda] [--real-minutes 10 60] [--json benchmarks/results.json]

Inputs: real continuous speech first, the five talking heads of ../shared/data/real/talking joined at
640x360 (about 28 s), and the same looped by stream copy to each of --real-minutes (default 10 and 60;
`--real-minutes` with no value for the short inputs only); a generated, deterministic 60 s talking-face
video (the CREMA-D example clip looped: a stress case of one short sentence repeated);
../shared/media/WolfgangLanger_Pexels.mp4 (no speech). For every input, in one run: emoannot predict,
and for real speech faster-whisper alone; up to --full-minutes (10) also predict --every-frame, the floor
and openai-whisper alone; predict --video where the input is at most two minutes long; last, what a second
person costs (benchmarks/people.py's timing). Every measured predict and words-alone run happens in a fresh
subprocess, so that its time includes its own start and its peak RSS is its own. Prints a table and
writes JSON.
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
SHARED = Path(os.environ.get("EMOANNOT_SHARED", ROOT.parent / "shared"))
PEXELS = SHARED / "media" / "WolfgangLanger_Pexels.mp4"
TALKING = SHARED / "data" / "real" / "talking"


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
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-t", str(seconds), "-i", str(base),
                    "-t", str(seconds),
                    "-c", "copy", "-fflags", "+bitexact", str(tmp)], check=True)
    tmp.replace(out)
    return out


def make_real_talking(out: Path) -> Path:
    """The real talking heads joined at 640x360, 30 fps, 16 kHz AAC (deterministic)."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    clips = sorted(TALKING.glob("face*.mp4"))
    args = [a for c in clips for a in ("-i", str(c))]
    graph = "".join(f"[{i}:v]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:-1:-1,fps=30,setsar=1[v{i}];"
                    f"[{i}:a]aresample=16000,aformat=channel_layouts=mono[a{i}];" for i in range(len(clips)))
    graph += "".join(f"[v{i}][a{i}]" for i in range(len(clips))) + f"concat=n={len(clips)}:v=1:a=1[v][a]"
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", *args, "-filter_complex", graph, "-map", "[v]",
                    "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-threads", "2", "-c:a", "aac",
                    "-fflags", "+bitexact", str(out)], check=True)
    return out


def loop_to(base: Path, out: Path, seconds: int) -> Path:
    """`base` looped (stream copy) to `seconds`: long real continuous speech from the joined talking heads."""
    if not out.exists():
        tmp = out.with_name(out.stem + ".tmp.mp4")
        subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-t", str(seconds),
                        "-i", str(base), "-t", str(seconds), "-c", "copy", "-fflags", "+bitexact", str(tmp)], check=True)
        tmp.replace(out)
    return out


def asr_alone(path: Path, engine: str, device: str) -> dict:
    """The words alone, as a user of that engine would get them (in this process; main runs it fresh)."""
    t0 = time.perf_counter()
    from emoannot.config import AsrModel
    from emoannot.speech.weights import asr_model_dir
    from emoannot.video import load_audio

    audio = load_audio(path)
    if engine == "faster-whisper":
        from faster_whisper import WhisperModel

        model = WhisperModel(str(asr_model_dir(AsrModel.tiny_en)), device=device,
                             compute_type="float16" if device == "cuda" else "int8")
        segments, _ = model.transcribe(audio, language="en", vad_filter=True, word_timestamps=True)
        words = [w.word for s in segments for w in s.words]
    else:
        from emoannot.paths import cache_dir
        from emoannot.speech.convert import load_openai_whisper

        model = load_openai_whisper(asr_model_dir(AsrModel.tiny_en), cache_dir() / "openai-whisper", device)
        result = model.transcribe(audio, language="en", word_timestamps=True, fp16=device == "cuda")
        words = [w["word"] for s in result["segments"] for w in s.get("words", [])]
    return {"engine": engine, "wall_s": time.perf_counter() - t0, "words": len(words), "peak_rss_mb": peak_rss_mb()}


def faces_alone(path: Path, every_frame: bool) -> float:
    """The face path alone as predict runs it (decoding on its own thread, detection, tracking, crops and
    blendshapes) at the tick rate or on every frame: seconds, models loaded before the clock starts."""
    from emoannot.config import FaceConfig
    from emoannot.faces import FaceDetector, frame_selector, track_faces
    from emoannot.features.blendshapes import BlendshapeReader, landmarker_path
    from emoannot.model.weights import shipped_dir
    from emoannot.video import iter_frames, probe

    cfg = FaceConfig(every_frame=every_frame)
    info = probe(path)
    det, reader = FaceDetector(cfg), BlendshapeReader(landmarker_path(shipped_dir()))
    t0 = time.perf_counter()
    track_faces(iter_frames(info, cfg.max_side, pixels=frame_selector(cfg)), cfg, det, reader=reader)
    seconds = time.perf_counter() - t0
    det.close()
    reader.close()
    return seconds


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
    return {"frames": n, "ffmpeg_decode_s": ffmpeg_s, "pyav_decode_rgb_s": pyav_s, "mediapipe_detect_s": mp_s,
            "faces_alone_s": faces_alone(path, False), "faces_alone_every_frame_s": faces_alone(path, True)}


def peak_rss_mb() -> float:
    """VmHWM of this process: unlike ru_maxrss it is not inherited from the parent across fork/exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(path: Path, device: str, video: bool, every_frame: bool = False) -> dict:
    """emoannot predict in this process (called in a subprocess by main)."""
    import tempfile

    from emoannot.api import predict
    from emoannot.config import FaceConfig, Settings
    from emoannot.pipeline import Engine

    t0 = time.perf_counter()
    engine = Engine(Settings(device=device, write_video=video, faces=FaceConfig(every_frame=every_frame)))
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        a, paths = predict(path, engine, Path(tmp))
        total = time.perf_counter() - t0
        seconds = json.loads(paths.manifest.read_text())["seconds"]
    rss_mb = peak_rss_mb()
    return {"frames": a.n_frames, "duration_s": a.info.duration_s, "model_load_s": load_s, "end_to_end_s": total,
            "fps": a.n_frames / total, "realtime_factor": a.info.duration_s / total, "peak_rss_mb": rss_mb,
            "stages_s": seconds}


def measure(path: Path, device: str, video: bool, asr: str | None = None, every_frame: bool = False) -> dict:
    """predict (or the words alone with `asr`) in a fresh process; wall_s is that process's whole life."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", str(path), "--device", device]
                          + (["--video"] if video else []) + (["--asr", asr] if asr else [])
                          + (["--every-frame"] if every_frame else []), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "process_wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    ap.add_argument("--real-minutes", type=float, nargs="*", default=[10, 60],
                    help="also the real talking heads looped to these lengths (minutes)")
    ap.add_argument("--child", type=Path)
    ap.add_argument("--video", action="store_true")
    ap.add_argument("--asr", choices=("faster-whisper", "openai-whisper"))
    ap.add_argument("--every-frame", action="store_true")
    ap.add_argument("--full-minutes", type=float, default=10,
                    help="inputs longer than this get predict (default), faster-whisper alone and the floor only: "
                         "no --every-frame, --video or openai-whisper runs (each scales like the 10-minute one)")
    ap.add_argument("--no-people", action="store_true", help="skip the two-person timing (benchmarks/people.py)")
    args = ap.parse_args()
    if args.child:
        result = (asr_alone(args.child, args.asr, args.device) if args.asr
                  else run_child(args.child, args.device, args.video, args.every_frame))
        print(json.dumps(result))
        return
    work = ROOT / ".cache" / "bench"
    inputs, speech = {}, set()
    if TALKING.exists():
        base = make_real_talking(work / "real_talking.mp4")
        inputs["real_talking_28s"] = base
        for m in args.real_minutes:
            inputs[f"real_talking_{m:g}min"] = loop_to(base, work / f"real_talking_{m:g}min.mp4", int(m * 60))
        speech = set(inputs)
    inputs["talking_60s_loop"] = make_talking_video(work / "talking_60s.mp4", 60)
    if PEXELS.exists():
        inputs["pexels"] = PEXELS
    results = {"date": str(date.today()), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
               f"{platform.processor() or platform.platform()}", "device": args.device, "inputs": {}}
    for name, path in inputs.items():
        r = {"predict": measure(path, args.device, False)}
        full = r["predict"]["duration_s"] <= args.full_minutes * 60 + 1
        if full:
            r["predict_every_frame"] = measure(path, args.device, False, every_frame=True)
        if r["predict"]["duration_s"] <= 120:
            r["predict_with_video"] = measure(path, args.device, True)
        if name in speech:
            r["words_alone"] = {e: measure(path, args.device, False, e)
                                for e in ("faster-whisper", "openai-whisper") if full or e == "faster-whisper"}
            r["predict_over_faster_whisper"] = (r["predict"]["process_wall_s"]
                                                / r["words_alone"]["faster-whisper"]["process_wall_s"])
        r["floor"] = floor(path) if full else {}
        results["inputs"][name] = r
        print(f"{name}: predict {r['predict']['process_wall_s']:.1f} s in a fresh process, peak RSS "
              f"{r['predict']['peak_rss_mb']:.0f} MB", flush=True)
    if not args.no_people and TALKING.exists():
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from people import timing  # noqa: E402 - benchmarks/ is not a package

        results["people_two_person_30s"] = timing(SHARED)
    args.json.write_text(json.dumps(results, indent=2))
    print_table(results)


def print_table(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"emoannot benchmark, {results['date']}, {results['machine']}, device {results['device']}")
    for col in ("input", "frames", "predict (fresh)", "x real time", "--every-frame", "faster-whisper alone",
                "openai-whisper alone", "faces alone: tick / every frame", "+ video", "peak RSS MB"):
        t.add_column(col)
    s = lambda d, k="process_wall_s": f"{d[k]:.1f} s" if d else ""  # noqa: E731
    for name, r in results["inputs"].items():
        f, p, w = r["floor"], r["predict"], r.get("words_alone", {})
        t.add_row(name, str(p["frames"]), s(p), f"{p['duration_s'] / p['process_wall_s']:.1f}",
                  s(r.get("predict_every_frame")), s(w.get("faster-whisper")), s(w.get("openai-whisper")),
                  f"{f['faces_alone_s']:.1f} / {f['faces_alone_every_frame_s']:.1f} s" if f else "",
                  s(r.get("predict_with_video")), f"{p['peak_rss_mb']:.0f}")
    console = Console()
    console.print(t)
    for name, r in results["inputs"].items():
        stages = ", ".join(f"{k} {v:.2f}" for k, v in r.get("predict_with_video", r["predict"])["stages_s"].items())
        console.print(f"{name} seconds per stage: {stages}")
        console.print(f"{name} predict in a fresh process (load included): {r['predict']['process_wall_s']:.1f} s"
                      + (f", {r['predict_over_faster_whisper']:.2f}x faster-whisper alone"
                         if "predict_over_faster_whisper" in r else ""))
        for e, w in r.get("words_alone", {}).items():
            console.print(f"{name} words alone, {e} (fresh process, load included): {w['process_wall_s']:.1f} s, "
                          f"{w['words']} words, peak RSS {w['peak_rss_mb']:.0f} MB")
    if "people_two_person_30s" in results:
        console.print(f"two people, 30 s: --people all / --people main {results['people_two_person_30s']['all_over_main']}x")


if __name__ == "__main__":
    main()
