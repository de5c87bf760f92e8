import json
import shutil

import pytest
from typer.testing import CliRunner

from emoannot.cli import app
from emoannot.errors import WeightsError
from emoannot.model.weights import REQUIRED_PARTS, read_registry, resolve_set, sha256_of, weights_info

from helpers import EXAMPLE

runner = CliRunner()


@pytest.fixture()
def weights_copy(tmp_path):
    src = resolve_set("default")
    dst = tmp_path / "w"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return dst


def test_shipped_weights_are_complete_trained_and_verified():
    folder = resolve_set("default")
    reg = read_registry(folder)
    assert set(REQUIRED_PARTS) <= set(reg)
    for name in REQUIRED_PARTS:
        info = weights_info(folder, name)
        assert info.path.suffix == ".safetensors"
        assert sha256_of(info.path) == reg[name]["sha256"]
        assert info.card["trained"] and info.card["metrics"] and info.card["licences"]
    assert weights_info(folder, "expression_cnn").card["metrics"]["fer2013_test_accuracy"] > 0.5


def test_tampered_weights_are_refused(weights_copy, tmp_path):
    path = weights_copy / "rjcma.safetensors"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        weights_info(weights_copy, "rjcma")
    result = runner.invoke(app, ["predict", str(EXAMPLE), "--weights", str(weights_copy), "--out", str(tmp_path / "o")])
    assert result.exit_code == 4 and "sha256 mismatch" in result.output
    assert not (tmp_path / "o" / "1001_DFA_HAP_XX.flv.emoannot").exists()


def test_untrained_or_missing_weights_are_refused(weights_copy):
    card = json.loads((weights_copy / "text_head.json").read_text())
    card["trained"] = False
    (weights_copy / "text_head.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="not a trained model"):
        weights_info(weights_copy, "text_head")
    (weights_copy / "audio_head.safetensors").unlink()
    with pytest.raises(WeightsError, match="missing"):
        weights_info(weights_copy, "audio_head")
    with pytest.raises(WeightsError, match="no weights set"):
        resolve_set(weights_copy / "nowhere")


def test_models_command_lists_parts_and_checksums():
    import json

    from emoannot.model.weights import headline, resolve_set, weights_info

    result = runner.invoke(app, ["models"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in REQUIRED_PARTS:
        assert name in result.output
    assert "whisper" in result.output and "{" not in result.output  # a table of headlines, not raw JSON
    card = weights_info(resolve_set("default"), "rjcma").card
    accuracy = card["metrics"]["heldout_composites"]["categories"]["accuracy"]
    assert f"category accuracy (7) {accuracy:.3f}" in headline("rjcma", card)
    assert headline("rjcma", card).endswith(f"{card['members']} seeds averaged")  # the shipped fusion: an ensemble
    assert f"{accuracy:.3f}" in result.output  # the fusion rows carry their accuracy
    cards = json.loads(runner.invoke(app, ["models", "--json"]).output)
    assert cards["rjcma"]["metrics"]["heldout_composites"]["categories"]["accuracy"] == accuracy
