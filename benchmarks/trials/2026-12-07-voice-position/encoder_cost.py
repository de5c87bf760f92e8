"""What encoding each voice-activity segment on its own costs against whole 30 s chunks (the encoding before
2026-12-07), interleaved in one process on the same audio: the real talking heads joined (benchmarks/run.py's
input) looped to 10 minutes. The previous encoder_ticks is taken from git (commit 9b922b7).

    python benchmarks/trials/2026-12-07-voice-position/encoder_cost.py
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import loop_to, make_real_talking  # noqa: E402


def main() -> int:
    from emoannot.config import AsrModel
    from emoannot.features.audio import AudioEncoder, encoder_ticks, utterance_pieces
    from emoannot.speech import detect_speech
    from emoannot.speech.vad import load_vad
    from emoannot.timeline import n_ticks
    from emoannot.video import AUDIO_RATE, load_audio

    tmp = Path(tempfile.mkdtemp())
    old_src = subprocess.run(["git", "-C", str(ROOT), "show", "9b922b7:emoannot/features/audio.py"], check=True,
                             capture_output=True, text=True).stdout
    (tmp / "audio_before.py").write_text(old_src)
    spec = importlib.util.spec_from_file_location("audio_before", tmp / "audio_before.py")
    before = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before)
    video = loop_to(make_real_talking(tmp / "real_talking.mp4"), tmp / "real_talking_600.mp4", 600)
    audio = load_audio(video)
    speech = detect_speech(audio, load_vad())
    k = n_ticks(len(audio) / AUDIO_RATE)
    encoder = AudioEncoder(AsrModel.tiny_en, 384, "cpu")
    encoder.encode(np.zeros(AUDIO_RATE, np.float32))  # loaded before the clock starts
    times = {"whole 30 s chunks (before)": [], "each segment on its own (now)": []}
    for _ in range(2):
        for name, fn in (("whole 30 s chunks (before)", before.encoder_ticks),
                         ("each segment on its own (now)", encoder_ticks)):
            t0 = time.perf_counter()
            fn(audio, encoder, k, speech)
            times[name].append(time.perf_counter() - t0)
    print(f"{len(audio) / AUDIO_RATE:.0f} s of audio, {len(speech)} voice-activity segments, "
          f"{len(utterance_pieces(speech, k))} pieces")
    for name, t in times.items():
        print(f"{name}: {min(t):.1f} s (runs: {', '.join(f'{x:.1f}' for x in t)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
