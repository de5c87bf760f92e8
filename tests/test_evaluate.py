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
