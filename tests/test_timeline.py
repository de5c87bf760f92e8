"""The time grid (emoannot.timeline): one convention, tick k covers [k/10, (k+1)/10) and stands at its centre."""
import numpy as np
import pytest

from emoannot.records import Segment
from emoannot.timeline import (MODEL_FPS, n_ticks, segments_to_mask, tick_of_time, tick_times, ticks_to_frames,
                               video_ticks, window_starts)


def test_n_ticks_covers_the_duration():
    assert MODEL_FPS == 10
    assert n_ticks(0) == 1 and n_ticks(0.05) == 1 and n_ticks(0.1) == 1
    assert n_ticks(0.1001) == 2 and n_ticks(1.935) == 20 and n_ticks(10.0) == 100


def test_tick_of_time_is_the_interval_holding_the_time():
    assert tick_of_time(0.0) == 0 and tick_of_time(0.0999) == 0 and tick_of_time(0.1) == 1
    assert tick_of_time(0.3) == 3  # 0.3 * 10 is 2.9999999999999996 in floating point
    t = np.array([0.0, 0.149, 0.15, 0.95, 5.0])
    assert tick_of_time(t).tolist() == [0, 1, 1, 9, 50]
    assert tick_of_time(t, 10).tolist() == [0, 1, 1, 9, 9]  # clipped to the last tick
    assert tick_of_time(-0.5) == 0


def test_tick_times_are_the_centres_and_map_back_to_their_tick():
    c = tick_times(5)
    assert c == pytest.approx([0.05, 0.15, 0.25, 0.35, 0.45])
    assert tick_of_time(c).tolist() == list(range(5))


def test_segments_to_mask_for_ticks_and_frames():
    segs = (Segment(0.12, 0.31), Segment(0.9, 1.0))
    ticks = segments_to_mask(segs, tick_times(12))
    # centres 0.15, 0.25 lie in the first segment; 0.95 in the second
    assert np.flatnonzero(ticks).tolist() == [1, 2, 9]
    frames = np.arange(0, 1.2, 1 / 30)
    m = segments_to_mask(segs, frames)
    assert (m == (((frames >= 0.12) & (frames < 0.31)) | ((frames >= 0.9) & (frames < 1.0)))).all()
    assert not segments_to_mask((), frames).any()


def test_ticks_to_frames_interpolates_between_tick_centres():
    values = np.array([0.0, 1.0, 0.0])
    frames = np.array([0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.29])
    out = ticks_to_frames(frames, values)
    assert out == pytest.approx([0.0, 0.0, 0.5, 1.0, 0.5, 0.0, 0.0], abs=1e-6)
    assert ticks_to_frames(frames, np.zeros(0)).shape == (7,) and np.isnan(ticks_to_frames(frames, np.zeros(0))).all()


def test_window_starts_cover_every_tick_and_end_at_the_last():
    assert window_starts(50, 100, 50) == [0]
    assert window_starts(100, 100, 50) == [0]
    assert window_starts(230, 100, 50) == [0, 50, 100, 130]
    for k in (101, 149, 150, 999):
        s = window_starts(k, 100, 50)
        covered = np.zeros(k, bool)
        for a in s:
            covered[a : a + 100] = True
        assert covered.all() and s[-1] == k - 100 and s == sorted(set(s))


def test_video_ticks_cover_the_decoded_frames():
    frames = np.arange(192) / 24.0  # 8 s at 24 fps
    assert video_ticks(frames) == 80
    assert video_ticks(frames[:100]) == 42  # 100 frames end at 4.1667 s
    assert video_ticks(np.zeros(0)) == 1 and video_ticks(np.zeros(1)) == 1


def test_within_dilates_evidence_by_one_second():
    from emoannot.timeline import within

    m = np.zeros(50, bool)
    m[20] = True
    out = within(m, 1.0)
    assert np.flatnonzero(out).tolist() == list(range(10, 31))
    assert not within(np.zeros(5, bool), 1.0).any()
