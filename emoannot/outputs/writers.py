"""The writer table: every file a result folder can hold, in the order they are written, each with its kind
(the key in the manifest's `outputs` and in OutputPaths), its file name suffix, when the settings ask for it
and how it is written. Adding a format is one OutputFormat member and one Writer here (in the spirit of
openai-whisper's utils.get_writer).

A writer's `write(a, path, ctx)` writes one file; `ctx` carries the result folder (links are relative to
it), the tables written before (the plot draws from the CSV's), the names of the other files (the report
links the annotated video) and the progress hook. Its time goes to `a.seconds[writer.timing]`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from emoannot.config import OutputFormat, PeopleMode, Settings
from emoannot.records import Annotation


@dataclass
class WriteContext:
    folder: Path  #: where the files will live once committed (links are relative to it)
    names: dict[str, str]  #: kind -> file name, for every file of this result
    hook: Callable[..., None] | None = None
    tables: dict[str, Any] = field(default_factory=dict)  #: what earlier writers returned, by kind


@dataclass(frozen=True)
class Writer:
    kind: str
    suffix: str  #: the file is <stem><suffix>
    enabled: Callable[[Settings], bool]
    write: Callable[[Annotation, Path, WriteContext], Any]
    timing: str = "write"  #: the manifest's `seconds` key its time adds to


def _csv(a: Annotation, path: Path, ctx: WriteContext):
    from emoannot.outputs.csv import write_csv

    return write_csv(a, path, a.settings.extra_columns)


def _people(a: Annotation, path: Path, ctx: WriteContext):
    from emoannot.outputs.csv import write_people_csv

    return write_people_csv(a, path, a.settings.extra_columns)


def _affwild2(a: Annotation, path: Path, ctx: WriteContext) -> None:
    from emoannot.outputs.csv import write_affwild2

    write_affwild2(a, path)


def _elan(a: Annotation, path: Path, ctx: WriteContext) -> None:
    from emoannot.outputs import relative_link
    from emoannot.outputs.elan import write_eaf

    write_eaf(a, path, relative_link(a.info.path, ctx.folder))


def _vtt(a: Annotation, path: Path, ctx: WriteContext) -> None:
    from emoannot.outputs.vtt import write_vtt

    write_vtt(a, path)


def _srt(a: Annotation, path: Path, ctx: WriteContext) -> None:
    from emoannot.outputs.vtt import write_srt

    write_srt(a, path)


def _json(a: Annotation, path: Path, ctx: WriteContext) -> None:
    from emoannot.outputs.frames_json import write_frames_json

    write_frames_json(a, path)


def _plot(a: Annotation, path: Path, ctx: WriteContext) -> None:
    from emoannot.outputs.plot import plot_tables

    plot_tables([ctx.tables["csv"]], [a.info.path.stem], path, title=a.info.path.name, people=ctx.tables.get("people"))


def _video(a: Annotation, path: Path, ctx: WriteContext) -> None:
    from emoannot.outputs.overlay import write_overlay

    write_overlay(a, path, ctx.hook)


def _html(a: Annotation, path: Path, ctx: WriteContext) -> None:
    from emoannot.outputs.html import write_html

    write_html(a, path, ctx.folder, ctx.names.get("video"))


def _format(fmt: OutputFormat) -> Callable[[Settings], bool]:
    return lambda s: fmt in s.formats


WRITERS: tuple[Writer, ...] = (
    Writer("csv", ".csv", lambda s: True, _csv),
    Writer("people", ".people.csv", lambda s: s.faces.people == PeopleMode.all, _people),
    Writer("affwild2", ".affwild2.txt", _format(OutputFormat.affwild2), _affwild2),
    Writer("elan", ".eaf", _format(OutputFormat.elan), _elan),
    Writer("vtt", ".vtt", _format(OutputFormat.vtt), _vtt),
    Writer("srt", ".srt", _format(OutputFormat.srt), _srt),
    Writer("json", ".frames.json", _format(OutputFormat.json), _json),
    Writer("plot", ".png", lambda s: s.write_plot, _plot, "plot"),
    Writer("video", ".annotated.mp4", lambda s: s.write_video, _video, "video"),
    Writer("html", ".html", _format(OutputFormat.html), _html, "html"),  # last: it links the annotated video
)


def enabled_writers(settings: Settings) -> list[Writer]:
    return [w for w in WRITERS if w.enabled(settings)]


def output_names(stem: str, settings: Settings) -> dict[str, str]:
    """The files a result folder gets for these settings: kind -> file name (WRITERS, in writing order, then
    the manifest)."""
    from emoannot.outputs import MANIFEST

    names = {w.kind: f"{stem}{w.suffix}" for w in enabled_writers(settings)}
    names["manifest"] = MANIFEST
    return names
