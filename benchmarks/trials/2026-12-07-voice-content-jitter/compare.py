"""Does content jitter of the neutral/calm voice samples (fit_heads._neutral_content_jitter) help calm speech?

Trains the audio head the shipped way (train_audio_head: leave-speakers-out metrics, then the head on all but
the held-out speakers) with and without the jitter, for the seeds given, and reads the calm-speech dev files
(LJSpeech, the talking-head videos and wavs) and CREMA-D actor 1001 the way the product reads a voice
(features.audio.audio_features on the whisper tiny.en ticks of the VAD's speech). Prints, per run, the
leave-speakers-out metrics and the mean voice valence per file.

    .venv/bin/python benchmarks/trials/2026-12-07-voice-content-jitter/compare.py RUN_DIR [SEED ...]
RUN_DIR: the --run-dir of a `train --format offline` run (its cache/speech_features.npz is reused); the dev
files' ticks are cached there as calm_dev_ticks.npz.
"""
import os
import sys
from pathlib import Path

import numpy as np
import torch

import emoannot
import emoannot.train.fit_heads as fh
from emoannot.features.audio import audio_features, encoder_ticks, speech_mask
from emoannot.speech import transcribe
from emoannot.timeline import n_ticks
from emoannot.video import AUDIO_RATE, load_audio

SHARED = Path(os.environ.get("EMOANNOT_SHARED", Path(__file__).resolve().parents[4] / "shared"))


def dev_ticks(path: Path) -> dict[str, np.ndarray]:
    if path.exists():
        return dict(np.load(path))
    data = SHARED / "data"
    files = (sorted((data / "speech/ljspeech").glob("*.flac")) + sorted((data / "real/talking").glob("*.wav"))
             + sorted((data / "real/talking").glob("*.mp4")) + sorted((data / "av/crema-d").glob("1001_*")))
    out = {}
    with emoannot.load() as engine:
        for p in files:
            audio = load_audio(p)
            k = n_ticks(len(audio) / AUDIO_RATE)
            speech = transcribe(audio, engine.speech).speech
            out[p.stem + "__ticks"] = encoder_ticks(audio, engine.encoder, k, speech)
            out[p.stem + "__mask"] = speech_mask(speech, k)
    np.savez(path, **out)
    return out


def main(run_dir: Path, seeds: list[int]) -> None:
    torch.set_num_threads(1)
    sf = fh.speech_corpus_features(SHARED / "data", run_dir / "cache", lambda s: None)
    ticks = dev_ticks(run_dir / "calm_dev_ticks.npz")
    names = sorted({k.split("__")[0] for k in ticks})
    jitter = fh._neutral_content_jitter
    for seed in seeds:
        for label, fn in (("without jitter", lambda sf, idx, x, va, cls, seed: (x, va, cls)), ("with jitter", jitter)):
            fh._neutral_content_jitter = fn
            head, metrics, _ = fh.train_audio_head(sf, seed=seed)
            print(f"seed {seed}, {label}:", {k: round(v, 3) for k, v in metrics.items() if isinstance(v, float)})
            means = {}
            for n in names:
                va = audio_features(ticks[n + "__ticks"], ticks[n + "__mask"], head).va[:, 0]
                means[n] = float(np.nanmean(va)) if np.isfinite(va).any() else float("nan")
            lj = np.array([v for n, v in means.items() if n.startswith("LJ")])
            print(f"  LJSpeech: mean {lj.mean():+.3f}, {int((abs(lj) <= 0.25).sum())} of {len(lj)} within +-0.25 "
                  f"(lowest {lj.min():+.2f}, highest {lj.max():+.2f})")
            print("  talking heads and wavs:", {n: round(v, 2) for n, v in means.items() if n.startswith(("face", "speech"))})
            print("  CREMA-D 1001:", {n.split("_")[2]: round(v, 2) for n, v in means.items() if n.startswith("1001")})
    fh._neutral_content_jitter = jitter


if __name__ == "__main__":
    main(Path(sys.argv[1]), [int(s) for s in sys.argv[2:]] or [0])
