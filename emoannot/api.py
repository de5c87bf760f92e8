"""The library's public calls (re-exported as emoannot.load / emoannot.annotate / emoannot.predict).

    import emoannot

    with emoannot.load(device="cpu") as engine:          # models load once
        a = emoannot.annotate("talk.mp4", engine)        # -> emoannot.Annotation
    a.to_dataframe().head()                              # the per-frame table of <name>.csv
    a.to_dataframe(extra=True)                           # + what --extra-columns adds
    emoannot.plot(a, "talk.png")                         # the plot predict writes (no path: a Figure)
"""
from __future__ import annotations

import time
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from emoannot.config import Settings
from emoannot.errors import OutputError
from emoannot.outputs import (OutputPaths, check_outputs_free, commit_folder, output_folder,
                              partial_folder)
from emoannot.outputs.writers import output_names
from emoannot.progress import Hook
from emoannot.records import Annotation, VideoInfo

if TYPE_CHECKING:
    from emoannot.pipeline import Engine



def load(settings: Settings | None = None, **overrides) -> "Engine":
    """Load every model of `settings` (defaults: Settings()) once. Keyword arguments override fields of the
    settings, e.g. load(device="cpu", weights="my-weights"). Use it as a context manager, or call close()."""
    from emoannot.pipeline import Engine

    settings = settings or Settings()
    if not isinstance(settings, Settings):
        raise TypeError(f"load(settings): expected emoannot.Settings, not {settings!r}; keyword arguments override "
                        "single settings, e.g. load(device='cpu').")
    unknown = set(overrides) - {f.name for f in fields(Settings)}
    if unknown:
        raise TypeError(f"unknown setting(s) {', '.join(sorted(unknown))}; see emoannot.config.Settings.")
    return Engine(replace(settings, **overrides))


def annotate(video: str | Path | VideoInfo, engine: "Engine | Settings | None" = None,
             hook: Hook | None = None) -> Annotation:
    """Annotate one video with `engine` (or with an Engine loaded for these Settings, then closed).
    Returns the Annotation: per-frame valence/arousal, face track, transcript, warnings, seconds per stage."""
    from emoannot.pipeline import Engine

    video = video if isinstance(video, VideoInfo) else Path(video)
    if isinstance(engine, Engine):
        return engine.annotate(video, hook)
    if engine is not None and not isinstance(engine, Settings):
        raise TypeError(f"annotate(video, engine): engine must be an Engine (emoannot.load(...)) or Settings, not "
                        f"{engine!r}; for a device, use emoannot.load(device={engine!r}) or Settings(device=...).")
    with load(engine) as own:
        return own.annotate(video, hook)


def write_outputs(a: Annotation, folder: Path, device: str, hook: Hook | None = None) -> OutputPaths:
    """Write every output `a.settings` asks for into `folder` (emoannot.outputs: the safety rules), one
    writer of the table (emoannot.outputs.writers) after the other, each timed into the manifest."""
    from emoannot.outputs.manifest import manifest
    from emoannot.outputs.writers import WriteContext, enabled_writers

    names = output_names(a.info.path.stem, a.settings)
    seconds = dict(a.seconds)
    ctx = WriteContext(folder, names, hook)
    try:
        with partial_folder(folder) as tmp:
            for writer in enabled_writers(a.settings):
                t0 = time.perf_counter()
                ctx.tables[writer.kind] = writer.write(a, tmp / names[writer.kind], ctx)
                seconds[writer.timing] = seconds.get(writer.timing, 0.0) + time.perf_counter() - t0
            commit_folder(tmp, folder, names, manifest(replace(a, seconds=seconds), device, names), (a.info.path,))
    except OSError as exc:
        raise OutputError(f"cannot write the outputs into {folder} ({exc.strerror or exc}); check the free space "
                          "and permissions, or choose another folder with --out.", stage="output") from exc
    return OutputPaths(folder, {k: folder / n for k, n in names.items()})


def predict(video: str | Path | VideoInfo, engine: "Engine", out_root: str | Path = ".", hook: Hook | None = None,
            folder: Path | None = None) -> tuple[Annotation, OutputPaths]:
    """Annotate `video` and write its outputs into `folder` (default: <out_root>/<file name>.emoannot).
    A folder holding files emoannot did not write is refused before any work. The arguments come in
    annotate's order: the video, then the engine."""
    path = video.path if isinstance(video, VideoInfo) else Path(video)
    folder = folder or output_folder(path, Path(out_root))
    check_outputs_free(folder, output_names(path.stem, engine.settings), (path,))
    a = engine.annotate(video, hook)
    return a, write_outputs(a, folder, engine.device, hook)


def plot(a: Annotation, path: str | Path | None = None):
    """The plot `predict` writes for `a` (timeline, emotion band, lanes, circumplex; with several people one
    line each): written to `path` (.png, .pdf, .svg or .jpg; returns the path), or without a path returned as
    a matplotlib Figure (for a notebook; close it with matplotlib.pyplot.close). A function of the API rather
    than a method of Annotation: the result records sit below the writers and do not import them."""
    from emoannot.outputs.plot import check_plot_target, figure, plot_tables

    table = a.to_dataframe()
    people = a.people_dataframe() if len(a.tracked_people) > 1 else None
    if path is None:
        return figure([table], [a.info.path.stem], a.info.path.name, people)
    path = Path(path)
    check_plot_target(path, [])
    plot_tables([table], [a.info.path.stem], path, title=a.info.path.name, people=people)
    return path
