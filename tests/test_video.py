import numpy as np
import pytest

from emoannot.errors import InputError
from emoannot.video import AUDIO_RATE, iter_frames, load_audio, probe

from helpers import CREMA, EXAMPLE, MEDIA, count_frames, ffmpeg, need


def test_probe_and_frames_of_a_crema_clip():
    info = probe(EXAMPLE)
    assert info.width == 480 and info.height == 360
    assert info.fps == pytest.approx(29.97, abs=0.01)
    assert info.has_audio and info.rotation == 0
    frames = list(iter_frames(info))
    assert len(frames) == count_frames(EXAMPLE)
    times = np.array([f.time_s for f in frames])
    assert np.all(np.diff(times) > 0)
    assert np.median(np.diff(times)) == pytest.approx(1 / 29.97, abs=2e-3)
    assert frames[0].rgb.shape == (360, 480, 3) and frames[0].rgb.dtype == np.uint8


def test_variable_frame_rate_timestamps_come_from_the_stream(media_dir):
    """2 s at 10 fps then 2 s at 30 fps in one file: 80 frames, with each part's own spacing."""
    a, b, out = media_dir / "vfr_a.mkv", media_dir / "vfr_b.mkv", media_dir / "vfr.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=2", "-c:v", "libx264", str(a))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=30:duration=2", "-c:v", "libx264", str(b))
    lst = media_dir / "vfr.txt"
    lst.write_text(f"file '{a}'\nfile '{b}'\n")
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(lst), "-c", "copy", str(out))
    times = np.array([f.time_s for f in iter_frames(probe(out))])
    assert len(times) == 80
    gaps = np.diff(times)
    assert np.allclose(gaps[:19], 0.1, atol=2e-3)
    assert np.allclose(gaps[21:], 1 / 30, atol=2e-3)
    assert times[-1] == pytest.approx(4 - 1 / 30, abs=0.01)


def test_rotated_phone_video_is_turned_upright(media_dir):
    upright, out = media_dir / "upright.mp4", media_dir / "rotated.mp4"
    ffmpeg("-i", str(EXAMPLE), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(upright))
    ffmpeg("-display_rotation", "90", "-i", str(upright), "-c", "copy", str(out))
    info = probe(out)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (360, 480)
    first = next(iter_frames(info))
    assert first.rgb.shape == (480, 360, 3)


def test_audio_is_16k_mono_and_missing_audio_is_empty(no_audio_video):
    audio = load_audio(EXAMPLE)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) / AUDIO_RATE == pytest.approx(probe(EXAMPLE).duration_s, abs=0.15)
    assert load_audio(no_audio_video).size == 0


def test_long_audio_streams_into_one_array_sample_exact(tmp_path):
    """70 s of a 440 Hz tone: without a length the buffer grows (30 s, 60 s, 120 s) and is cut to the
    samples read; with one it is sized once. Either way every sample is where the tone puts it."""
    wav = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=70", "-c:a", "pcm_f32le", str(wav))
    t = np.arange(70 * AUDIO_RATE) / AUDIO_RATE
    audio = load_audio(wav)
    assert audio.dtype == np.float32 and len(audio) == 70 * AUDIO_RATE
    assert audio.base is None or len(audio) > 0.9 * len(audio.base)  # no large slack kept alive
    phase = np.angle(np.sum(audio[:1600] * np.exp(-2j * np.pi * 440 * t[:1600])))
    expected = np.abs(audio).max() * np.sin(2 * np.pi * 440 * t + phase + np.pi / 2)
    assert np.abs(audio - expected).max() < 0.02
    cut = load_audio(wav, offset_s=1.5, max_seconds=20.0)  # 1.5 s of silence first, 18.5 s of tone
    assert len(cut) == 20 * AUDIO_RATE
    assert np.abs(cut[: int(1.5 * AUDIO_RATE)]).max() == 0.0
    assert np.allclose(cut[int(1.5 * AUDIO_RATE):], audio[: int(18.5 * AUDIO_RATE)])


@pytest.mark.parametrize("maker", ["empty", "text", "missing", "audio_only", "folder"])
def test_unusable_inputs_say_what_is_wrong(tmp_path, maker):
    path = tmp_path / "clip.mp4"
    expected = {"empty": "empty", "text": "not a readable video", "missing": "no such file",
                "audio_only": "audio-only", "folder": "folder"}[maker]
    if maker == "empty":
        path.touch()
    elif maker == "text":
        path.write_text("this is not a video\n" * 50)
    elif maker == "audio_only":
        path = tmp_path / "speech.flac"
        path.write_bytes(need(MEDIA / "jfk.flac").read_bytes())
    elif maker == "folder":
        path = tmp_path
    with pytest.raises(InputError, match=expected):
        probe(path)


def test_truncated_file_fails_cleanly_or_keeps_decodable_frames(tmp_path):
    src = need(CREMA / "1001_DFA_ANG_XX.flv").read_bytes()
    head = tmp_path / "head_only.flv"
    head.write_bytes(src[:200])
    with pytest.raises(InputError):
        info = probe(head)
        list(iter_frames(info))
    half = tmp_path / "half.flv"
    half.write_bytes(src[: len(src) // 2])
    frames = list(iter_frames(probe(half)))
    assert 0 < len(frames) < count_frames(CREMA / "1001_DFA_ANG_XX.flv")


def test_frames_decoded_ahead_are_the_frames_decoded_in_place_and_the_thread_ends_with_the_caller():
    import threading

    info = probe(EXAMPLE)
    ahead, in_place = list(iter_frames(info, ahead=4)), list(iter_frames(info, ahead=0))
    assert [f.time_s for f in ahead] == [f.time_s for f in in_place]
    assert all(np.array_equal(a.rgb, b.rgb) for a, b in zip(ahead, in_place))
    frames = iter_frames(info, ahead=4)
    next(frames)
    assert any(t.name == "emoannot-decode" for t in threading.enumerate())
    frames.close()  # the caller stops early (an error in the face stage, Ctrl-C)
    assert not any(t.name == "emoannot-decode" for t in threading.enumerate())


def test_frames_not_wanted_as_pixels_keep_their_times_and_skip_the_conversion():
    from emoannot.faces import analysed_frames

    info = probe(EXAMPLE)  # 30 fps: the first frame of each 0.1 s tick is wanted
    every = list(iter_frames(info))
    some = list(iter_frames(info, pixels=analysed_frames(every_frame=False)))
    assert [f.time_s for f in some] == [f.time_s for f in every]
    ticks = [int(np.floor(f.time_s * 10 + 1e-9)) for f in every]
    wanted = [i == 0 or ticks[i] != ticks[i - 1] for i in range(len(every))]
    assert 0.3 < sum(wanted) / len(wanted) < 0.36  # one frame in three
    for f, e, w in zip(some, every, wanted):
        assert (f.rgb is not None) == w and (f.rgb is None or np.array_equal(f.rgb, e.rgb))
    assert all(f.rgb is not None for f in iter_frames(info, pixels=analysed_frames(every_frame=True)))
