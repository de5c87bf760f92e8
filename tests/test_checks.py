"""The behavioural checks of the shipped weights (benchmarks/checks.py), through `emoannot predict`."""
import subprocess
import sys

import pytest

from helpers import CREMA, MEDIA, ROOT, SHARED, need

pytestmark = pytest.mark.slow  # loads the full model set (whisper, MiniLM) or trains


def test_default_weights_order_the_crema_emotions_and_the_pexels_laugh():
    need(CREMA / "1001_DFA_ANG_XX.flv"), need(MEDIA / "WolfgangLanger_Pexels.mp4")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from checks import KNOWN_MISSES

    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "checks.py")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert len(lines) == 8
    for line in lines:  # every check passes but the recorded misses, which fail (README: "The shipped weights")
        name = line.split("  ", 1)[1].replace(" (known miss of the shipped weights)", "")
        assert line.startswith("FAIL" if name in KNOWN_MISSES else "PASS"), proc.stdout


def test_default_weights_read_real_neutral_faces_and_calm_voices_as_neutral(engine):
    """Issue 23's dev targets, on real media never trained on (../shared/data/real): MEAD neutral faces read
    neutral (fused and face column within +-0.15), surprise above neutral, happy at least 0.6 above neutral;
    the five real talking heads' calm speech: the voice column within +-0.25 and the fused value within +-0.2."""
    import numpy as np

    import emoannot

    real = SHARED / "data" / "real"
    means = {}
    for emotion in ("neutral_level1", "happy_level3", "surprised_level3"):
        for actor in ("M030", "W009", "W011"):
            a = emoannot.annotate(need(real / "mead" / f"{actor}_front_{emotion}_001.mp4"), engine)
            means.setdefault(emotion.split("_")[0], []).append(
                (np.nanmean(a.valence), np.nanmean(a.per_modality["valence_visual"])))
    v = {k: np.mean(x, 0) for k, x in means.items()}  # (fused, face) per class, over the three actors
    assert np.all(np.abs(v["neutral"]) <= 0.15), v
    assert np.all(v["surprised"] > v["neutral"]), v
    assert v["happy"][0] - v["neutral"][0] >= 0.6, v
    for path in sorted(need(real / "talking").glob("face*.mp4")):
        a = emoannot.annotate(path, engine)
        assert abs(np.nanmean(a.per_modality["valence_audio"])) <= 0.25, path.name
        assert abs(np.nanmean(a.valence)) <= 0.2, path.name


def test_default_weights_read_calm_read_speech_as_calm(engine):
    """Issue 23's calm-speech target on LJSpeech (32 clips of calm read English, one reader, never trained on),
    read the way the product reads a voice: the mean voice valence within +-0.15 and at least 24 of the 32
    files within +-0.25 (the README's dev table; without the content jitter of the neutral voice samples the
    same recipe gave 21); and the 32 read as one recording, where at least 20 clips must stay within +-0.25
    (23 on 2026-12-07; 8 when the product encoded whole 30 s chunks and read an utterance by its place in
    whisper's input)."""
    need(SHARED / "data" / "speech" / "ljspeech")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from realdev import calm_speech

    r = calm_speech(engine)
    assert r["ljspeech_files"] == 32
    assert abs(r["ljspeech_mean_voice_valence"]) <= 0.15, r
    assert r["ljspeech_files_within_0.25"] >= 24, r
    assert r["ljspeech_as_one_recording"]["clips"] == 32
    assert r["ljspeech_as_one_recording"]["clips_within_0.25"] >= 20, r["ljspeech_as_one_recording"]
