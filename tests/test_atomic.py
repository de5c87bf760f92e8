"""Atomic writes and result folders (emoannot/atomic.py, outputs/__init__.py)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from emoannot.atomic import atomic_path


def _commit(folder, names, files, extra_manifest=None):
    from emoannot.atomic import partial_folder
    from emoannot.outputs import commit_folder

    with partial_folder(folder) as tmp:
        for n, text in files.items():
            (tmp / n).write_text(text)
        commit_folder(tmp, folder, names, {"outputs": names, **(extra_manifest or {})})


def test_result_folder_is_filled_without_touching_files_emoannot_did_not_write(tmp_path):
    from emoannot.errors import OutputError

    folder = tmp_path / "x.mp4.emoannot"
    names = {"csv": "x.csv", "video": "x.annotated.mp4", "manifest": "manifest.json"}
    _commit(folder, names, {"x.csv": "1", "x.annotated.mp4": "v1"})
    assert json.loads((folder / "manifest.json").read_text())["complete"] is True
    (folder / "my notes.txt").write_text("mine")
    # a second run without the video: the csv is replaced, the earlier video and the user's file are kept
    _commit(folder, {"csv": "x.csv", "manifest": "manifest.json"}, {"x.csv": "2"})
    assert (folder / "x.csv").read_text() == "2" and (folder / "x.annotated.mp4").read_text() == "v1"
    assert (folder / "my notes.txt").read_text() == "mine"
    m = json.loads((folder / "manifest.json").read_text())
    assert m["kept_from_earlier_runs"] == {"x.annotated.mp4": "x.annotated.mp4"}
    # the kept video is still ours: a later run may replace it
    _commit(folder, names, {"x.csv": "3", "x.annotated.mp4": "v3"})
    assert (folder / "x.annotated.mp4").read_text() == "v3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.mp4.emoannot"]  # no partial folder left
    # a file emoannot did not write is never replaced
    (folder / "x.png").write_text("the user's own picture")
    with pytest.raises(OutputError, match="not written by emoannot"):
        _commit(folder, {**names, "plot": "x.png"}, {"x.csv": "4", "x.annotated.mp4": "v4", "x.png": "plot"})
    assert (folder / "x.png").read_text() == "the user's own picture" and (folder / "x.csv").read_text() == "3"
    # nor a file where the folder should be
    (tmp_path / "y.mp4.emoannot").write_text("a file")
    with pytest.raises(OutputError, match="is not a folder"):
        _commit(tmp_path / "y.mp4.emoannot", names, {"x.csv": "1", "x.annotated.mp4": "v"})
    assert (tmp_path / "y.mp4.emoannot").read_text() == "a file"


def test_an_input_inside_the_result_folder_is_never_overwritten(tmp_path):
    from emoannot.errors import OutputError
    from emoannot.outputs import check_outputs_free

    folder = tmp_path / "x.mp4.emoannot"
    _commit(folder, {"csv": "x.csv", "manifest": "manifest.json"}, {"x.csv": "1"})
    video = folder / "x.csv"  # an input that happens to sit where an output goes
    with pytest.raises(OutputError, match="input of this run"):
        check_outputs_free(folder, {"csv": "x.csv"}, (video,))


def test_stale_partial_folders_of_dead_writers_are_removed(tmp_path):
    import os

    from emoannot.atomic import PARTIAL_MARK, clean_stale_partials, partial_folder

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / "sub" / f".a.mp4.emoannot.partial-{dead.pid}-xyz"
    live = tmp_path / f".b.mp4.emoannot.partial-{os.getpid()}-abc"
    lookalike = tmp_path / f".notes.partial-{dead.pid}-mine"  # a user's folder: no mark inside
    for folder in (stale, live, lookalike):
        folder.mkdir(parents=True)
    for folder in (stale, live):  # what partial_folder leaves inside each folder it makes
        (folder / PARTIAL_MARK).write_text(folder.name + "\n")
    assert clean_stale_partials(tmp_path) == []  # not recursive: the stale one is in a subfolder
    assert clean_stale_partials(tmp_path, recursive=True) == [stale]
    assert live.exists() and not stale.exists() and lookalike.exists()
    with pytest.raises(ValueError):
        with partial_folder(tmp_path / "c.emoannot") as tmp:
            assert str(os.getpid()) in tmp.name
            assert (tmp / PARTIAL_MARK).read_text().strip() == tmp.name
            raise ValueError
    assert not list(tmp_path.glob(".c.emoannot*"))


def test_result_names_include_the_extension_and_disambiguate_collisions(tmp_path):
    from emoannot.outputs import output_folder, result_folders

    assert output_folder(Path("a/c.mp4"), tmp_path).name == "c.mp4.emoannot"
    folders = result_folders([Path("a/x.mp4"), Path("b/x.mp4"), Path("a/x.mov")], tmp_path)
    names = [f.name for f in folders]
    assert len(set(names)) == 3 and names[2] == "x.mov.emoannot"
    assert names[0].startswith("x.mp4-") and names[1].startswith("x.mp4-")
    assert result_folders([Path("b/x.mp4"), Path("a/x.mp4")], tmp_path)[1] == folders[0]  # stable


def test_file_identity_notices_a_replaced_file(tmp_path):
    import os

    from emoannot.hashing import file_identity

    f = tmp_path / "v.mp4"
    f.write_bytes(b"a" * 3_000_000)
    before = file_identity(f)
    assert file_identity(f) == before
    f.write_bytes(b"a" * 2_999_999 + b"b")  # same size, one byte changed at the end
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, before["mtime_ns"]))  # even with the old modification time
    assert file_identity(f)["sha256_ends"] != before["sha256_ends"]


def test_atomic_path_keeps_the_suffix_and_cleans_up(tmp_path):
    target = tmp_path / "sub" / "summary.csv"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".csv" and tmp.parent == target.parent and tmp != target
        tmp.write_text("x")
    assert target.read_text() == "x"
    with pytest.raises(KeyError):
        with atomic_path(target) as tmp:
            tmp.write_text("y")
            raise KeyError
    assert target.read_text() == "x" and [p.name for p in target.parent.iterdir()] == ["summary.csv"]
