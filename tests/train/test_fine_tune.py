"""Fine-tuning a fusion (emoannot/train/fit_fusion.py with init_state; `train --init`): the starting weights
count as epoch 0, training stops early when the held-out windows do not improve, and a progress hook hears
each epoch. Tiny synthetic windows: seconds."""
import numpy as np
import torch

from emoannot.model.fusions import build
from emoannot.model.rjcma import RJCMAConfig
from emoannot.train.fit_fusion import FusionTrainConfig, Windows, train_fusion


def _windows(n, rng, shift=0.0):
    visual = rng.normal(size=(n, 100, 10)).astype(np.float32)
    z = np.zeros((n, 100, 10), np.float32)
    va = np.tanh(visual[..., :2]) * 0.5 + shift  # a learnable target carried by the face
    return Windows(visual, z, z, va.astype(np.float32), np.ones((n, 100), bool))


def test_fine_tuning_keeps_the_start_when_it_is_best_and_stops_early(tmp_path):
    rng = np.random.default_rng(0)
    cfg = RJCMAConfig(in_dims=(10, 10, 10), out_dims=(4, 4, 4), channels=(4,), window=100, iterations=1,
                      head_hidden=4)
    torch.manual_seed(0)
    start = build("rjcma", cfg.to_dict()).state_dict()
    train, val = _windows(8, rng), _windows(4, rng)
    events = []
    # a learning rate far too high: no epoch beats the starting weights, so the run stops after early_stop
    # epochs and keeps them
    model, meta = train_fusion("rjcma", cfg, lambda e: train, val, tmp_path / "a",
                               FusionTrainConfig(epochs=20, batch_size=4, lr=50.0, warmup_epochs=0, early_stop=2),
                               log=lambda s: None, init_state=start, hook=lambda *a, **k: events.append(k))
    assert len(meta["history"]) == 2
    assert all(torch.equal(model.state_dict()[k], v) for k, v in start.items())
    assert [e["completed"] for e in events] == [1, 2, 20] and all(e["total"] == 20 for e in events)
    # a real learning rate on a learnable target: later epochs beat the start and are kept
    model, meta = train_fusion("rjcma", cfg, lambda e: train, val, tmp_path / "b",
                               FusionTrainConfig(epochs=6, batch_size=4, lr=3e-3, warmup_epochs=0, early_stop=3),
                               log=lambda s: None, init_state=start)
    assert meta["best_val"] > -1e9 and any(not torch.equal(model.state_dict()[k], v) for k, v in start.items())
