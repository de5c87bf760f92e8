"""Speech (emoannot/speech/): bounded pieces, runaway decodes, the encoder check, ticks and words,
the CTranslate2-to-openai-whisper converter, segments that cover the words."""

import numpy as np
import pytest
import torch

from emoannot.config import AsrModel, SpeechConfig
from emoannot.errors import WeightsError
from emoannot.records import (Segment,
                              Word)


def test_long_speech_is_recognised_in_bounded_pieces():
    from emoannot.speech import ASR_MAX_SPAN_S, ASR_WINDOW_S, asr_groups, asr_spans

    speech = tuple(Segment(t, t + 4.0) for t in np.arange(0, 1800, 5.0))  # 30 min of talk, 1 s pauses
    spans = asr_spans(speech, 1800.0)
    assert max(s.end - s.start for s in spans) <= ASR_MAX_SPAN_S + 0.5
    assert spans[0].start == 0 and spans[-1].end == pytest.approx(1799.2)
    groups = asr_groups(spans)
    assert all(g[-1].end - g[0].start <= ASR_WINDOW_S for g in groups)
    assert [s for g in groups for s in g] == spans


def test_speech_with_short_pauses_is_recognised_in_clips_that_do_not_overlap():
    """VAD segments 0.2 s apart for 4 min: the padded spans meet at every 30 s limit; overlapping clips were
    transcribed twice and, covering more than the audio, failed faster-whisper's batched pipeline."""
    from emoannot.speech import asr_groups, asr_spans
    from emoannot.speech.transcribe import ASR_PAD_S

    speech = tuple(Segment(t, t + 2.8) for t in np.arange(0, 240, 3.0))
    spans = asr_spans(speech, 240.0)
    assert len(spans) > 1 and all(b.start >= a.end for a, b in zip(spans, spans[1:]))
    assert all(any(sp.start <= s.start and s.end <= sp.end for sp in spans) for s in speech)  # every word heard
    for g in asr_groups(spans):
        assert sum(s.end - s.start for s in g) <= g[-1].end - g[0].start + 1e-9
    assert spans[0].start == 0 and spans[-1].end == pytest.approx(speech[-1].end + ASR_PAD_S)


def test_each_voice_activity_segment_is_encoded_on_its_own():
    """The encoder reads each segment on its own, never more than PIECE_S of it at once; the pieces are in
    order, do not overlap and stay inside the video."""
    from emoannot.features.audio import PIECE_S, utterance_pieces

    speech = (Segment(0.2, 1.9), Segment(2.3, 4.0), Segment(9.0, 21.5), Segment(29.5, 31.0))
    pieces = utterance_pieces(speech, 300)  # a 30 s video: the last segment is cut at its end
    assert pieces == [(2, 19), (23, 40), (90, 140), (140, 190), (190, 215), (295, 300)]
    assert all(b - a <= PIECE_S * 10 for a, b in pieces)
    assert all(a1 >= b0 for (_, b0), (a1, _) in zip(pieces, pieces[1:]))
    assert utterance_pieces((), 100) == []


def test_runaway_decodes_are_dropped_and_the_language_check_is_gated():
    from emoannot.records import Word
    from emoannot.speech import doubtful
    from emoannot.speech.recognisers import plausible

    cfg = SpeechConfig()
    assert plausible(8, 0.0, 3.0, 1.5, cfg)  # ordinary speech
    assert not plausible(167, 0.0, 2.0, 1.9, cfg)  # a 2 s clip decoded into 167 words (seen on EmoDB, tiny.en)
    assert not plausible(11, 0.0, 1.3, 1.9, cfg) and plausible(6, 0.0, 1.0, 1.9, cfg)  # short segments count 1 s
    assert not plausible(20, 0.0, 10.0, cfg.compression_ratio_threshold + 0.1, cfg)  # still repetitive
    words = [Word(0.0, 0.5, " ask", 0.9), Word(0.5, 0.9, " not", 0.8)]
    assert not doubtful(words, cfg)
    assert doubtful([], cfg) and doubtful([Word(0.0, 0.5, " Lappen", 0.3)] + words, cfg)


def test_batched_recogniser_clips_fit_one_whisper_window():
    from emoannot.speech.recognisers import window_clips

    clips = window_clips([0.0, 12.0, 20.0, 95.0])  # 12 s, then 75 s of speech without a pause
    assert clips[0] == {"start": 0.0, "end": 12.0} and len(clips) == 4
    assert all(c["end"] - c["start"] <= 30.0 for c in clips)
    assert clips[1]["start"] == 20.0 and clips[-1]["end"] == 95.0
    assert all(a["end"] == b["start"] for a, b in zip(clips[1:], clips[2:]))  # cut, nothing lost


def test_audio_encoder_width_is_checked_against_the_head_at_load():
    from emoannot.features.audio import AudioEncoder

    with pytest.raises(WeightsError, match="512-d"):
        AudioEncoder(AsrModel.base, 384, "cpu")
    enc = AudioEncoder(AsrModel.tiny_en, 384, "cpu")  # nothing is loaded until the first encode
    assert enc.dim == 384 and enc._model is None


def test_pool_to_ticks_averages_each_tick_interval():
    from emoannot.features.audio import pool_to_ticks

    states = np.repeat(np.arange(10, dtype=np.float32)[:, None], 2, 1)  # 10 encoder frames = 0.2 s
    out = pool_to_ticks(states, 3)
    assert out[:, 0].tolist() == [2.0, 7.0, 0.0]


def test_word_index_per_tick_uses_tick_centres():
    from emoannot.features.text import word_index_per_tick

    words = (Word(0.0, 0.12, "a", 1), Word(0.31, 0.33, "b", 1), Word(0.6, 0.9, "c", 1))
    assert word_index_per_tick(words, 10).tolist() == [0, -1, -1, 1, -1, -1, 2, 2, 2, -1]


def test_ct2_whisper_weights_convert_to_openai_whisper():
    import whisper

    from emoannot.speech.convert import ct2_to_openai, read_ct2
    from emoannot.speech.weights import asr_model_dir

    dims, state = ct2_to_openai(read_ct2(asr_model_dir(AsrModel.tiny_en) / "model.bin"))
    assert dims["n_audio_state"] == 384 and dims["n_vocab"] == 51864
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**dims))
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(np.array(v)).float() for k, v in state.items()},
                                                strict=False)
    assert not unexpected and all(m.endswith("key.bias") for m in missing)


def test_speech_covers_the_recognised_words():
    from emoannot.records import Segment, Word
    from emoannot.speech import cover_words

    speech = (Segment(0.43, 1.2), Segment(2.0, 3.0))
    words = (Word(0.23, 0.5, "Don't", 0.9), Word(1.1, 1.33, "go", 0.9), Word(1.9, 2.1, "now", 0.9),
             Word(3.5, 3.7, "ok", 0.9))
    assert cover_words(speech, words) == (Segment(0.23, 1.33), Segment(1.9, 3.0), Segment(3.5, 3.7))
    assert cover_words(speech, ()) == speech and cover_words((), ()) == ()
