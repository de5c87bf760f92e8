"""Speech stage on real recordings: VAD, both ASR engines on the same weights, the language check."""
import numpy as np
import pytest

from emoannot.config import AsrEngine, AsrModel, SpeechConfig
from emoannot.features.audio import PIECE_S, AudioEncoder, encoder_ticks
from emoannot.speech import SpeechModels, transcribe
from emoannot.timeline import n_ticks
from emoannot.video import AUDIO_RATE, load_audio

from helpers import EXAMPLE, MEDIA, SHARED, ffmpeg, need

pytestmark = pytest.mark.slow  # loads the full model set (whisper, MiniLM) or trains


@pytest.fixture(scope="module")
def faster():
    return SpeechModels(SpeechConfig(), "cpu")


def test_jfk_words_and_timestamps(faster):
    audio = load_audio(need(MEDIA / "jfk.flac"))
    t = transcribe(audio, faster)
    assert t.language == "en" and not t.warnings
    assert "ask not what your country can do for you" in t.text.lower().replace(",", "")
    starts = [w.start for w in t.words]
    assert starts == sorted(starts) and t.words[-1].end <= len(audio) / AUDIO_RATE + 0.1
    assert all(any(s.start - 0.3 <= w.start <= s.end + 0.3 for s in t.speech) for w in t.words)


def test_english_speech_never_loads_the_language_identifier():
    """The language check runs only where tiny.en's words look unreliable: clear English never loads
    whisper base (its load and detection were ~2 s of a 28 s run)."""
    models = SpeechModels(SpeechConfig(), "cpu")
    t = transcribe(load_audio(need(MEDIA / "jfk.flac")), models)
    assert t.language == "en" and not t.warnings and len(t.words) > 15
    assert "_base" not in vars(models)  # the language identifier (whisper base) was never loaded
    assert np.mean([w.probability for w in t.words]) >= SpeechConfig().language_check_below


def test_silence_gives_an_empty_transcript(faster):
    t = transcribe(np.zeros(AUDIO_RATE * 3, np.float32), faster)
    assert t.speech == () and t.words == ()


def test_openai_whisper_engine_runs_the_converted_weights(faster):
    """The same tiny.en weights through openai-whisper (converted from CTranslate2) give the same words."""
    openai = SpeechModels(SpeechConfig(asr_engine=AsrEngine.openai_whisper), "cpu")
    audio = load_audio(EXAMPLE)
    a, b = transcribe(audio, faster), transcribe(audio, openai)
    assert [w.text.strip() for w in a.words] == [w.text.strip() for w in b.words]
    # the first word's start is the loosest estimate of both engines; the rest must agree
    assert np.allclose([w.start for w in a.words[1:]], [w.start for w in b.words[1:]], atol=0.1)
    assert np.allclose([w.end for w in a.words], [w.end for w in b.words], atol=0.1)
    # the converted encoder computes the same states as CTranslate2's
    import torch
    import whisper

    audio = audio[: int(PIECE_S * AUDIO_RATE)]  # one piece: the encoder reads it from its start, as whisper here
    k = n_ticks(len(audio) / AUDIO_RATE)
    s1 = encoder_ticks(audio, AudioEncoder(AsrModel.tiny_en, 384, "cpu"), k)
    model = openai.recogniser.model
    mel = whisper.pad_or_trim(whisper.log_mel_spectrogram(torch.from_numpy(audio), model.dims.n_mels), 3000)
    with torch.no_grad():
        states = model.encoder(mel[None]).numpy()[0][: int(np.ceil(len(audio) / AUDIO_RATE * 50))]
    from emoannot.features.audio import pool_to_ticks

    s2 = pool_to_ticks(states, k)
    assert s1.shape == s2.shape == (k, 384) and np.abs(s1).sum(1).min() > 0
    assert np.corrcoef(s1.ravel(), s2.ravel())[0, 1] > 0.98  # int8 CTranslate2 vs float32 torch


def test_non_english_speech_with_the_english_model_warns(faster, tmp_path):
    clips = sorted((need(SHARED / "data" / "speech" / "emodb")).glob("03a0*.wav"))[:6]
    lst = tmp_path / "list.txt"
    lst.write_text("".join(f"file '{c}'\n" for c in clips))
    german = tmp_path / "german.wav"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(lst), str(german))
    audio = load_audio(german)
    t = transcribe(audio, faster)
    assert t.language == "de" and "_base" in vars(faster)
    assert any("--asr-model base" in w for w in t.warnings)
    base = transcribe(audio, SpeechModels(SpeechConfig(asr_model=AsrModel.base), "cpu"))
    assert base.language == "de" and not base.warnings
    assert any(w in base.text for w in ("Lappen", "Eisschrank", "Mittwoch", "Tisch"))


def test_words_keep_their_place_when_speech_is_split(faster):
    """jfk.flac three times with 200 s of silence between: words come back at the right times."""
    jfk = load_audio(need(MEDIA / "jfk.flac"))
    gap = np.zeros(200 * AUDIO_RATE, np.float32)
    audio = np.concatenate([jfk, gap, jfk, gap, jfk])
    t = transcribe(audio, faster)
    offsets = [0, (len(jfk) + len(gap)) / AUDIO_RATE, 2 * (len(jfk) + len(gap)) / AUDIO_RATE]
    for o in offsets:
        near = [w for w in t.words if o <= w.start <= o + 11.5]
        assert any("country" in w.text for w in near), (o, [w.text for w in near])


def test_audio_longer_than_the_video_is_cut_to_the_video(faster):
    jfk = load_audio(need(MEDIA / "jfk.flac"))
    audio = np.concatenate([jfk] * 4)  # 44 s of audio
    ticks = encoder_ticks(audio, AudioEncoder(AsrModel.tiny_en, 384, "cpu"), 50)  # a 5 s video
    assert ticks.shape == (50, 384) and np.abs(ticks).sum(1).min() > 0


def test_an_utterance_reads_the_same_wherever_it_sits_in_the_recording(faster):
    """A short LJSpeech sentence alone and 8 s into a recording (after another sentence, 0.4 s of silence
    between): the encoder states over its speech stay alike (cosine 0.86 on 2026-12-07; the rest is the
    second of audio before it, which it lacks alone). Encoding whole 30 s chunks, they were unrelated
    (cosine -0.05; its voice valence read +0.82 alone and -0.93 in the recording)."""
    from emoannot.speech import detect_speech

    lj = SHARED / "data" / "speech" / "ljspeech"
    short, before = load_audio(need(lj / "LJ001-0002.flac")), load_audio(need(lj / "LJ001-0003.flac"))
    joined = np.concatenate([before, np.zeros(int(0.4 * AUDIO_RATE), np.float32), short])
    encoder = AudioEncoder(AsrModel.tiny_en, 384, "cpu")
    means = []
    for audio, skip in ((short, 0.0), (joined, (len(joined) - len(short)) / AUDIO_RATE)):
        speech = detect_speech(audio, faster.vad)
        ticks = encoder_ticks(audio, encoder, n_ticks(len(audio) / AUDIO_RATE), speech)
        mine = ticks[n_ticks(skip) if skip else 0 :]
        means.append(mine[np.abs(mine).sum(1) > 0].mean(0))
    alone, inside = means
    assert alone @ inside / np.linalg.norm(alone) / np.linalg.norm(inside) > 0.75
