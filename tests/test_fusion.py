"""Fusion over windows (emoannot/fusion.py): overlap-averaging, short clips, the input layout."""

import numpy as np
import torch

from emoannot.records import (ModalityFeatures)


def _tiny_rjcma(window=20):
    from emoannot.model.rjcma import RJCMA, RJCMAConfig

    torch.manual_seed(0)
    return RJCMA(RJCMAConfig(in_dims=(5, 6, 7), out_dims=(4, 4, 4), channels=(4,), window=window, iterations=1,
                             head_hidden=8, classes=("a", "b", "c"))).eval()


def _feats(k, rng):
    out = []
    for name, d in (("visual", 2), ("audio", 3), ("text", 4)):
        mask = rng.random(k) > 0.3
        out.append(ModalityFeatures(name, np.where(mask[:, None], rng.normal(size=(k, d)), 0).astype(np.float32),
                                    mask, np.where(mask[:, None], rng.uniform(-1, 1, (k, 2)), np.nan).astype(np.float32)))
    return tuple(out)


def test_fuse_averages_overlapping_windows_exactly():
    from emoannot.features import fusion_input
    from emoannot.fusion import fuse
    from emoannot.timeline import window_starts

    model, rng = _tiny_rjcma(20), np.random.default_rng(0)
    feats = _feats(47, rng)
    got, probs = fuse(model, feats, hop=10)
    inputs = [torch.from_numpy(fusion_input(f)) for f in feats]
    total, count, ptotal = np.zeros((47, 2)), np.zeros(47), np.zeros((47, 3))
    with torch.no_grad():
        for s in window_starts(47, 20, 10):
            va, logits = model(*(x[None, s : s + 20] for x in inputs))
            total[s : s + 20] += va[0].numpy()
            ptotal[s : s + 20] += logits[0].softmax(-1).numpy()
            count[s : s + 20] += 1
    assert got.shape == (47, 2) and probs.shape == (47, 3)
    assert np.allclose(got, total / count[:, None], atol=1e-5)
    assert np.allclose(probs, ptotal / count[:, None], atol=1e-5) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_fuse_pads_a_clip_shorter_than_a_window():
    from emoannot.fusion import fuse

    model, rng = _tiny_rjcma(20), np.random.default_rng(1)
    feats = _feats(7, rng)
    got, _ = fuse(model, feats)
    # causal TCN: the padding after the clip cannot change the clip's own ticks... except through attention,
    # which sees the whole window; so compare with an explicit zero-padded window
    from emoannot.features import fusion_input

    padded = [torch.from_numpy(np.pad(fusion_input(f), ((0, 13), (0, 0))))[None] for f in feats]
    with torch.no_grad():
        want = model(*padded)[0][0, :7].numpy()
    assert got.shape == (7, 2) and np.allclose(got, want, atol=1e-6)


def test_fusion_input_layout():
    from emoannot.features import fit_ticks, fusion_input

    f = _feats(5, np.random.default_rng(2))[1]
    x = fusion_input(f)
    assert x.shape == (5, 3 + 3)
    assert (x[:, -1] == f.mask).all() and (x[~f.mask, 3:5] == 0).all()
    assert fit_ticks(x, 3).shape == (3, 6) and fit_ticks(x, 8)[5:].sum() == 0
