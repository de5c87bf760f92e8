"""Writers: per-frame CSV, Aff-Wild2 txt (csv.py), manifest (manifest.py), plot (plot.py), annotated
video (overlay.py), ELAN .eaf (elan.py), WebVTT (vtt.py) and the HTML report (html.py). They read
records.Annotation and never import torch.

Where results go, and the rules that keep every file safe (README: "Names, overwriting and resume"):
- a video's results go to `<out>/<file name with its extension>.emoannot/` (`talk.mp4.emoannot/`), so
  talk.mp4 and talk.mov never share a folder; inputs of one `predict` call that still share a name get
  a short, stable disambiguator from their folder's path (`talk.mp4-3fa2c1.emoannot/`);
- inside it emoannot writes only the files its manifest names, and replaces only files that an earlier
  manifest says it wrote itself: a user's own file, or an input, is never overwritten, moved or deleted;
- new files are written beside the folder first and moved in when complete; manifest.json is written
  last, so a result is complete exactly when its manifest says so.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from emoannot.atomic import partial_folder, write_text
from emoannot.errors import OutputError

__all__ = ["SUFFIX", "MANIFEST", "OutputPaths", "partial_folder", "check_writable", "output_folder",
           "result_folders", "unique_inputs", "commit_folder", "check_outputs_free"]

SUFFIX = ".emoannot"
MANIFEST = "manifest.json"
#: the file each --format adds beside <name>.csv
#: one colour per person (by id), the same in the plot, the overlay and the HTML report (matplotlib's tab10)
#: one colour per person (plot lines, overlay boxes, report): none of them red or green, which the overlay's
#: single-face box uses for negative and positive valence
PERSON_COLOURS = ("#00acc1", "#e040fb", "#3949ab", "#6d4c41", "#00897b", "#c0ca33", "#546e7a", "#ff8a65")


def person_colour(person: int) -> str:
    return PERSON_COLOURS[(person - 1) % len(PERSON_COLOURS)]


#: one colour per emotion category, the same in the plot's band, the overlay and the HTML report
EMOTION_COLOURS = {"angry": "#d62728", "disgust": "#8c564b", "fear": "#9467bd", "happy": "#f2b701",
                   "sad": "#1f77b4", "surprise": "#ff7f0e", "neutral": "#9e9e9e", "calm": "#2ca02c",
                   "contempt": "#bcbd22"}


def emotion_colour(emotion: str) -> str:
    return EMOTION_COLOURS.get(emotion, "#17becf")


class OutputPaths(dict):
    """kind -> path of every file a result folder got (the writer table's kinds, and "manifest"), plus
    `.folder`; `paths.csv` is `paths["csv"]`, and a kind this result did not write is None as an attribute."""

    def __init__(self, folder: Path, paths: dict[str, Path]) -> None:
        super().__init__(paths)
        self.folder = folder

    def __getattr__(self, kind: str) -> Path | None:
        if kind.startswith("_"):
            raise AttributeError(kind)
        return self.get(kind)


def relative_link(target: Path, folder: Path) -> str:
    """`target` as a URL relative to `folder` (how the HTML report and the .eaf link the video)."""
    from urllib.parse import quote

    rel = os.path.relpath(Path(target).resolve(), Path(folder).resolve())
    return quote(Path(rel).as_posix())


def output_folder(video: Path, out_root: Path) -> Path:
    """`<out_root>/<name with extension>.emoannot`."""
    return out_root / f"{Path(video).name}{SUFFIX}"


def _tag(video: Path) -> str:
    """A short, stable disambiguator from the input's own folder (the same input always gets the same one)."""
    return hashlib.sha1(os.path.abspath(Path(video).parent).encode()).hexdigest()[:6]


def _holds_another_input(folder: Path, video: Path) -> bool:
    """The result folder already holds the result of another file of the same name (another folder's
    `interview.mp4`): its manifest names another absolute path, or (older manifests) another file identity."""
    from emoannot.hashing import file_identity

    try:
        m = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(m, dict):
        return False
    earlier = m.get("input_path_absolute")
    if earlier is not None:
        return earlier != os.path.abspath(video)
    try:
        return m.get("input_identity") not in (None, file_identity(video))
    except OSError:
        return False


def result_folders(videos: list[Path], out_root: Path) -> list[Path]:
    """One folder per input of a `predict` call: `<name>.emoannot`, or `<name>-<tag>.emoannot` (the tag made
    from the input's own folder) where inputs of this call share a file name, or where `<name>.emoannot`
    already holds the result of another file of that name (day1/ then day2/interview.mp4): both are kept."""
    names = [Path(v).name for v in videos]
    folders = []
    for v, name in zip(videos, names):
        plain = out_root / f"{name}{SUFFIX}"
        if names.count(name) > 1 or _holds_another_input(plain, Path(v)):
            folders.append(out_root / f"{name}-{_tag(Path(v))}{SUFFIX}")
        else:
            folders.append(plain)
    return folders


def unique_inputs(videos: list, key=lambda v: v) -> tuple[list, list]:
    """The inputs with each file once (by its real path: a file given twice, or through a link, is annotated
    once), and the ones left out."""
    seen, keep, dropped = set(), [], []
    for v in videos:
        real = os.path.realpath(key(v))
        (dropped if real in seen else keep).append(v)
        seen.add(real)
    return keep, dropped


def check_writable(folder: Path) -> None:
    """Fail early (before any model runs) when `folder` cannot be created or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".emoannot-write-test-"):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write to {folder} ({exc.strerror}); choose another folder with --out.",
                          stage="output") from exc


def _ours(folder: Path) -> set[str]:
    """The files an earlier run says it wrote into `folder` (its manifest's outputs and kept files)."""
    man = folder / MANIFEST
    if not man.exists():
        return set()
    try:
        m = json.loads(man.read_text())
        listed = {**m.get("outputs", {}), **m.get("kept_from_earlier_runs", {})}
        return {str(n) for n in listed.values()} | {MANIFEST}
    except (OSError, ValueError, AttributeError) as exc:
        raise OutputError(f"{man} is not an emoannot manifest ({exc}); emoannot will not write into {folder}. "
                          "Move that folder away or choose another --out.", stage="output") from exc


def check_outputs_free(folder: Path, names: dict[str, str], inputs: tuple[Path, ...] = ()) -> None:
    """Refuse (before any work) a result folder whose place holds something emoannot did not write."""
    if folder.is_symlink() and not folder.exists():
        raise OutputError(f"{folder} is a symbolic link to {os.readlink(folder)}, which does not exist; emoannot "
                          "never replaces a link it did not make. Remove the link, or create its target folder, or "
                          "choose another --out.", stage="output")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} exists and is not a folder; emoannot never replaces a file it did not write. "
                          "Rename it or choose another --out.", stage="output")
    if not folder.is_dir():
        return
    ours = _ours(folder)
    for name in names.values():
        target = folder / name
        if not (target.exists() or target.is_symlink()):
            continue
        if any(p.exists() and os.path.samefile(target, p) for p in inputs):
            raise OutputError(f"{target} is an input of this run; emoannot will not overwrite it. Choose another "
                              "--out.", stage="output")
        if name not in ours:
            raise OutputError(f"{target} exists and was not written by emoannot; move it away or choose another "
                              "--out (emoannot only replaces files its manifest lists).", stage="output")


def commit_folder(staged: Path, folder: Path, names: dict[str, str], manifest: dict,
                  inputs: tuple[Path, ...] = ()) -> None:
    """Move the files of `staged` into `folder`, then write its manifest. Only files an earlier manifest
    lists are replaced; earlier outputs this run does not rewrite are kept and listed as kept."""
    check_outputs_free(folder, names, inputs)
    folder.mkdir(parents=True, exist_ok=True)
    ours = _ours(folder)
    new = {n for k, n in names.items() if k != "manifest"}
    # 1. the manifest says the folder is being rewritten (a crash now leaves an incomplete, still-ours folder)
    write_text(folder / MANIFEST, json.dumps({"complete": False, "outputs": {n: n for n in sorted(ours | new)}},
                                             indent=2) + "\n")
    # 2. the new files, each replaced in one rename
    for n in sorted(new):
        os.replace(staged / n, folder / n)
    # 3. the manifest, last: the result is complete
    kept = {n: n for n in sorted(ours - new - {MANIFEST}) if (folder / n).exists()}
    final = {**manifest, "complete": True, "kept_from_earlier_runs": kept}
    write_text(folder / MANIFEST, json.dumps(final, indent=2, default=str) + "\n")
