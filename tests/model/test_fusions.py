"""The three fusions (RJCMA, CFN-SR, Foal-Net) and the emotion categories: the modules, their losses, the
composites' category labels, the outputs with tiny random weights on a real clip (plumbing), and the
shipped weights' categories on real clips (behaviour)."""
import json

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

import emoannot
from emoannot.cli import app
from emoannot.config import Fusion
from emoannot.labels import FACE_CLASSES
from emoannot.model.fusions import build, config_class
from emoannot.records import CSV_COLUMNS

from helpers import CREMA, EXAMPLE, need

runner = CliRunner()
DIMS = (6 + 3, 5 + 3, 4 + 3)


def _tiny(fusion, classes=("a", "b", "c"), window=20):
    small = {Fusion.rjcma: dict(out_dims=(8, 8, 8), channels=(8,), iterations=1, head_hidden=16),
             Fusion.cfn_sr: dict(dim=16, heads=2, conv_layers=1, blocks=1, ff=16, head_hidden=16, dropout=0.0),
             Fusion.foal_net: dict(dim=16, heads=2, conv_layers=1, ff=16, align_dim=8, head_hidden=16, dropout=0.0)}
    torch.manual_seed(0)
    return build(fusion, config_class(fusion)(in_dims=DIMS, window=window, classes=classes, **small[fusion]).to_dict())


def _inputs(b, length, present=(True, True, True), seed=0):
    g = torch.Generator().manual_seed(seed)
    xs = []
    for d, on in zip(DIMS, present):
        x = torch.randn(b, length, d, generator=g)
        x[..., -1] = float(on)
        x[..., : d - 1] *= float(on)
        xs.append(x)
    return xs


@pytest.mark.parametrize("fusion", list(Fusion))
def test_every_fusion_gives_bounded_values_and_category_logits_even_with_modalities_missing(fusion):
    model = _tiny(fusion).eval()
    for present in ((True, True, True), (True, False, False), (False, True, True), (False, False, False)):
        va, logits = model(*_inputs(2, 20, present))
        assert va.shape == (2, 20, 2) and logits.shape == (2, 20, 3)
        assert torch.isfinite(va).all() and torch.isfinite(logits).all() and va.abs().max() <= 1


@pytest.mark.slow  # real training (a few hundred steps each): 5-7 s per fusion, kept out of the fast tier
@pytest.mark.parametrize("fusion", list(Fusion))
def test_every_fusion_learns_a_category_carried_by_the_face(fusion):
    """A few hundred steps on sequences whose face feature encodes the category: well above chance (1/3)."""
    from emoannot.train.fit_fusion import FusionTrainConfig, Windows, _categories, _tensors, fusion_loss, score

    rng = np.random.default_rng(0)

    def windows(n):
        vis, aud, txt = (rng.normal(size=(n, 20, d)).astype(np.float32) * 0.3 for d in DIMS)
        cat = rng.integers(0, 3, size=(n, 2)).repeat(10, axis=1)  # two 1 s segments
        vis[..., 0] += np.eye(3)[cat][..., 0] * 2 - np.eye(3)[cat][..., 1] * 2
        vis[..., 1] += np.eye(3)[cat][..., 2] * 2
        for x in (vis, aud, txt):
            x[..., -1] = 1.0
        target = np.array([[0.8, 0.5], [-0.6, 0.4], [0.0, 0.0]], np.float32)[cat]
        return Windows(vis, aud, txt, target, np.ones((n, 20), bool), cat, cat.copy(), cat.copy())

    train, val = windows(256), windows(64)
    model = _tiny(fusion)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for step in range(150):
        part = train.subset(rng.integers(0, len(train), 32))
        model.train()
        loss = fusion_loss(model, _tensors(part, "cpu"), _categories(part, "cpu"), FusionTrainConfig(), gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    from emoannot.train.fit_fusion import predict_windows

    s = score(predict_windows(model, val), val)
    assert s["accuracy"] > 0.8 and s["macro_f1"] > 0.8 and s["ccc_valence"] > 0.5


def test_an_ensemble_of_fusions_reads_as_the_mean_of_its_members_and_loads_from_its_card(tmp_path):
    """FusionEnsemble (the shipped RJCMA: several seeds): valence/arousal is the members' mean, the category
    probabilities their mean; a part written with "members" in its card loads back as the same ensemble
    (the tensors checked against the card), and a card that does not say so is refused."""
    from emoannot.errors import WeightsError
    from emoannot.model.fusions import FusionEnsemble, members_of
    from emoannot.model.weights import load_state, write_weights, write_tiny
    from emoannot.models import load_fusion

    cfg = config_class(Fusion.rjcma)(in_dims=DIMS, window=20, classes=("a", "b", "c"), out_dims=(8, 8, 8),
                                     channels=(8,), iterations=1, head_hidden=16)
    torch.manual_seed(0)
    ens = build(Fusion.rjcma, cfg.to_dict(), members=3).eval()
    assert isinstance(ens, FusionEnsemble) and len(members_of(ens)) == 3 and ens.cfg.window == 20
    xs = _inputs(2, 20)
    with torch.no_grad():
        va, logits = ens(*xs)
        outs = [m(*xs) for m in members_of(ens)]
    assert torch.allclose(va, torch.stack([o[0] for o in outs]).mean(0))
    assert torch.allclose(logits.exp(), torch.stack([o[1].softmax(-1) for o in outs]).mean(0), atol=1e-6)
    assert not torch.allclose(outs[0][0], outs[1][0])  # members differ: their average is not one of them
    folder = write_tiny(tmp_path / "set")
    card = {"config": cfg.to_dict(), "classes": ["a", "b", "c"], "members": 3, "metrics": {"note": "random"}}
    write_weights(folder, "rjcma", ens.state_dict(), card)
    loaded, info = load_fusion(folder, Fusion.rjcma)
    assert isinstance(loaded, FusionEnsemble) and info.card["members"] == 3
    with torch.no_grad():
        assert torch.equal(loaded(*xs)[0], va)
    write_weights(folder, "rjcma", ens.state_dict(), {k: v for k, v in card.items() if k != "members"})
    with pytest.raises(WeightsError, match="does not match the configuration in its card"):
        load_state(folder, "rjcma")


def test_foal_net_losses_reward_alignment_and_matching():
    from emoannot.model.foalnet import alignment_loss, matching_loss

    cats = torch.tensor([[0, 1, 2, 0, 1, 2]])
    basis = torch.eye(3)
    aligned = {"z_face": basis[cats], "z_voice": basis[cats], "match": torch.full((1, 6), 5.0)}
    crossed = {"z_face": basis[cats], "z_voice": basis[(cats + 1) % 3], "match": torch.full((1, 6), -5.0)}
    assert alignment_loss(aligned, cats, cats) < alignment_loss(crossed, cats, cats) - 1
    assert matching_loss(aligned, cats, cats) < 0.01 < matching_loss(crossed, cats, cats)
    absent = torch.full_like(cats, -1)  # no pair with both present: no loss, no NaN
    assert alignment_loss(aligned, cats, absent).item() == 0 and matching_loss(aligned, absent, cats).item() == 0


def test_composites_label_each_tick_with_the_face_else_the_voice():
    from emoannot.train.composites import CATEGORIES, Pool, compose

    rng = np.random.default_rng(0)
    cats = list(CATEGORIES)
    pool = Pool(face_emb={c: rng.normal(size=(5, 4)).astype(np.float32) for c in cats},
                face_va={c: np.zeros((5, 2), np.float32) for c in cats},
                clips={c: ([] if c == "surprise" else [(np.ones((30, 3), np.float32), np.ones(30, bool),
                                                         np.zeros((30, 2), np.float32))]) for c in cats},
                sentences={c: [(np.ones((6, 2), np.float32), np.zeros((6, 2), np.float32))] for c in cats})
    w, present = compose(pool, 40, 100, seed=1)
    face, voice = present[..., 0], present[..., 1]
    assert (w.face_cat[face] >= 0).all() and (w.face_cat[~face] == -1).all()
    assert (w.voice_cat[voice] >= 0).all() and (w.voice_cat[~voice] == -1).all()
    assert (w.category[face] == w.face_cat[face]).all()  # the face decides where there is one
    only_voice = voice & ~face
    assert only_voice.any() and (w.category[only_voice] == w.voice_cat[only_voice]).all()
    assert (w.category[~w.label_mask] == -1).all() and (w.category[w.label_mask] >= 0).all()
    surprise = CATEGORIES.index("surprise")
    assert (w.face_cat == surprise).any() and not (w.voice_cat == surprise).any()  # no surprise clips: silent
    mixed = face & voice & (w.face_cat != w.voice_cat)
    assert mixed.any()  # mismatched face/voice pairs exist (Foal-Net's label matching needs them)


@pytest.mark.slow  # the clip has speech: whisper and MiniLM load
@pytest.mark.parametrize("fusion", list(Fusion))
def test_each_fusion_writes_an_emotion_column_on_a_real_clip(fusion, tiny_weights, tmp_path):
    """Plumbing with random weights on the example clip (speech, words and a face): the emotion column,
    p_<class> columns that sum to 1, empty exactly where valence is empty, the manifest names the fusion."""
    with emoannot.load(device="cpu", weights=str(tiny_weights), fusion=fusion, extra_columns=True) as engine:
        a, paths = emoannot.predict(EXAMPLE, engine, tmp_path)
    df = pd.read_csv(paths.csv, keep_default_na=False, na_values=[""])
    assert tuple(df.columns[: len(CSV_COLUMNS)]) == CSV_COLUMNS
    probs = df[[f"p_{c}" for c in FACE_CLASSES]]
    has = df["valence"].notna()
    assert has.any()
    assert set(df.loc[has, "emotion"]) <= set(FACE_CLASSES) and df.loc[~has, "emotion"].isna().all()
    assert np.allclose(probs[has].sum(axis=1), 1, atol=2e-3) and probs[~has].isna().all().all()
    # the emotion is the most probable class (the CSV rounds the probabilities: a tie there is no mismatch)
    p = probs[has].to_numpy()
    chosen = p[np.arange(len(p)), [FACE_CLASSES.index(e) for e in df.loc[has, "emotion"]]]
    assert (chosen == p.max(1)).all()
    manifest = json.loads(paths.manifest.read_text())
    assert manifest["fusion"] == fusion.value and manifest["emotion_classes"] == list(FACE_CLASSES)
    assert abs(sum(manifest["emotion_share"].values()) - 1) < 1e-3
    assert fusion.part in {m["name"] for m in manifest["models"]}


def test_cli_fusion_option_and_a_missing_fusion_part(tiny_weights, tmp_path, silent_video):
    import shutil

    result = runner.invoke(app, ["predict", str(silent_video), "--out", str(tmp_path / "a"), "--weights",
                                 str(tiny_weights), "--fusion", "foal-net", "--device", "cpu", "--quiet", "--no-plot"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(tmp_path / "a" / "silent.mp4.emoannot" / "silent.csv", keep_default_na=False, na_values=[""])
    assert df["emotion"].notna().mean() > 0.9  # a face in nearly every frame: a category there
    partial = tmp_path / "partial-weights"
    shutil.copytree(tiny_weights, partial)
    registry = json.loads((partial / "registry.json").read_text())
    del registry["cfn_sr"]
    (partial / "registry.json").write_text(json.dumps(registry))
    result = runner.invoke(app, ["predict", str(silent_video), "--out", str(tmp_path / "b"), "--weights", str(partial),
                                 "--fusion", "cfn-sr", "--device", "cpu", "--quiet"])
    assert result.exit_code != 0 and "cfn_sr" in result.output and "emoannot train" in result.output
    assert not (tmp_path / "b" / "silent.mp4.emoannot").exists()
    result = runner.invoke(app, ["predict", str(silent_video), "--fusion", "mlp"])
    assert result.exit_code == 2 and "mlp" in result.output


def test_plot_draws_the_emotion_band(tiny_weights, tmp_path):
    """The band under the timeline is drawn in the category colours (pixels of the happy/neutral/... colours)."""
    import matplotlib.image as mpimg

    from emoannot.outputs import EMOTION_COLOURS
    from emoannot.outputs.plot import plot_tables

    t = np.arange(100) / 10
    df = pd.DataFrame({"time_s": t, "valence": np.where(t < 5, 0.6, -0.5), "arousal": 0.1, "face": 1, "speech": 0,
                       "word": "", "emotion": np.where(t < 5, "happy", "sad")})
    df.loc[90:, ["valence", "arousal", "emotion"]] = [np.nan, np.nan, ""]
    plot_tables([df], ["x"], tmp_path / "p.png")
    img = (mpimg.imread(tmp_path / "p.png")[..., :3] * 255).round().astype(int)

    def count(hex_colour):
        rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(img - rgb).sum(-1) <= 6).sum())

    assert count(EMOTION_COLOURS["happy"]) > 500 and count(EMOTION_COLOURS["sad"]) > 500
    assert count(EMOTION_COLOURS["angry"]) == 0


# ------------------------------------------------------------------ shipped weights on real clips
@pytest.mark.slow
@pytest.mark.parametrize("fusion", list(Fusion))
def test_shipped_fusions_name_the_happy_crema_clip_happy(fusion, tmp_path):
    """Behaviour of the shipped weights (every fusion) on real clips with speech: the happy CREMA-D clip's
    most frequent category is happy, and its neutral clip is not called happy."""
    need(CREMA / "1001_DFA_NEU_XX.flv")
    with emoannot.load(device="cpu", fusion=fusion) as engine:
        happy = emoannot.annotate(EXAMPLE, engine)
        neutral = emoannot.annotate(CREMA / "1001_DFA_NEU_XX.flv", engine)
    for a in (happy, neutral):
        assert a.classes == FACE_CLASSES
    from collections import Counter

    top = Counter(e for e in happy.emotion if e).most_common(1)[0][0]
    assert top == "happy"
    assert Counter(e for e in neutral.emotion if e).most_common(1)[0][0] != "happy"
