import numpy as np
import pytest
import torch

from emoannot.labels import CIRCUMPLEX, FACE_CLASSES, va_matrix, va_point
from emoannot.model.rjcma import RJCMA, TCN, RJCMAConfig, ccc


def test_circumplex_table_is_ordered_like_the_norms():
    assert va_point("neutral") == (0.0, 0.0)
    assert all(-1 <= v <= 1 and -1 <= a <= 1 for v, a in CIRCUMPLEX.values())
    assert va_point("happy")[0] > va_point("surprise")[0] > 0 > va_point("angry")[0] > va_point("sad")[0]
    assert va_point("angry")[1] > 0 > va_point("sad")[1] > va_point("calm")[1]
    assert va_point("happy", "low")[0] == pytest.approx(va_point("happy")[0] * 0.5)
    assert va_matrix(FACE_CLASSES).shape == (7, 2)


def test_ccc_matches_the_formula():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=500), rng.normal(size=500) * 0.5 + 0.3
    expected = 2 * np.cov(x, y, bias=True)[0, 1] / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    assert float(ccc(torch.tensor(x), torch.tensor(y))) == pytest.approx(expected, rel=1e-6)
    assert float(ccc(torch.tensor(x), torch.tensor(x))) == pytest.approx(1.0, abs=1e-6)


def test_tcn_is_causal_and_rjcma_shapes():
    torch.manual_seed(0)
    tcn = TCN(8, (16, 16, 16), 12, 5, 0.0).eval()
    x = torch.randn(2, 100, 8)
    y = tcn(x)
    x2 = x.clone()
    x2[:, 60:] = torch.randn(2, 40, 8)
    assert y.shape == (2, 100, 12)
    assert torch.allclose(tcn(x2)[:, :60], y[:, :60], atol=1e-5)  # the future does not leak into the past
    assert not torch.allclose(tcn(x2)[:, 60:], y[:, 60:])
    model = RJCMA(RJCMAConfig(in_dims=(10, 6, 4), out_dims=(16, 8, 8), channels=(16, 16, 16), window=100))
    out, logits = model(torch.randn(3, 100, 10), torch.randn(3, 100, 6), torch.randn(3, 100, 4))
    assert out.shape == (3, 100, 2) and out.abs().max() <= 1 and logits is None  # no classes: no category head
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    assert len(model.iterations) == 2
