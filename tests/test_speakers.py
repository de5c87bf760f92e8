"""Who speaks (emoannot/speakers.py): the Viterbi path, the mouth in step with the voice, window syncs."""

import numpy as np

from emoannot.records import (Segment)


def test_viterbi_pays_for_a_change_of_speaker_only_when_the_evidence_lasts():
    from emoannot.speakers import viterbi

    # state 1 is better by 0.5 for one step, then state 0 again: a blip, not worth a change costing 1.0
    blip = np.array([[1.0, 0.0]] * 3 + [[0.0, 0.5]] + [[1.0, 0.0]] * 3)
    assert viterbi(blip, np.full(6, 1.0)).tolist() == [0] * 7
    # the same blip where changes are free (a pause): it is followed
    assert viterbi(blip, np.zeros(6)).tolist() == [0, 0, 0, 1, 0, 0, 0]
    # a lasting turn pays for its two changes
    turn = np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 4)
    assert viterbi(turn, np.full(6, 1.0)).tolist() == [0, 0, 0, 1, 1, 1, 1]
    # an impossible state (an unseen person) is never chosen, whatever it would have scored
    gone = np.array([[1.0, 0.0, 0.05], [-np.inf, 5.0, 0.05], [1.0, 0.0, 0.05]])
    assert 0 not in viterbi(gone, np.full(2, 10.0))[1:2]


def test_speaker_follows_the_mouth_in_step_with_the_voice_and_no_still_mouth():
    """Mouth series made from the loudness itself (in step), from another stretch of it (out of step) and a
    still one: the voice goes to the one in step, turn by turn, never to the still mouth."""
    from emoannot.faces import empty_track
    from emoannot.records import Person
    from emoannot.speakers import ENERGY_RATE, attribute, energy_track
    from emoannot.timeline import tick_times

    rng = np.random.default_rng(0)
    rate, seconds, fps = 16000, 16.0, 25
    # speech-like loudness: noise bursts of 0.1-0.3 s with gaps, the envelope changing at syllable rate
    env = np.repeat(rng.uniform(0.05, 1.0, int(seconds * 5)) * (rng.random(int(seconds * 5)) > 0.3), rate // 5)
    audio = (rng.standard_normal(len(env)) * env).astype(np.float32)
    energy = energy_track(audio, rate)
    times = np.arange(int(seconds * fps)) / fps
    loud = energy[np.clip(np.round(times * ENERGY_RATE).astype(int), 0, len(energy) - 1)]
    in_step = (loud - loud.min()).astype(np.float32)
    out_of_step = np.roll(in_step, 37 * fps // 10)  # 3.7 s away
    first = times < 8.0  # A moves with the voice for 8 s, then B
    a = np.where(first, in_step, out_of_step).astype(np.float32)
    b = np.where(first, out_of_step, in_step).astype(np.float32)
    still = np.full(len(times), 0.001, np.float32)
    track = empty_track(times)
    people = tuple(Person(i + 1, track, m) for i, m in enumerate((a, b, still)))
    k = len(tick_times(int(seconds * 10)))
    out = attribute(people, (Segment(0.0, seconds),), times, energy, k)
    t = tick_times(k)
    assert out[1][t < 7.0].mean() > 0.9 and out[2][t > 9.0].mean() > 0.9
    assert not out[3].any()
    assert not (out[1] & out[2]).any()


def test_window_syncs_match_a_direct_correlation_window_by_window():
    from emoannot.speakers import LAGS_S, MIN_FRAMES, MOVE_MIN, energy_track, loudness_at, window_syncs

    def sync(mouth, times, energy):  # the definition, one window at a time, with numpy's corrcoef
        ok = np.isfinite(mouth)
        if ok.sum() < MIN_FRAMES or np.median(mouth[ok]) < MOVE_MIN or np.std(mouth[ok]) == 0:
            return np.nan
        return max(np.corrcoef(mouth[ok], loudness_at(energy, times[ok] + lag))[0, 1]
                   for lag in np.arange(LAGS_S[0], LAGS_S[1] + 1e-9, 0.04))

    rng = np.random.default_rng(1)
    audio = (rng.standard_normal(16000 * 12) * np.repeat(rng.uniform(0, 1, 60), 3200)).astype(np.float32)
    energy = energy_track(audio, 16000)
    times = np.arange(300) / 25
    mouth = rng.uniform(0, 1, 300)
    mouth[40:80] = np.nan  # unseen
    mouth[200:260] = 0.01  # still
    lo = rng.integers(0, 280, 40)
    hi = np.minimum(lo + rng.integers(5, 90, 40), 300)
    got = window_syncs(mouth, times, energy, lo, hi)
    for w in range(40):
        seg = mouth[lo[w]:hi[w]]
        want = sync(seg, times[lo[w]:hi[w]], energy) if np.isfinite(seg).sum() >= 0.5 * len(seg) else np.nan
        assert (np.isnan(want) and np.isnan(got[w])) or abs(want - got[w]) < 1e-7, (w, want, got[w])
    assert np.isfinite(got).any() and np.isnan(got).any()
