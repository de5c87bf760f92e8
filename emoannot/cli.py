"""Typer commands only: parse, build settings, call the library, map errors to exit codes.
Heavy imports happen inside the commands so that `--help` stays fast."""
from __future__ import annotations

import functools
import os
import inspect
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from emoannot.config import AsrEngine, AsrModel, Device, Fusion, OutputFormat, PeopleMode
from emoannot.errors import EmoannotError
from emoannot.interrupt import exit_code_after_interrupt
from emoannot.train import CNN_EPOCHS

# rich_markup_mode=None: help text is shown as written (rich markup would eat "[ray]" and "[default: .]")
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None)

def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"emoannot {version('emoannot')}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                 help="Print emoannot's version and exit.")] = False) -> None:
    """Per-frame valence, arousal and emotion category for videos: face, voice and words fused with RJCMA (or
    CFN-SR, Foal-Net)."""


DeviceOpt = Annotated[Device, typer.Option("--device", help="auto takes CUDA when torch sees it.")]
WeightsOpt = Annotated[str, typer.Option("--weights", help="'default' (shipped), 'tiny' (random weights for smoke runs: "
                                                    "the numbers mean nothing) or a folder written by `emoannot train`.")]

#: the options shared by `predict` and `batch`, declared once (with_shared_options adds them to both)
SHARED_OPTIONS = (
    ("device", DeviceOpt, Device.auto),
    ("weights", WeightsOpt, "default"),
    ("fusion", Annotated[Fusion, typer.Option("--fusion", help="rjcma (default), cfn-sr or foal-net: the audio-visual fusion (README: Emotion categories and the three fusions).")], Fusion.rjcma),
    ("video", Annotated[bool, typer.Option("--video", help="Also write <name>.annotated.mp4 (overlay, original audio).")], False),
    ("no_plot", Annotated[bool, typer.Option("--no-plot", help="Skip the PNG plot.")], False),
    ("format", Annotated[List[OutputFormat], typer.Option("--format", help="Repeatable. csv is always written; affwild2: Aff-Wild2 txt; elan: <name>.eaf tiers; vtt, srt: subtitles (WebVTT, SubRip); json: <name>.frames.json, the per-frame table as JSON; html: a self-contained report page (batch adds index.html); all: every one of them.")], [OutputFormat.csv]),
    ("language", Annotated[Optional[str], typer.Option("--language", help="Spoken language code for --asr-model base (e.g. de); default: detect.")], None),
    ("asr_model", Annotated[AsrModel, typer.Option("--asr-model", help="tiny.en (English) or base (multilingual).")], AsrModel.tiny_en),
    ("asr_engine", Annotated[AsrEngine, typer.Option("--asr-engine")], AsrEngine.faster_whisper),
    ("extra_columns", Annotated[bool, typer.Option("--extra-columns", help="Add per-modality estimates (valence_visual, ...) and one probability per emotion category (p_happy, ...) to the CSV.")], False),
    ("people", Annotated[PeopleMode, typer.Option("--people", help="main: one face, fused with all the speech. all: every face with its own id and valence/arousal in <name>.people.csv; voice and words go to the person whose mouth moves with them (how often that is right: README, Several people).")], PeopleMode.main),
    ("every_frame", Annotated[bool, typer.Option("--every-frame", help="Detect and track faces on every decoded frame instead of the first frame of each 0.1 s tick (the model's rate; the frames between take interpolated boxes). Slower; the valence/arousal differ little (README: Speed).")], False),
    ("quiet", Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")], False),
)


def with_shared_options(command):
    """Give a command the SHARED_OPTIONS; it receives them as `settings` (a Settings) and `quiet`."""
    sig = inspect.signature(command, eval_str=True)
    own = [p for n, p in sig.parameters.items() if n not in ("settings", "quiet")]
    shared = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d)
              for n, a, d in SHARED_OPTIONS]

    @functools.wraps(command)
    def wrapper(**kwargs):
        from emoannot.speech import check_language

        values = {n: kwargs.pop(n) for n, _, _ in SHARED_OPTIONS}
        quiet = values.pop("quiet")
        settings = _settings(**values)
        try:
            check_language(settings.speech)
        except EmoannotError as exc:
            raise _fail(exc) from None
        return command(settings=settings, quiet=quiet, **kwargs)

    params = own + shared
    wrapper.__signature__ = sig.replace(parameters=params)
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    del wrapper.__wrapped__  # typer must read the new signature, not the command's
    return wrapper


def _err(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _warn(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _settings(device, weights, fusion, asr_model, asr_engine, language, format, video, no_plot, extra_columns, people,
              every_frame):
    from emoannot.config import FaceConfig, Settings, SpeechConfig

    return Settings(device=device, weights=weights, fusion=fusion,
                    faces=FaceConfig(people=people, every_frame=every_frame),
                    speech=SpeechConfig(asr_model=asr_model, asr_engine=asr_engine, language=language),
                    write_plot=not no_plot, write_video=video,
                    formats=tuple(dict.fromkeys([OutputFormat.csv, *format])), extra_columns=extra_columns)


def _fail(exc: EmoannotError) -> "typer.Exit":
    _err(str(exc))
    return typer.Exit(exc.exit_code)


@app.command()
@with_shared_options
def predict(
    videos: Annotated[List[Path], typer.Argument(help="One or more video files.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the <file name>.emoannot/ outputs [default: .]")] = None,
    *,
    settings,
    quiet: bool,
) -> None:
    """Annotate videos: writes <file name>.emoannot/ with <name>.csv, <name>.png and manifest.json."""

    from emoannot.api import predict as run_predict
    from emoannot.atomic import clean_stale_partials
    from emoannot.interrupt import checked, stop_on_signals
    from emoannot.outputs import check_writable, result_folders, unique_inputs
    from emoannot.progress import progress_hook
    from emoannot.video import probe

    out_root = out or Path.cwd()
    codes: list[int] = []
    good = []
    for v in videos:  # cheap checks first: a bad file is reported before any model loads
        try:
            good.append(probe(v))
        except EmoannotError as exc:
            _err(str(exc))
            codes.append(exc.exit_code)
    good, repeated = unique_inputs(good, key=lambda info: info.path)
    for info in repeated:
        _warn(f"{info.path} was given more than once: annotated once.")
    try:
        if not good:
            raise typer.Exit(codes[0])
        check_writable(out_root)
        clean_stale_partials(out_root)
        from emoannot.pipeline import Engine  # torch, mediapipe, whisper: only once there is work

        engine = Engine(settings)
    except EmoannotError as exc:
        raise _fail(exc) from None
    folders = result_folders([info.path for info in good], out_root)
    with engine, progress_hook(False if quiet else None) as hook, stop_on_signals() as stop:
        checked_hook = checked(hook, stop)
        try:
            for info, folder in zip(good, folders):
                if hook is not None:
                    hook.reset(f"{info.path.name}: ")
                try:
                    a, paths = run_predict(info, engine, out_root, checked_hook, folder=folder)
                except EmoannotError as exc:
                    _err(str(exc))
                    codes.append(exc.exit_code)
                    continue
                for w in a.warnings:
                    _warn(f"{info.path.name}: {w}")
                typer.echo(f"{info.path} -> {paths.folder} ({a.n_frames} frames, {_means(a)})")
        except KeyboardInterrupt:
            _err("interrupted: the video being annotated left no partial output; finished ones are kept.")
            raise typer.Exit(exit_code_after_interrupt()) from None
    if codes:
        raise typer.Exit(codes[0] if len(codes) == len(videos) else 1)


def _means(a) -> str:
    """The run's one-line summary of its values: means over the frames that have one (the main person's, and
    how many people, with --people all; the mean confidence), or that none has."""
    import numpy as np

    ok = np.isfinite(a.valence)
    people = ""
    if a.by_person:
        n = len(a.tracked_people)
        people = f"{n} {'person' if n == 1 else 'people'}" + (f", person {a.main_person}'s " if n else ", ")
    if not ok.any():
        return people + "no frame has a value"
    conf = np.nanmean(a.confidence[ok]) if np.isfinite(a.confidence[ok]).any() else float("nan")
    return (people + f"mean valence {a.valence[ok].mean():+.2f}, mean arousal {a.arousal[ok].mean():+.2f}, "
            f"mean confidence {conf:.2f}")


@app.command()
def plot(
    csvs: Annotated[List[Path], typer.Argument(help="Per-frame CSVs written by predict/batch; several are overlaid.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="PNG path [default: beside the first CSV]")] = None,
) -> None:
    """Redraw the timeline and circumplex plot from existing CSVs."""
    from emoannot.outputs.plot import plot_csvs

    for p in csvs:
        if not p.is_file():
            _err(f"{p}: no such file{' (it is a folder)' if p.is_dir() else ''}; give the <name>.csv that predict wrote.")
            raise typer.Exit(2)
    target = out or (csvs[0].with_suffix(".png") if len(csvs) == 1 else csvs[0].with_name("comparison.png"))
    try:
        plot_csvs(csvs, target)
    except EmoannotError as exc:
        raise _fail(exc) from None
    typer.echo(f"wrote {target}")


@app.command()
def models(weights: WeightsOpt = "default",
           json_out: Annotated[bool, typer.Option("--json", help="Print the full model cards' metrics as JSON (for scripts) instead of the table.")] = False) -> None:
    """List the installed weights, their sha256 (checked) and each part's headline figure from its model card."""
    import json

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from emoannot.model.weights import check_tensors, headline, read_registry, resolve_set, weights_info
    from emoannot.speech.weights import ASR_SHA256

    try:
        folder = resolve_set(weights)
        registry = read_registry(folder)
    except EmoannotError as exc:
        raise _fail(exc) from None
    table = Table(title=f"weights in {folder} (full metrics: the .json model cards beside them, or --json)")
    for col, ratio in (("part", 1), ("sha256", 1), ("status", 1), ("headline (held-out)", 4)):
        table.add_column(col, ratio=ratio, overflow="fold")
    bad, cards = False, {}
    for name in registry:
        try:
            info = weights_info(folder, name)
            check_tensors(info)
            cards[name] = {"sha256": info.sha256, "status": "ok", "metrics": info.card.get("metrics", {})}
            table.add_row(name, info.sha256[:16], "ok", escape(headline(name, info.card)))
        except EmoannotError as exc:
            bad = True
            cards[name] = {"status": "bad", "error": str(exc)}
            table.add_row(name, "", "[red]bad[/]", escape(str(exc)))
    for m, sha in ASR_SHA256.items():
        table.add_row(f"whisper {m.value} (ASR)", sha[:16], "package", "")
        cards[f"whisper {m.value}"] = {"sha256": sha, "status": "package"}
    if json_out:
        typer.echo(json.dumps(cards, indent=2))
    else:
        Console().print(table)
    if bad:
        raise typer.Exit(4)


@app.command()
@with_shared_options
def batch(
    folder: Annotated[Path, typer.Argument(help="Folder of videos.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (mirrors the input tree).")] = Path("emoannot-results"),
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Descend into subfolders.")] = False,
    pattern: Annotated[Optional[str], typer.Option("--pattern", help="Glob such as '*.mp4' [default: common video extensions]")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Skip videos whose outputs are complete and match the weights and settings.")] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failure.")] = False,
    ray: Annotated[Optional[str], typer.Option("--ray", help="Run on Ray: 'local' (this machine), 'auto' (the cluster this node belongs to) or a cluster ADDRESS. Needs emoannot[ray].")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="With --ray: how many workers (each loads the models once) [default: one per CPU of the cluster].")] = None,
    gpus_per_worker: Annotated[float, typer.Option("--gpus-per-worker", min=0.0, help="With --ray: GPUs each worker takes (fractions share a GPU).")] = 0.0,
    *,
    settings,
    quiet: bool,
) -> None:
    """Annotate a folder of videos: resumable, survives bad files, writes summary.csv and failures.csv."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from emoannot.batch import FAILURES_FILE, SUMMARY_FILE, check_top_files, find_videos, run_batch
    from emoannot.outputs import check_writable
    from emoannot.progress import BatchBars, progress_hook

    if ray is None and (workers is not None or gpus_per_worker):
        _err("--workers and --gpus-per-worker apply to --ray only; add --ray local (or auto, or an address).")
        raise typer.Exit(2)
    try:
        if ray is not None:
            from emoannot.distributed import import_ray

            import_ray()  # the missing extra is said before any work
        videos = find_videos(folder, recursive, pattern, out)
        if not videos:
            _err(f"no videos in {folder} (pattern {pattern or 'common video extensions'}"
                 f"{'' if recursive else '; add --recursive for subfolders'}).")
            raise typer.Exit(2)
        check_writable(out)
        check_top_files(out, settings.formats)
    except EmoannotError as exc:
        raise _fail(exc) from None
    console = Console(stderr=True)
    with progress_hook(False if quiet else None) as hook:
        bars = BatchBars(hook, say=lambda line: typer.echo(line, err=True), warn=_warn)
        try:
            if ray is None:  # the models load when the first video needs them (on Ray, in each worker)
                report = run_batch(settings, folder, out, videos, resume, fail_fast, hook, bars)
            else:
                from emoannot.distributed import run_batch_ray

                report = run_batch_ray(settings, folder, out, videos, ray, workers, gpus_per_worker, resume,
                                       fail_fast, bars)
        except EmoannotError as exc:
            raise _fail(exc) from None
    table = Table(title=f"emoannot batch: {folder}")
    for col in ("status", "videos"):
        table.add_column(col)
    table.add_row("done", str(len(report.done)))
    table.add_row("skipped (complete)", str(len(report.skipped)))
    table.add_row("[red]failed[/]" if report.failed else "failed", str(len(report.failed)))
    console.print(table)
    for f in report.failed:  # the path once: most messages name it already
        said = f.message if f.path in f.message else f"{f.path}: {f.message}"
        console.print(f"[red]failed[/] \\[{escape(f.stage)}] {escape(said)}", highlight=False, soft_wrap=True)
    console.print(f"summary: {out / SUMMARY_FILE}; failures: {out / FAILURES_FILE}", highlight=False)
    if report.interrupted:
        _err("interrupted: no partial outputs were left; run again with --resume to finish.")
        raise typer.Exit(exit_code_after_interrupt())
    if report.failed:
        raise typer.Exit(1)


@app.command()
@with_shared_options
def review(
    target: Annotated[Path, typer.Argument(help="A result folder written by predict (<file name>.emoannot/), or a video: it is annotated first.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="With a video: the folder for its result folder [default: .]")] = None,
    annotator: Annotated[str, typer.Option("--annotator", help="Your name or code: it goes into the human.csv and its file name (<name>.<annotator>.human.csv).")] = "",
    *,
    settings,
    quiet: bool,
) -> None:
    """Write <name>.review.html: play the video beside the machine's valence and arousal, record or draw your own trace, and save <name>.human.csv (README: Reviewing and correcting)."""
    from emoannot.outputs import output_folder
    from emoannot.outputs.review import write_review

    try:
        if target.is_dir():
            folder = target
        else:
            from emoannot.api import predict as run_predict
            from emoannot.outputs import check_writable
            from emoannot.pipeline import Engine
            from emoannot.progress import progress_hook
            from emoannot.video import probe

            info = probe(target)
            out_root = out or Path.cwd()
            check_writable(out_root)
            folder = output_folder(target, out_root)
            if not (folder / "manifest.json").is_file():
                with Engine(settings) as engine, progress_hook(False if quiet else None) as hook:
                    run_predict(info, engine, out_root, hook)
        page = write_review(folder, annotator)
    except EmoannotError as exc:
        raise _fail(exc) from None
    typer.echo(f"open {page} in a browser (keys are listed on the page); save your trace with s")


def _positive(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter(f"{value} is not a positive number.")
    return value


class TrainFormat(str, Enum):
    affwild2 = "affwild2"
    review = "review"  #: videos with the review page's .human.csv (Aff-Wild2 txts are read too)
    offline = "offline"


#: options that only some training formats read; the others refuse them instead of dropping them silently
TRAIN_ONLY_OPTIONS = {TrainFormat.affwild2: ("--base-weights", "--lr", "--batch-size", "--device", "--init"),
                      TrainFormat.offline: ("--visual-epochs",)}


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="A folder of videos with their annotations (Aff-Wild2 txts, or the review page's .human.csv), or the offline corpora folder.")],
    format: Annotated[TrainFormat, typer.Option("--format", help="affwild2 or review (a folder of annotated videos), or offline (the recipe of the shipped weights).")] = TrainFormat.affwild2,
    out: Annotated[Path, typer.Option("--out", "-o", help="Weights folder to write (use it with --weights).")] = Path("trained-weights"),
    run_dir: Annotated[Path, typer.Option("--run-dir", help="Checkpoints and feature caches (a rerun resumes).")] = Path("runs"),
    base_weights: Annotated[Optional[str], typer.Option("--base-weights", help="Encoders to extract features with (affwild2) [default: default]")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", min=1, help="Fusion epochs [paper: 100; offline: 15]")] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", callback=_positive, help="Learning rate (affwild2) [paper: 1e-5]")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="(affwild2) [paper: 12]")] = None,
    visual_epochs: Annotated[Optional[int], typer.Option("--visual-epochs", min=1, help=f"Expression-CNN epochs (offline) [default: {CNN_EPOCHS}]")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[Optional[Device], typer.Option("--device", help="(affwild2, review) auto takes CUDA when torch sees it.")] = None,
    init: Annotated[Optional[str], typer.Option("--init", help="(affwild2, review) fine-tune this weights set's fusion ('default': the shipped one) instead of training from scratch: a short run with early stopping on the held-out videos, a before/after table in the new model card.")] = None,
) -> None:
    """Train RJCMA on annotated videos (Aff-Wild2 txts or the review page's .human.csv; from scratch with the
    paper's recipe, or fine-tuned from a weights set with --init), or rebuild the shipped weights (--format
    offline: the heads and all three fusions)."""
    import json
    from dataclasses import replace

    given = {"--base-weights": base_weights, "--lr": lr, "--batch-size": batch_size, "--device": device,
             "--visual-epochs": visual_epochs, "--init": init}
    ignored = TRAIN_ONLY_OPTIONS[TrainFormat.affwild2 if format == TrainFormat.offline else TrainFormat.offline]
    refused = [name for name in ignored if given[name] is not None]
    if refused:
        _err(f"{', '.join(refused)} {'does' if len(refused) == 1 else 'do'} not apply to --format {format.value}; "
             "leave {} out.".format("it" if len(refused) == 1 else "them"))
        raise typer.Exit(2)
    try:
        from emoannot.model.weights import claim_for_training

        claim_for_training(out, format.value, data)
        if format == TrainFormat.offline:
            from emoannot.train.offline import train_offline

            summary = train_offline(data, out, run_dir, seed=seed, visual_epochs=visual_epochs or CNN_EPOCHS,
                                    fusion_epochs=epochs or 15)
        else:
            from emoannot.config import Settings
            from emoannot.device import resolve_device
            from emoannot.train.affwild2 import FINE_TUNE_RECIPE, PAPER_RECIPE, train_affwild2

            device = device or Device.auto
            base_weights = base_weights or init or "default"  # fine-tuning reads the features of its own set
            cfg = replace(FINE_TUNE_RECIPE if init else PAPER_RECIPE, seed=seed, **{k: v for k, v in
                          (("epochs", epochs), ("lr", lr), ("batch_size", batch_size)) if v is not None})
            from emoannot.progress import progress_hook

            with progress_hook(None) as hook:  # bars on a terminal: videos read, epochs
                summary = train_affwild2(data, out, run_dir, base_weights, cfg,
                                         settings=Settings(weights=base_weights, device=device),
                                         device=resolve_device(device), init=init, hook=hook)
    except EmoannotError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(summary, indent=2, default=str)[:4000])
    typer.echo(f"weights written to {out}; use them with --weights {out}")


@app.command()
def evaluate(
    pred: Annotated[Path, typer.Argument(help="Prediction: emoannot CSV, Aff-Wild2 txt or a person's .human.csv (file), or a folder of them (result folders are read through their manifests).")],
    gt: Annotated[Path, typer.Argument(help="Ground truth: Aff-Wild2 txt or .human.csv (file), or a folder of them. A folder holding two annotators' .human.csv of a video also gets their agreement (inter-rater).")],
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the scores as JSON.")] = None,
    allow_length_mismatch: Annotated[bool, typer.Option("--allow-length-mismatch", help="Pad or cut a prediction whose frame count differs from the ground truth's (a warning names both counts).")] = False,
) -> None:
    """CCC, Pearson r and RMSE per dimension; frames annotated -5 (or empty in a .human.csv) are skipped."""
    import json

    from rich.console import Console
    from rich.table import Table

    from emoannot.evaluate import evaluate as run_eval

    if json_out is not None and (json_out.is_dir() or not json_out.parent.is_dir()):
        _err(f"--json {json_out}: {'is a folder' if json_out.is_dir() else f'the folder {json_out.parent} does not exist'}; "
             "give a file name in an existing folder.")
        raise typer.Exit(3)
    import numpy as np

    notes: list[str] = []
    try:
        pooled, per, missing = run_eval(pred, gt, allow_length_mismatch, notes)
    except EmoannotError as exc:
        raise _fail(exc) from None
    for note in notes:
        _warn(note)
    raters = None
    if gt.is_dir():
        from emoannot.evaluate import inter_rater

        try:
            raters = inter_rater(gt)
        except EmoannotError:
            raters = None  # no video with two annotators: nothing to add

    def show(title: str, per: dict, pooled) -> None:
        table = Table(title=title)
        for col in ("video", "frames", "CCC V", "CCC A", "r V", "r A", "RMSE V", "RMSE A"):
            table.add_column(col)
        for name, s in (*per.items(), *((("all (pooled)", pooled),) if len(per) > 1 else ())):
            table.add_row(name, str(s.n_frames), *(f"{x:.3f}" if np.isfinite(x) else "n/a"
                                                   for x in (*s.ccc, *s.pearson, *s.rmse)))
        Console().print(table)

    show("emoannot evaluate: prediction against annotation", per, pooled)
    if raters is not None:
        show("inter-rater: annotator against annotator (same video)", raters[1], raters[0])
    everything = [*per.values(), pooled, *((raters[0], *raters[1].values()) if raters else ())]
    if any(not np.isfinite(x) for s in everything for x in s.pearson):
        _warn("r is n/a where the prediction or the annotation does not vary over the frames scored (a constant "
              "has no correlation).")
    if missing:
        _warn(f"no prediction for {len(missing)} ground-truth files: {', '.join(missing[:10])}")
    if json_out:
        doc = {"pooled": pooled.__dict__, "videos": {k: v.__dict__ for k, v in per.items()}, "missing": missing}
        if raters is not None:
            doc["inter_rater"] = {"pooled": raters[0].__dict__, "pairs": {k: v.__dict__ for k, v in raters[1].items()}}
        json_out.write_text(json.dumps(doc, indent=2))


def main() -> None:
    """The `emoannot` command: the Typer app, then a prompt exit. Once a command has finished (its outputs
    written atomically and complete, the streams flushed), the process ends at once with its exit code:
    CPython's own teardown (a final garbage collection over the millions of small objects a long video
    leaves: torch, mediapipe and pandas internals) took tens of seconds on a loaded machine and adds nothing."""
    try:
        app()  # Typer's own handling of usage errors and exit codes; it ends with SystemExit
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
