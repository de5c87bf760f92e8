"""Agreement between predicted and annotated valence/arousal (numpy; the training loss has its torch twin
in model/rjcma.ccc)."""
from __future__ import annotations

import numpy as np


def ccc(x: np.ndarray, y: np.ndarray) -> float:
    """Concordance correlation coefficient (Lin 1989); NaN for fewer than two pairs."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2:
        return float("nan")
    mx, my = x.mean(), y.mean()
    return float(2 * ((x - mx) * (y - my)).mean() / (x.var() + y.var() + (mx - my) ** 2 + 1e-12))


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r; NaN when either series is constant (to within rounding: 1e-9, well below the 1e-4 steps of
    the CSVs, so a column written as one value is constant however its float parses)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 or np.ptp(x) < 1e-9 or np.ptp(y) < 1e-9:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def rmse(x: np.ndarray, y: np.ndarray) -> float:
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.sqrt(((x - y) ** 2).mean())) if len(x) else float("nan")


def macro_f1(truth: np.ndarray, guess: np.ndarray, n_classes: int) -> float:
    """Unweighted mean of the per-class F1 over the classes present in `truth` or `guess`."""
    truth, guess = np.asarray(truth), np.asarray(guess)
    scores = []
    for c in range(n_classes):
        tp = int(((truth == c) & (guess == c)).sum())
        fp, fn = int(((truth != c) & (guess == c)).sum()), int(((truth == c) & (guess != c)).sum())
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else float("nan")
