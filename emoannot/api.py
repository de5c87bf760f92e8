"""Library entry points the CLI calls: predict one video into its output folder."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from emoannot.config import OutputFormat, Settings
from emoannot.outputs import OutputPaths, atomic_folder, check_writable, output_folder
from emoannot.pipeline import Annotation, Engine

Hook = Callable[..., None]


def write_all(a: Annotation, folder: Path, settings: Settings, device: str, hook: Hook | None = None) -> OutputPaths:
    """Write every requested output of `a` into `folder` (appearing atomically)."""
    import time

    from emoannot.outputs.csv import frame_table, write_affwild2
    from emoannot.outputs.manifest import manifest, write_manifest

    stem = a.info.path.stem
    seconds = dict(a.seconds)
    names: dict[str, str] = {"csv": f"{stem}.csv", "manifest": "manifest.json"}
    with atomic_folder(folder) as tmp:
        t0 = time.perf_counter()
        table = frame_table(a, settings.extra_columns)
        table.to_csv(tmp / names["csv"], index=False, na_rep="")
        if OutputFormat.affwild2 in settings.formats:
            names["affwild2"] = f"{stem}.affwild2.txt"
            write_affwild2(a, tmp / names["affwild2"])
        seconds["write"] = time.perf_counter() - t0
        if settings.write_plot:
            from emoannot.outputs.plot import plot_tables

            t0 = time.perf_counter()
            names["plot"] = f"{stem}.png"
            plot_tables([table], [stem], tmp / names["plot"], title=a.info.path.name)
            seconds["plot"] = time.perf_counter() - t0
        if settings.write_video:
            from emoannot.outputs.overlay import write_overlay

            t0 = time.perf_counter()
            names["video"] = f"{stem}.annotated.mp4"
            write_overlay(a, tmp / names["video"], hook)
            seconds["video"] = time.perf_counter() - t0
        a_timed = Annotation(**{**a.__dict__, "seconds": seconds})
        write_manifest(manifest(a_timed, device, names), tmp / names["manifest"])
    return OutputPaths(folder=folder, csv=folder / names["csv"], manifest=folder / names["manifest"],
                       plot=folder / names["plot"] if "plot" in names else None,
                       video=folder / names["video"] if "video" in names else None,
                       affwild2=folder / names["affwild2"] if "affwild2" in names else None)


def predict(engine: Engine, video: Path, out_root: Path, hook: Hook | None = None,
            folder: Path | None = None) -> tuple[Annotation, OutputPaths]:
    folder = folder or output_folder(video, out_root)
    check_writable(folder.parent)
    a = engine.annotate(video, hook)
    return a, write_all(a, folder, engine.settings, engine.device, hook)
