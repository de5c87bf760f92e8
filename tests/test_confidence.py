"""The confidence column (emoannot/confidence.py)."""

import numpy as np
import pytest



def test_confidence_is_certainty_times_agreement_times_closeness_to_evidence():
    from emoannot.confidence import disagreement, emotion_p, frame_confidence

    n = 50
    times = np.arange(n) / 10  # 10 fps: frame i at i / 10 s
    valence = np.full(n, 0.2, np.float32)
    valence[45:] = np.nan  # beyond the evidence
    sources = tuple(["face+voice"] * 30 + [""] * 20)  # evidence ends after frame 29
    probs = np.full((n, 4), 0.1, np.float32)
    probs[:, 0] = 0.7  # p = 0.7 over 4 classes: certainty (0.7 - 0.25) / 0.75 = 0.6
    vv, va = np.full(n, 0.5, np.float32), np.full(n, 0.5, np.float32)
    va[10:20] = -0.5  # face and voice 1.0 apart: agreement 0.5
    conf = frame_confidence(times, valence, sources, {"valence_visual": vv, "valence_audio": va}, probs)
    assert conf[:10] == pytest.approx(0.6) and conf[10:20] == pytest.approx(0.3)
    assert conf[34] == pytest.approx(0.6 * 0.5, abs=1e-5)  # 0.5 s from the last evidence (frame 29)
    assert conf[39] == pytest.approx(0.0, abs=1e-6) and np.isnan(conf[45:]).all()
    assert emotion_p(probs, n)[0] == pytest.approx(0.7) and np.isnan(emotion_p(None, 3)).all()
    no_voice = {"valence_visual": vv, "valence_audio": np.full(n, np.nan)}  # nothing to disagree with
    assert frame_confidence(times, valence, sources, no_voice, None)[:30] == pytest.approx(1.0)
    assert disagreement(times, {"valence_visual": vv, "valence_audio": va}) is None  # 10 of 50 frames
    va[:40] = -0.6
    assert "disagree on valence" in disagreement(times, {"valence_visual": vv, "valence_audio": va})
