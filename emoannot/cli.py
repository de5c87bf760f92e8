"""Typer commands only: parse, build settings, call the library, map errors to exit codes.
Heavy imports happen inside the commands so that `--help` stays fast."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from emoannot.config import AsrEngine, AsrModel, Device, OutputFormat
from emoannot.errors import EmoannotError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Per-frame valence and arousal for videos: face, voice and words fused with RJCMA.")

DeviceOpt = Annotated[Device, typer.Option("--device", help="auto takes CUDA when torch sees it.")]
WeightsOpt = Annotated[str, typer.Option("--weights", help="'default' (shipped) or a folder written by `emoannot train`.")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the <name>.emoannot/ outputs [default: .]")]
AsrModelOpt = Annotated[AsrModel, typer.Option("--asr-model", help="tiny.en (English) or base (multilingual).")]
AsrEngineOpt = Annotated[AsrEngine, typer.Option("--asr-engine")]
LanguageOpt = Annotated[Optional[str], typer.Option("--language", help="Spoken language code for --asr-model base (e.g. de); default: detect.")]
FormatOpt = Annotated[List[OutputFormat], typer.Option("--format", help="csv is always written; affwild2 adds the Aff-Wild2 txt.")]
VideoOpt = Annotated[bool, typer.Option("--video", help="Also write <name>.annotated.mp4 (overlay, original audio).")]
NoPlotOpt = Annotated[bool, typer.Option("--no-plot", help="Skip the PNG plot.")]
ExtraOpt = Annotated[bool, typer.Option("--extra-columns", help="Add per-modality estimates (valence_visual, ...) to the CSV.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _err(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _warn(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _settings(device, weights, asr_model, asr_engine, language, formats, video, no_plot, extra):
    from emoannot.config import Settings, SpeechConfig

    return Settings(device=device, weights=weights,
                    speech=SpeechConfig(asr_model=asr_model, asr_engine=asr_engine, language=language),
                    write_plot=not no_plot, write_video=video,
                    formats=tuple(dict.fromkeys([OutputFormat.csv, *formats])), extra_columns=extra)


def _fail(exc: EmoannotError) -> "typer.Exit":
    _err(str(exc))
    return typer.Exit(exc.exit_code)


@app.command()
def predict(
    videos: Annotated[List[Path], typer.Argument(help="One or more video files.")],
    out: OutOpt = None,
    device: DeviceOpt = Device.auto,
    weights: WeightsOpt = "default",
    video: VideoOpt = False,
    no_plot: NoPlotOpt = False,
    format: FormatOpt = [OutputFormat.csv],  # noqa: B006 - typer reads the default
    language: LanguageOpt = None,
    asr_model: AsrModelOpt = AsrModel.tiny_en,
    asr_engine: AsrEngineOpt = AsrEngine.faster_whisper,
    extra_columns: ExtraOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Annotate videos: writes <name>.emoannot/ with <name>.csv, <name>.png and manifest.json."""
    from emoannot.api import predict as run_predict
    from emoannot.outputs import check_writable
    from emoannot.pipeline import Engine
    from emoannot.progress import progress_hook
    from emoannot.video import probe

    settings = _settings(device, weights, asr_model, asr_engine, language, format, video, no_plot, extra_columns)
    out_root = out or Path.cwd()
    codes: list[int] = []
    good: list[Path] = []
    for v in videos:  # cheap checks first: a bad file is reported before any model loads
        try:
            probe(v)
            good.append(v)
        except EmoannotError as exc:
            _err(f"{v}: {exc}")
            codes.append(exc.exit_code)
    try:
        if not good:
            raise typer.Exit(codes[0])
        check_writable(out_root)
        engine = Engine(settings)
    except EmoannotError as exc:
        raise _fail(exc) from None
    with progress_hook(False if quiet else None) as hook:
        for v in good:
            if hook is not None:
                hook.reset(f"{v.name}: ")
            try:
                a, paths = run_predict(engine, v, out_root, hook)
            except EmoannotError as exc:
                _err(f"{v}: {exc}")
                codes.append(exc.exit_code)
                continue
            for w in a.warnings:
                _warn(f"{v.name}: {w}")
            typer.echo(f"{v} -> {paths.folder} ({a.n_frames} frames, mean valence {a.valence.mean():+.2f}, "
                       f"mean arousal {a.arousal.mean():+.2f})")
    if codes:
        raise typer.Exit(codes[0] if len(codes) == len(videos) else 1)


@app.command()
def plot(
    csvs: Annotated[List[Path], typer.Argument(help="Per-frame CSVs written by predict/batch; several are overlaid.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="PNG path [default: beside the first CSV]")] = None,
) -> None:
    """Redraw the timeline and circumplex plot from existing CSVs."""
    from emoannot.outputs.plot import plot_csvs

    for p in csvs:
        if not p.is_file():
            _err(f"{p}: no such file.")
            raise typer.Exit(2)
    target = out or (csvs[0].with_suffix(".png") if len(csvs) == 1 else csvs[0].with_name("comparison.png"))
    try:
        plot_csvs(csvs, target)
    except EmoannotError as exc:
        raise _fail(exc) from None
    typer.echo(f"wrote {target}")


@app.command()
def models(weights: WeightsOpt = "default") -> None:
    """List the installed weights, their sha256 (checked) and model-card metrics."""
    import json

    from rich.console import Console
    from rich.table import Table

    from emoannot.model.weights import read_registry, resolve_set, weights_info
    from emoannot.speech import ASR_SHA256

    try:
        folder = resolve_set(weights)
    except EmoannotError as exc:
        raise _fail(exc) from None
    table = Table(title=f"weights in {folder}")
    for col in ("name", "sha256", "status", "metrics"):
        table.add_column(col, overflow="fold")
    bad = False
    for name in read_registry(folder):
        try:
            info = weights_info(folder, name)
            metrics = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in info.card["metrics"].items()
                       if isinstance(v, (int, float))}
            table.add_row(name, info.sha256[:16], "ok", json.dumps(metrics))
        except EmoannotError as exc:
            bad = True
            table.add_row(name, "", "[red]bad[/]", str(exc))
    for m, sha in ASR_SHA256.items():
        table.add_row(f"whisper {m.value} (ASR)", sha[:16], "package", "")
    Console().print(table)
    if bad:
        raise typer.Exit(4)


@app.command()
def batch(
    folder: Annotated[Path, typer.Argument(help="Folder of videos.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (mirrors the input tree).")] = Path("emoannot-results"),
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Descend into subfolders.")] = False,
    pattern: Annotated[Optional[str], typer.Option("--pattern", help="Glob such as '*.mp4' [default: common video extensions]")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Skip videos whose outputs are complete and match the weights and settings.")] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failure.")] = False,
    device: DeviceOpt = Device.auto,
    weights: WeightsOpt = "default",
    video: VideoOpt = False,
    no_plot: NoPlotOpt = False,
    format: FormatOpt = [OutputFormat.csv],  # noqa: B006
    language: LanguageOpt = None,
    asr_model: AsrModelOpt = AsrModel.tiny_en,
    asr_engine: AsrEngineOpt = AsrEngine.faster_whisper,
    extra_columns: ExtraOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Annotate a folder of videos: resumable, survives bad files, writes summary.csv and failures.csv."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from emoannot.batch import FAILURES_FILE, SUMMARY_FILE, find_videos, run_batch
    from emoannot.outputs import check_writable
    from emoannot.pipeline import Engine
    from emoannot.progress import progress_hook

    settings = _settings(device, weights, asr_model, asr_engine, language, format, video, no_plot, extra_columns)
    try:
        videos = find_videos(folder, recursive, pattern)
        if not videos:
            _err(f"no videos in {folder} (pattern {pattern or 'common video extensions'}"
                 f"{'' if recursive else '; add --recursive for subfolders'}).")
            raise typer.Exit(2)
        check_writable(out)
        engine = Engine(settings)
    except EmoannotError as exc:
        raise _fail(exc) from None
    console = Console(stderr=True)
    with progress_hook(False if quiet else None) as hook:
        overall = frames_task = None
        if hook is not None:
            from emoannot.video import estimated_frames

            estimate = {v: estimated_frames(v) for v in videos}
            overall = hook.progress.add_task("videos", total=len(videos))
            frames_task = hook.progress.add_task("frames (all videos)", total=sum(estimate.values()) or None)

        def on_video(i: int, path: Path, status: str) -> None:
            if hook is not None:
                hook.reset(f"{path.name}: ")
                hook.progress.update(overall, completed=i + (status != "running"))
                if status != "running" and not status.startswith("warning"):
                    hook.progress.advance(frames_task, estimate[path])
            if status.startswith("warning"):
                _warn(f"{path.name}: {status[9:]}")
            elif quiet or hook is None:
                typer.echo(f"[{i + 1}/{len(videos)}] {status}: {path}", err=True)

        report = run_batch(engine, folder, out, videos, resume, fail_fast, hook, on_video)
        if hook is not None:
            hook.progress.update(overall, completed=len(report.done) + len(report.skipped) + len(report.failed))
    table = Table(title=f"emoannot batch: {folder}")
    for col in ("status", "videos"):
        table.add_column(col)
    table.add_row("done", str(len(report.done)))
    table.add_row("skipped (complete)", str(len(report.skipped)))
    table.add_row("[red]failed[/]" if report.failed else "failed", str(len(report.failed)))
    console.print(table)
    for f in report.failed:
        console.print(f"[red]failed[/] {escape(f.path)} \\[{escape(f.stage)}]: {escape(f.message)}", highlight=False,
                      soft_wrap=True)
    console.print(f"summary: {out / SUMMARY_FILE}; failures: {out / FAILURES_FILE}", highlight=False)
    if report.interrupted:
        _err("interrupted: no partial outputs were left; run again with --resume to finish.")
        raise typer.Exit(130)
    if report.failed:
        raise typer.Exit(1)


class TrainFormat(str, __import__("enum").Enum):
    affwild2 = "affwild2"
    offline = "offline"


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="Aff-Wild2-format folder (videos + annotation txts), or the offline corpora folder.")],
    format: Annotated[TrainFormat, typer.Option("--format", help="affwild2, or offline (the recipe of the shipped weights).")] = TrainFormat.affwild2,
    out: Annotated[Path, typer.Option("--out", "-o", help="Weights folder to write (use it with --weights).")] = Path("trained-weights"),
    run_dir: Annotated[Path, typer.Option("--run-dir", help="Checkpoints and feature caches (a rerun resumes).")] = Path("runs"),
    base_weights: Annotated[str, typer.Option("--base-weights", help="Encoders to extract features with (affwild2).")] = "default",
    epochs: Annotated[Optional[int], typer.Option("--epochs", help="Fusion epochs [paper: 100; offline: 15]")] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Learning rate [paper: 1e-5]")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="[paper: 12]")] = None,
    visual_epochs: Annotated[int, typer.Option("--visual-epochs", help="Expression-CNN epochs (offline).")] = 20,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: DeviceOpt = Device.auto,
) -> None:
    """Train RJCMA on Aff-Wild2-format data (paper recipe), or rebuild the shipped weights (--format offline)."""
    import json
    from dataclasses import replace

    from emoannot.speech import resolve_device

    try:
        if format == TrainFormat.offline:
            from emoannot.train.offline import train_offline

            summary = train_offline(data, out, run_dir, seed=seed, visual_epochs=visual_epochs,
                                    fusion_epochs=epochs or 15)
        else:
            from emoannot.config import Settings
            from emoannot.train.affwild2 import PAPER_RECIPE, train_affwild2

            cfg = replace(PAPER_RECIPE, seed=seed, **{k: v for k, v in
                          (("epochs", epochs), ("lr", lr), ("batch_size", batch_size)) if v is not None})
            summary = train_affwild2(data, out, run_dir, base_weights, cfg,
                                     settings=Settings(weights=base_weights, device=device),
                                     device=resolve_device(device.value))
    except EmoannotError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(summary, indent=2, default=str)[:4000])
    typer.echo(f"weights written to {out}; use them with --weights {out}")


@app.command()
def evaluate(
    pred: Annotated[Path, typer.Argument(help="Prediction: emoannot CSV or Aff-Wild2 txt (file), or a folder of them.")],
    gt: Annotated[Path, typer.Argument(help="Ground truth: Aff-Wild2 txt (file), or a folder of them.")],
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the scores as JSON.")] = None,
) -> None:
    """CCC, Pearson r and RMSE per dimension; frames annotated -5 are skipped."""
    import json

    from rich.console import Console
    from rich.table import Table

    from emoannot.train.evaluate import evaluate as run_eval

    try:
        pooled, per, missing = run_eval(pred, gt)
    except EmoannotError as exc:
        raise _fail(exc) from None
    table = Table(title="emoannot evaluate")
    for col in ("video", "frames", "CCC V", "CCC A", "r V", "r A", "RMSE V", "RMSE A"):
        table.add_column(col)
    def row(name, s):
        table.add_row(name, str(s.n_frames), *(f"{x:.3f}" for x in (*s.ccc, *s.pearson, *s.rmse)))
    for name, s in per.items():
        row(name, s)
    if len(per) > 1:
        row("all (pooled)", pooled)
    Console().print(table)
    if missing:
        _warn(f"no prediction for {len(missing)} ground-truth files: {', '.join(missing[:10])}")
    if json_out:
        json_out.write_text(json.dumps({"pooled": pooled.__dict__, "videos": {k: v.__dict__ for k, v in per.items()},
                                        "missing": missing}, indent=2))


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
