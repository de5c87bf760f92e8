"""Progress: the typed events of a batch, and rich bars for the CLI (shown only on a terminal).

Stages report through a hook, hook(stage, completed=, total=); a batch reports BatchStarted, then
VideoEvents. RichHook draws the stage bars of the current video; BatchBars adds the videos bar and the
frames bar (with ETA) over all videos.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Literal, Protocol, Union

class Hook(Protocol):
    """What the stages report progress to: hook(stage, completed=..., total=...) (total None: unknown). One
    protocol for the library (emoannot.annotate's `hook`), the pipeline's stages and the CLI's bars."""

    def __call__(self, stage: str, completed: int = 0, total: int | None = None) -> None: ...


STAGE_LABELS = {"probe": "probe", "faces": "decode + faces", "speech": "voice + ASR", "fusion": "fusion",
                "video": "annotated video", "features": "training: videos read", "epochs": "training: epochs"}


class RichHook:
    """hook(stage, completed=, total=) -> rich progress bars; `prefix` names the current video."""

    def __init__(self, progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}
        self.prefix = ""

    def reset(self, prefix: str = "") -> None:
        for task in self.tasks.values():
            self.progress.remove_task(task)
        self.tasks.clear()
        self.prefix = prefix

    def __call__(self, stage: str, completed: int = 0, total: int | None = None) -> None:
        label = f"{self.prefix}{STAGE_LABELS.get(stage, stage)}"
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(label, total=total)
        self.progress.update(self.tasks[stage], completed=completed, total=total)


@dataclass(frozen=True)
class BatchStarted:
    videos: int
    frames: int  #: estimated from the probes (0 when no container states it)


@dataclass(frozen=True)
class VideoEvent:
    index: int  #: position of the video in the batch
    path: Path
    status: Literal["running", "done", "skipped", "failed", "warning"]
    frames: int = 0  #: done: frames decoded; running/skipped/failed: the probe's estimate
    message: str = ""  #: the warning or failure


BatchEvent = Union[BatchStarted, VideoEvent]


class BatchBars:
    """Batch events -> the videos bar, the frames bar (all videos, with ETA) and the per-video stage bars;
    without a terminal, one line per finished video on stderr (`say`), counted in the order they finish
    ("[2/5] done: ..." is the second to finish: on Ray, videos finish out of their listed order)."""

    def __init__(self, hook: RichHook | None, say: Callable[[str], None], warn: Callable[[str], None]) -> None:
        self.hook = hook
        self.say = say
        self.warn = warn
        self.videos = self.frames = None
        self.n = 0
        self.finished = 0
        self.estimates: dict[int, int] = {}

    def __call__(self, e: BatchEvent) -> None:
        if isinstance(e, BatchStarted):
            self.n = e.videos
            if self.hook is not None:
                self.videos = self.hook.progress.add_task("videos", total=e.videos)
                self.frames = self.hook.progress.add_task("frames (all videos)", total=e.frames or None)
            return
        if e.status == "warning":
            self.warn(f"{e.path.name}: {e.message}")
            return
        if e.status == "running":
            self.estimates[e.index] = e.frames
            if self.hook is not None:
                self.hook.reset(f"{e.path.name}: ")
            return
        self.finished += 1
        if self.hook is not None:
            self.hook.progress.advance(self.videos, 1)
            # a finished video moves the frames bar by its estimate, so that the total stays consistent
            self.hook.progress.advance(self.frames, self.estimates.get(e.index, e.frames) or e.frames)
        else:
            self.say(f"[{self.finished}/{self.n}] {e.status}: {e.path}")


def is_interactive() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress_hook(enabled: bool | None = None) -> Iterator[RichHook | None]:
    if not (is_interactive() if enabled is None else enabled):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=False) as progress:
        yield RichHook(progress)
