"""The metrics against their formulas (emoannot/metrics.py)."""

import numpy as np
import pytest

from emoannot.metrics import ccc, pearson, rmse


def test_metrics_match_their_formulas():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=200), rng.normal(size=200) * 0.5 + 0.2
    want = 2 * np.cov(x, y, bias=True)[0, 1] / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    assert ccc(x, y) == pytest.approx(want) and ccc(x, x) == pytest.approx(1.0)
    assert pearson(x, 2 * x + 1) == pytest.approx(1.0) and np.isnan(pearson(x, np.ones(200)))
    assert rmse(x, x + 0.5) == pytest.approx(0.5)
    assert np.isnan(ccc(x[:1], y[:1]))
