"""Rich progress for the CLI: one bar per stage, shown only on a terminal."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

STAGE_LABELS = {"probe": "probe", "faces": "decode + faces", "speech": "voice + ASR", "fusion": "fusion",
                "video": "annotated video"}


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
