"""Batch: a folder of videos -> one output folder each, a summary CSV and a failures log.

Models load once. One bad file never stops the run (unless fail_fast). Outputs appear atomically,
so an interrupted run (Ctrl-C, SIGTERM) leaves no partial folder and `resume` picks up where it stopped.
"""
from __future__ import annotations

import csv
import json
import os
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from emoannot.api import predict
from emoannot.atomic import atomic_path, clean_stale_partials, write_text
from emoannot.config import OutputFormat, Settings
from emoannot.errors import EmoannotError, InputError, OutputError
from emoannot.interrupt import checked, stop_on_signals
from emoannot.hashing import file_identity
from emoannot.outputs import MANIFEST, SUFFIX, output_folder
from emoannot.outputs.manifest import read_manifest
from emoannot.pipeline import Engine
from emoannot.progress import BatchEvent, BatchStarted, VideoEvent
from emoannot.records import VideoInfo
from emoannot.video import VIDEO_EXTENSIONS, probe

SUMMARY_FILE = "summary.csv"
FAILURES_FILE = "failures.csv"
INDEX_FILE = "index.html"  #: with --format html: a page linking every video's report
SUMMARY_COLUMNS = ("path", "status", "duration_s", "frames", "fps", "face_coverage", "speech_coverage",
                   "valued_coverage", "words",
                   "valence_mean", "valence_sd", "arousal_mean", "arousal_sd", "emotion_top", "emotion_top_share",
                   "seconds", "output")


@dataclass(frozen=True)
class Failure:
    path: str
    stage: str
    message: str


@dataclass
class BatchReport:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    interrupted: bool = False


def find_videos(root: Path, recursive: bool = False, pattern: str | None = None,
                out_root: Path | None = None) -> list[Path]:
    """The inputs of a batch: files under `root` (matching `pattern`, else with a video extension), never
    what emoannot writes itself (result folders, and the files at the top of `out_root`)."""
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; use `emoannot predict` for single files.", stage="batch")
    it = root.rglob(pattern or "*") if recursive else root.glob(pattern or "*")
    ours = set()
    if out_root is not None and out_root.is_dir():
        ours = {os.path.abspath(out_root / n) for n in TOP_FILES}
    files = [p for p in it if p.is_file() and not any(part.endswith(SUFFIX) for part in p.parts)
             and p.name not in (LOCK_FILE, BATCH_MANIFEST) and os.path.abspath(p) not in ours]
    if pattern is None:
        files = [p for p in files if p.suffix.lower() in VIDEO_EXTENSIONS]
    return sorted(files)


def out_folder_for(video: Path, root: Path, out_root: Path) -> Path:
    """The result folder mirrors the input's place under `root` (names: outputs.output_folder)."""
    return output_folder(video, out_root / video.relative_to(root).parent)


def is_complete(folder: Path, video: Path, models, settings: Settings) -> bool:
    """Outputs all present, made from this very input file (size, mtime, fast hash) with the same weights
    (`models`: an Engine's ModelRecords) and settings."""
    man = folder / MANIFEST
    if not man.is_file():
        return False
    try:
        m = read_manifest(man)
    except (OSError, json.JSONDecodeError):
        return False
    if m.get("complete") is not True:
        return False
    if any(not (folder / name).is_file() for name in m.get("outputs", {}).values()):
        return False
    try:
        if m.get("input_identity") != file_identity(video):
            return False
    except OSError:
        return False
    shas = {x["name"]: x["sha256"] for x in m.get("models", [])}
    if any(shas.get(rec.name) != rec.sha256 for rec in models):
        return False
    return m.get("settings_fingerprint") == json.loads(json.dumps(settings.fingerprint()))


def _round(x, digits: int):
    return "" if x is None else round(float(x), digits)


def summary_row(path: Path, status: str, folder: Path, manifest: dict | None = None) -> dict:
    """A video's summary.csv row. Its numbers come from the result's manifest only, so that the run that made
    a result and a later --resume that skips it write the same row (seconds: the stages' sum, as recorded)."""
    row = {c: "" for c in SUMMARY_COLUMNS}
    row.update(path=str(path), status=status, output=str(folder))
    if manifest is None and status == "skipped" and (folder / MANIFEST).is_file():
        manifest = read_manifest(folder / MANIFEST)
    if manifest is None:
        return row
    m = manifest
    if "valence_sd" not in m:  # a result written before the manifest carried its own statistics
        import pandas as pd

        df = pd.read_csv(folder / m["outputs"]["csv"], usecols=["valence", "arousal", "speech"])
        v, a = df["valence"].to_numpy(np.float64), df["arousal"].to_numpy(np.float64)
        m = {**m, "valence_sd": float(np.nanstd(v)) if np.isfinite(v).any() else None,
             "arousal_sd": float(np.nanstd(a)) if np.isfinite(a).any() else None,
             "speech_coverage": float(df["speech"].mean()), "valued_coverage": float(np.isfinite(v).mean())}
    row.update(duration_s=round(m.get("duration_s", m["input"]["duration_s"]), 3), frames=m["frames_decoded"],
               fps=round(m["input"]["fps"], 3), face_coverage=round(m["face_coverage"], 4),
               speech_coverage=round(m["speech_coverage"], 4), valued_coverage=round(m["valued_coverage"], 4),
               words=m["words"], valence_mean=_round(m.get("valence_mean"), 4), valence_sd=_round(m["valence_sd"], 4),
               arousal_mean=_round(m.get("arousal_mean"), 4), arousal_sd=_round(m["arousal_sd"], 4),
               seconds=round(sum(m["seconds"].values()), 2), **_top(m.get("emotion_share", {})))
    return row


def _top(share: dict[str, float]) -> dict:
    """The most frequent category of a video and its share of the frames with a category ('' without one)."""
    if not share:
        return {"emotion_top": "", "emotion_top_share": ""}
    top = max(share, key=share.get)
    return {"emotion_top": top, "emotion_top_share": round(share[top], 4)}


def _write_csv(path: Path, columns, rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(columns))
        w.writeheader()
        w.writerows(rows)


LOCK_FILE = ".emoannot-batch.lock"  #: held while a batch runs, removed when it ends
#: the top of --out: the files batch writes there (summary.csv, failures.csv, index.html) are listed in this
#: manifest, and only files it lists are ever replaced (as inside result folders: outputs.commit_folder)
BATCH_MANIFEST = ".emoannot-batch.json"
TOP_FILES = (SUMMARY_FILE, FAILURES_FILE, INDEX_FILE)


def _top_files_ours(out_root: Path) -> set[str]:
    path = out_root / BATCH_MANIFEST
    if not path.exists():
        return set()
    try:
        return {str(n) for n in json.loads(path.read_text())["files"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OutputError(f"{path} is not emoannot's ({exc}); emoannot will not write summary files into {out_root}. "
                          "Move it away or choose another --out.", stage="batch") from exc


def top_files(formats) -> list[str]:
    """The files a batch with these formats writes at the top of --out."""
    return [SUMMARY_FILE, FAILURES_FILE] + ([INDEX_FILE] if OutputFormat.html in formats else [])


def check_top_files(out_root: Path, formats) -> None:
    """Refuse (before any work) an --out whose summary.csv, failures.csv or index.html emoannot did not write."""
    ours = _top_files_ours(out_root)
    for name in top_files(formats):
        target = out_root / name
        if (target.exists() or target.is_symlink()) and name not in ours:
            raise OutputError(f"{target} exists and was not written by emoannot; move it away or choose another "
                              "--out (batch only replaces the summary files it wrote itself).", stage="batch")


def _claim_top_files(out_root: Path, names: list[str]) -> None:
    """List `names` in the batch manifest before they are written (a crash leaves them still ours)."""
    ours = _top_files_ours(out_root)
    if not set(names) <= ours:
        write_text(out_root / BATCH_MANIFEST, json.dumps({"files": sorted(ours | set(names))}, indent=2) + "\n")


def _earlier_rows(path: Path, out_root: Path) -> list[dict]:
    """The rows of an earlier batch's summary.csv or failures.csv (ours only), for the inputs of this run to
    replace and the others to keep."""
    if path.name not in _top_files_ours(out_root) or not path.is_file():
        return []
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except (OSError, csv.Error, UnicodeDecodeError):
        return []


@contextmanager
def batch_lock(out_root: Path) -> Iterator[None]:
    """One batch at a time per output folder: a second one exits with a clear message instead of racing
    the first over summary.csv and the same result folders."""
    import fcntl

    try:
        out_root.mkdir(parents=True, exist_ok=True)
        lock = open(out_root / LOCK_FILE, "a+")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise OutputError(f"cannot write to {out_root} ({exc.strerror}); choose another folder with --out.",
                          stage="batch") from exc
    busy = OutputError(f"another emoannot batch is writing into {out_root}; wait for it to finish, or choose "
                       "another --out.", stage="batch")
    with lock as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        try:  # the batch that held it may have ended and removed the file since we opened it
            if not os.path.samestat(os.fstat(f.fileno()), os.stat(out_root / LOCK_FILE)):
                raise busy
        except FileNotFoundError:
            raise busy from None
        try:
            yield
        finally:
            (out_root / LOCK_FILE).unlink(missing_ok=True)  # removed while still held: nothing is left behind
            fcntl.flock(f, fcntl.LOCK_UN)


def _plan(videos: list[Path]) -> list[tuple[Path, VideoInfo | EmoannotError]]:
    """Probe every input once: its VideoInfo serves the progress total and the annotation itself."""
    plan: list[tuple[Path, VideoInfo | EmoannotError]] = []
    for v in videos:
        try:
            plan.append((v, probe(v)))
        except EmoannotError as exc:
            plan.append((v, exc))
    return plan


@dataclass(frozen=True)
class Outcome:
    """What annotating one video gave, made where it ran (a Ray worker too: small enough to send back)."""
    row: dict  #: its summary.csv row
    failure: Failure | None = None  #: None: done
    warnings: tuple[str, ...] = ()
    frames: int = 0  #: frames decoded (done)


def failed(video: Path, folder: Path, stage: str, message: str) -> Outcome:
    return Outcome(summary_row(video, "failed", folder), Failure(str(video), stage, message))


def annotate_one(engine: Engine, video: Path, info: VideoInfo | EmoannotError, out_root: Path, folder: Path,
                 hook: Callable[..., None] | None = None) -> Outcome:
    """Annotate one input of a batch (`info`: its probe, or the error probing gave) into `folder`; any failure
    becomes an Outcome (one bad file must not stop the batch). Ctrl-C and SIGTERM (KeyboardInterrupt) pass
    through."""
    try:
        if isinstance(info, EmoannotError):
            raise info
        a, paths = predict(info, engine, out_root, hook, folder=folder)
    except EmoannotError as exc:
        return failed(video, folder, exc.stage or "unknown", str(exc))
    except Exception as exc:  # noqa: BLE001 - logged in failures.csv with the function that raised it
        return failed(video, folder, traceback.extract_tb(exc.__traceback__)[-1].name, f"{type(exc).__name__}: {exc}")
    return Outcome(summary_row(video, "done", folder, read_manifest(paths.manifest)), None, a.warnings, a.n_frames)


class Ledger:
    """The driver's record of a batch: the report, the summary rows in input order, the events; it writes
    summary.csv after every video, and failures.csv (and index.html with --format html) at the end.
    Shared by the plain batch and the Ray batch (emoannot.distributed), so their outputs agree."""

    def __init__(self, out_root: Path, plan: list, formats, emit: Callable[[BatchEvent], None]) -> None:
        self.out_root, self.plan, self.formats, self.emit = out_root, plan, formats, emit
        self.report = BatchReport()
        self.rows: dict[int, dict] = {}
        # an earlier batch's rows for other inputs are kept (another --pattern, another subfolder)
        mine = {str(v) for v, _ in plan}
        self.kept_rows = [r for r in _earlier_rows(out_root / SUMMARY_FILE, out_root) if r.get("path") not in mine]
        self.kept_failures = [r for r in _earlier_rows(out_root / FAILURES_FILE, out_root) if r.get("path") not in mine]
        self.top_files = top_files(formats)
        emit(BatchStarted(len(plan), sum(i.estimated_frames for _, i in plan if isinstance(i, VideoInfo))))

    def estimate(self, i: int) -> int:
        info = self.plan[i][1]
        return info.estimated_frames if isinstance(info, VideoInfo) else 0

    def skipped(self, i: int, folder: Path) -> None:
        video = self.plan[i][0]
        self.report.skipped.append(str(video))
        self.rows[i] = summary_row(video, "skipped", folder)
        self.emit(VideoEvent(i, video, "skipped", self.estimate(i)))

    def finished_unheard(self, i: int, folder: Path) -> None:
        """A video whose complete result a worker wrote before the batch was interrupted, the driver not yet
        told: recorded as done from its manifest (the row --resume would write for it, status done)."""
        video = self.plan[i][0]
        self.report.done.append(str(video))
        self.rows[i] = summary_row(video, "done", folder, read_manifest(folder / MANIFEST))
        self.emit(VideoEvent(i, video, "done", self.estimate(i)))

    def running(self, i: int) -> None:
        self.emit(VideoEvent(i, self.plan[i][0], "running", self.estimate(i)))

    def warn(self, i: int, message: str) -> None:
        self.emit(VideoEvent(i, self.plan[i][0], "warning", 0, message))

    def finished(self, i: int, outcome: Outcome) -> None:
        video = self.plan[i][0]
        self.rows[i] = outcome.row
        if outcome.failure is not None:
            self.report.failed.append(outcome.failure)
            self.emit(VideoEvent(i, video, "failed", self.estimate(i), outcome.failure.message))
        else:
            self.report.done.append(str(video))
            for w in outcome.warnings:
                self.warn(i, w)
            self.emit(VideoEvent(i, video, "done", outcome.frames))
        self.write_summary()

    def all_rows(self) -> list[dict]:
        """Every input's row: earlier batches' for other inputs, then this run's in input order."""
        return [{c: r.get(c, "") for c in SUMMARY_COLUMNS} for r in self.kept_rows] + [self.rows[i] for i in sorted(self.rows)]

    def write_summary(self) -> None:
        _claim_top_files(self.out_root, self.top_files)
        _write_csv(self.out_root / SUMMARY_FILE, SUMMARY_COLUMNS, self.all_rows())

    def close(self) -> None:
        self.write_summary()
        _write_csv(self.out_root / FAILURES_FILE, ("path", "stage", "message"),
                   [{k: r.get(k, "") for k in ("path", "stage", "message")} for r in self.kept_failures]
                   + [f.__dict__ for f in self.report.failed])
        if OutputFormat.html in self.formats:
            _write_index(self.out_root, self.all_rows())


def run_batch(engine: Engine | Settings, root: Path, out_root: Path, videos: list[Path], resume: bool = False,
              fail_fast: bool = False, hook: Callable[..., None] | None = None,
              on_event: Callable[[BatchEvent], None] | None = None) -> BatchReport:
    """Annotate `videos` (under `root`) into `out_root`, one after the other in this process; `on_event` hears
    a BatchStarted, then a VideoEvent for each step of each video. Given Settings instead of an Engine, the
    models load when the first video needs them (with --resume, a batch with nothing left loads none) and
    are closed at the end."""
    from emoannot.models import model_records

    settings = engine if isinstance(engine, Settings) else engine.settings
    if isinstance(engine, Settings):  # what would stop the models loading is said before any work
        from emoannot.device import resolve_device

        resolve_device(settings.device)
    models = engine.models if not isinstance(engine, Settings) else model_records(settings)  # weights checked
    own: Engine | None = None
    plan = _plan(videos)
    with batch_lock(out_root), stop_on_signals() as stop:
        check_top_files(out_root, settings.formats)
        ledger = Ledger(out_root, plan, settings.formats, on_event or (lambda e: None))
        clean_stale_partials(out_root, recursive=True)
        checked_hook = checked(hook, stop)
        try:
            for i, (video, info) in enumerate(plan):
                stop.check()
                folder = out_folder_for(video, root, out_root)
                if resume and is_complete(folder, video, models, settings):
                    ledger.skipped(i, folder)
                    continue
                if isinstance(engine, Settings):  # the first video with work: the models load now
                    engine = own = Engine(settings)
                ledger.running(i)
                ledger.finished(i, annotate_one(engine, video, info, out_root, folder, checked_hook))
                if fail_fast and ledger.report.failed:
                    break
        except KeyboardInterrupt:
            ledger.report.interrupted = True
        finally:
            ledger.close()
            if own is not None:
                own.close()
    return ledger.report


def _write_index(out_root: Path, rows: list[dict]) -> None:
    """index.html: every video of this run, linked to its report where a complete result has one."""
    from emoannot.outputs import relative_link
    from emoannot.outputs.html import write_index

    linked = []
    for r in rows:
        folder = Path(r["output"])
        report = ""
        if r["status"] != "failed" and (folder / MANIFEST).is_file():
            page = read_manifest(folder / MANIFEST).get("outputs", {}).get("html")
            if page and (folder / page).is_file():
                report = relative_link(folder / page, out_root)
        linked.append({**r, "report": report})
    with atomic_path(out_root / INDEX_FILE) as tmp:
        write_index(linked, tmp)
