import numpy as np
import pytest
from typer.testing import CliRunner

from emoannot.cli import app
from emoannot.evaluate import ccc, evaluate

runner = CliRunner()


def write_txt(path, va):
    lines = ["valence,arousal"] + [f"{v},{a}" for v, a in va]
    path.write_text("\n".join(lines) + "\n")


def test_evaluate_skips_unannotated_frames_and_scores(tmp_path):
    rng = np.random.default_rng(1)
    gt = rng.uniform(-1, 1, size=(300, 2))
    gt[:40] = -5
    pred = gt.copy()
    pred[:40] = rng.uniform(-1, 1, size=(40, 2))  # wrong only where unannotated: must not count
    write_txt(tmp_path / "gt.txt", gt)
    pd_ = tmp_path / "pred.csv"
    pd_.write_text("frame,valence,arousal\n" + "\n".join(f"{i},{v},{a}" for i, (v, a) in enumerate(pred)))
    pooled, per, missing = evaluate(pd_, tmp_path / "gt.txt")
    assert pooled.n_frames == 260
    assert pooled.ccc == pytest.approx((1.0, 1.0))
    assert pooled.rmse == pytest.approx((0.0, 0.0), abs=1e-9)
    noisy = gt.copy()
    noisy[40:] += rng.normal(0, 0.3, size=(260, 2))
    write_txt(tmp_path / "noisy.txt", noisy)
    pooled, _, _ = evaluate(tmp_path / "noisy.txt", tmp_path / "gt.txt")
    x, y = noisy[40:, 0], gt[40:, 0]
    assert pooled.ccc[0] == pytest.approx(ccc(x, y)) and 0.5 < pooled.ccc[0] < 0.95
    assert pooled.pearson[0] == pytest.approx(np.corrcoef(x, y)[0, 1])


def test_evaluate_folders_through_the_cli(tmp_path):
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    gt_dir.mkdir(), pred_dir.mkdir()
    rng = np.random.default_rng(2)
    for stem in ("a", "b", "c"):
        gt = rng.uniform(-1, 1, size=(100, 2))
        write_txt(gt_dir / f"{stem}.txt", gt)
        if stem != "c":
            write_txt(pred_dir / f"{stem}.txt", gt * 0.5)
    out = tmp_path / "scores.json"
    result = runner.invoke(app, ["evaluate", str(pred_dir), str(gt_dir), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "no prediction for 1" in result.output
    import json

    scores = json.loads(out.read_text())
    assert set(scores["videos"]) == {"a", "b"} and scores["missing"] == ["c"]
    assert scores["pooled"]["pearson"][0] == pytest.approx(1.0)
    assert scores["pooled"]["ccc"][0] < 0.95


def test_a_constant_column_has_no_correlation_and_the_table_says_so(tmp_path):
    rng = np.random.default_rng(3)
    gt = rng.uniform(-1, 1, size=(100, 2))
    pred = gt.copy()
    pred[:, 1] = 0.1 + rng.normal(0, 1e-12, 100)  # arousal constant but for float noise
    write_txt(tmp_path / "gt.txt", gt)
    write_txt(tmp_path / "pred.txt", pred)
    result = runner.invoke(app, ["evaluate", str(tmp_path / "pred.txt"), str(tmp_path / "gt.txt")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "n/a" in result.output and "nan" not in result.output and "does not vary" in result.output
    pooled, _, _ = evaluate(tmp_path / "pred.txt", tmp_path / "gt.txt")
    assert np.isnan(pooled.pearson[1]) and pooled.pearson[0] == pytest.approx(1.0)


def _commit_run(folder, stem, va, write_affwild2, tmp_path):
    """Write a result folder the way predict does (staged files, then commit_folder with its manifest)."""
    from emoannot.outputs import commit_folder

    staged = tmp_path / f"staged-{len(list(tmp_path.iterdir()))}"
    staged.mkdir()
    names = {"csv": f"{stem}.csv", "manifest": "manifest.json"}
    (staged / names["csv"]).write_text("frame,valence,arousal\n" + "\n".join(
        f"{i},{v},{a}" for i, (v, a) in enumerate(va)) + "\n")
    if write_affwild2:
        names["affwild2"] = f"{stem}.affwild2.txt"
        write_txt(staged / names["affwild2"], va)
    commit_folder(staged, folder, names, {"outputs": {k: n for k, n in names.items()}})


def test_evaluate_scores_the_latest_run_not_a_file_kept_from_an_earlier_one(tmp_path):
    """Issue 28.2: predict --format affwild2, then predict with other settings into the same --out: the
    txt is kept from the first run, the CSV is the latest; evaluate must score the CSV (CCC 1 against
    itself), not the stale txt."""
    rng = np.random.default_rng(3)
    first, latest = rng.uniform(-1, 1, (200, 2)), rng.uniform(-1, 1, (200, 2))
    out, gt_dir = tmp_path / "out", tmp_path / "gt"
    out.mkdir(), gt_dir.mkdir()
    folder = out / "talk.mp4.emoannot"
    _commit_run(folder, "talk", first, True, tmp_path)
    _commit_run(folder, "talk", latest, False, tmp_path)
    import json
    assert "talk.affwild2.txt" in json.loads((folder / "manifest.json").read_text())["kept_from_earlier_runs"].values()
    write_txt(gt_dir / "talk.txt", latest)
    pooled, per, missing = evaluate(out, gt_dir)
    assert pooled.ccc == pytest.approx((1.0, 1.0)) and not missing
    # a single ground-truth file against the result folder's parent: the same choice
    pooled, _, _ = evaluate(out, gt_dir / "talk.txt")
    assert pooled.ccc == pytest.approx((1.0, 1.0))
    # the stale file given by name is still scored (the user asked for it), with a note that says so
    notes = []
    pooled, _, _ = evaluate(folder / "talk.affwild2.txt", gt_dir / "talk.txt", notes=notes)
    assert pooled.ccc[0] < 0.5 and len(notes) == 1 and "earlier run" in notes[0] and "talk.csv" in notes[0]
    # an incomplete result (a run that stopped while writing) is refused, not scored
    m = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**m, "complete": False}))
    from emoannot.errors import DataError
    with pytest.raises(DataError, match="incomplete"):
        evaluate(out, gt_dir)
