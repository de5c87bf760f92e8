"""Training material (emoannot/train/): class weights, composites, sequences, class-point metrics."""

import numpy as np
import pytest



def test_balanced_weights_equalise_classes_and_boost_the_anchor():
    from emoannot.train.fit_heads import balanced_weights

    y = np.array([0] * 90 + [1] * 10 + [2] * 10)
    w = balanced_weights(y, {2: 2.0})
    assert w.sum() == pytest.approx(1.0)
    assert w[y == 0].sum() == pytest.approx(w[y == 1].sum()) and w[y == 2].sum() == pytest.approx(2 * w[y == 1].sum())


def test_calm_voice_samples_get_content_jittered_copies_and_emotional_ones_do_not():
    from pathlib import Path

    from emoannot.train.corpora import SPEECH_CLASSES, SpeechClip
    from emoannot.train.fit_heads import (NEUTRAL_JITTER_COPIES, SpeechFeatures, _audio_samples,
                                          _neutral_content_jitter)

    rng = np.random.default_rng(0)
    cats = ["neutral", "angry", "calm"]
    clips = [SpeechClip(Path(f"{c}.wav"), "ravdess", "ravdess01", c, 0.0, 0.0) for c in cats]
    lengths = [40, 30, 8]  # the calm clip is too short to give a 1-s deviation of its own
    ticks = np.concatenate([rng.normal(size=(n, 6)) + 5 * k for k, n in enumerate(lengths)]).astype(np.float32)
    sf = SpeechFeatures(clips, ticks, np.ones(len(ticks), bool), np.cumsum([0, *lengths]))
    x, va, cls = _audio_samples(sf, [0, 1, 2], 4, 0)
    xj, vaj, clsj = _neutral_content_jitter(sf, [0, 1, 2], x, va, cls, 0)

    calm = np.isin(cls, [SPEECH_CLASSES.index("neutral"), SPEECH_CLASSES.index("calm")])
    assert len(xj) == len(x) + NEUTRAL_JITTER_COPIES * calm.sum()
    np.testing.assert_array_equal(xj[: len(x)], x)  # the originals stay as they were
    added = clsj[len(x):]
    assert set(added) <= {SPEECH_CLASSES.index("neutral"), SPEECH_CLASSES.index("calm")}
    assert (added == SPEECH_CLASSES.index("angry")).sum() == 0
    # each copy is its sample moved by at most one within-clip deviation: far smaller than the 5-unit gap between
    # the clips, and not zero
    source = np.repeat(np.flatnonzero(calm), NEUTRAL_JITTER_COPIES)
    moves = np.linalg.norm(xj[len(x):] - x[source], axis=1)
    assert moves.max() < 2.5 and moves.mean() > 0.05
    np.testing.assert_array_equal(vaj[len(x):], va[source])


def _pool(rng, dv=4, da=3, dt=2):
    from emoannot.train.composites import CATEGORIES, Pool

    face_emb = {c: rng.normal(size=(5, dv)).astype(np.float32) for c in CATEGORIES}
    face_va = {c: np.zeros((5, 2), np.float32) for c in CATEGORIES}
    clips = {c: [(rng.normal(size=(20, da)).astype(np.float32), np.ones(20, bool), np.zeros((20, 2), np.float32))]
             for c in CATEGORIES}
    sents = {c: [(rng.normal(size=(6, dt)).astype(np.float32), np.zeros((6, 2), np.float32))] for c in CATEGORIES}
    return Pool(face_emb, face_va, clips, sents)


def test_composites_follow_the_face_and_leave_empty_segments_unlabelled():
    from emoannot.labels import va_point
    from emoannot.train.composites import CATEGORIES, compose

    pool = _pool(np.random.default_rng(0))
    w, present = compose(pool, 200, 100, seed=1, p_fast=1.0, p_mixed=1.0)
    points = {c: np.asarray(va_point(c), np.float32) for c in CATEGORIES}
    face_cat = {tuple(pool.face_emb[c][j]): c for c in CATEGORIES for j in range(5)}
    checked = 0
    for s in range(200):
        for t in range(100):
            if present[s, t, 0]:
                c = face_cat[tuple(w.visual[s, t, :4])]
                assert np.allclose(w.target[s, t], points[c])  # the target is what the face shows
                checked += 1
            if not present[s, max(0, t - 40) : t + 40].any():
                assert not w.label_mask[s, t]
    assert checked > 5000
    # short segments: the target changes often
    changes = (np.abs(np.diff(w.target[..., 0], axis=1)) > 0).sum(1)
    assert changes.mean() > 3


def test_faces_only_sequences_change_every_second():
    from emoannot.train.composites import faces_only

    w, present = faces_only(_pool(np.random.default_rng(2)), 4, 100, seed=3)
    assert present[..., 0].all() and not w.audio.any() and not w.text.any()
    assert (w.visual[:, :, -1] == 1).all()
    assert all((w.target[:, a : a + 10] == w.target[:, a : a + 1]).all() for a in range(0, 100, 10))


def test_class_point_metrics_report_distance_to_each_point():
    from emoannot.labels import va_point
    from emoannot.train.fit_heads import class_point_metrics

    classes = ["happy"] * 3 + ["neutral"] * 3
    pred = np.array([va_point("happy")] * 3 + [(0.1, 0.0)] * 3)
    m = class_point_metrics(pred, classes)
    assert m["per_class"]["happy"]["distance_to_point"] == pytest.approx(0.0, abs=1e-6)
    assert m["per_class"]["neutral"]["valence"] == pytest.approx(0.1)
    assert m["max_distance_to_point"] == pytest.approx(0.1)
