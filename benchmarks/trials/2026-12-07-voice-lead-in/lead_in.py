"""Lone short clips: does padding the missing lead-in (speech starting less than PIECE_LEAD_S after the
recording's start) with silence change the voice column? Variants: none (shipped), zeros, noise at the
clip's quietest level (5th percentile of 0.1 s RMS). Run from the repository root:

    EMOANNOT_SHARED=../shared .venv/bin/python benchmarks/trials/2026-12-07-voice-lead-in/lead_in.py
"""
import os
from pathlib import Path

import numpy as np

import emoannot
import emoannot.features.audio as fa
from emoannot.features.audio import PIECE_LEAD_S, PIECE_TAIL_S, audio_features, pool_to_ticks, utterance_pieces
from emoannot.records import Segment
from emoannot.timeline import MODEL_FPS
from emoannot.video import AUDIO_RATE, load_audio

SHARED = Path(os.environ.get("EMOANNOT_SHARED", "../shared"))
orig = fa.encoder_ticks
MODE = "none"
def padded(audio, encoder, k, spans=None):
    if MODE == "none":
        return orig(audio, encoder, k, spans)
    out = np.zeros((k, encoder.dim), np.float32)
    if spans is None:
        spans = (Segment(0.0, len(audio) / AUDIO_RATE),)
    per_tick = AUDIO_RATE / MODEL_FPS
    lead, tail = int(round(PIECE_LEAD_S * MODEL_FPS)), int(round(PIECE_TAIL_S * MODEL_FPS))
    rms = np.sqrt(np.convolve(audio ** 2, np.ones(1600) / 1600, "valid")) if len(audio) > 1600 else np.array([0.0])
    floor = float(np.percentile(rms, 5))
    rng = np.random.default_rng(0)
    for a, b in utterance_pieces(spans, k):
        c = max(0, a - lead)
        x = audio[int(round(c * per_tick)) : int(round((b + tail) * per_tick))]
        miss = lead - (a - c)
        if miss > 0:
            n = int(round(miss * per_tick))
            pad = np.zeros(n, np.float32) if MODE == "zeros" else (rng.standard_normal(n) * floor).astype(np.float32)
            x = np.concatenate([pad, x])
        states = encoder.encode(x)
        pooled = pool_to_ticks(states, b - c + max(miss, 0))[a - c + max(miss, 0):]
        out[a : a + len(pooled)] = pooled
    return out
fa.encoder_ticks = padded
files = sorted((SHARED / "data/speech/ljspeech").glob("*.flac")) + sorted((SHARED / "data/real/talking").glob("*.wav"))
with emoannot.load(device="cpu") as engine:
    for MODE in ("none", "zeros", "noise"):
        vals = {}
        for p in files:
            a = load_audio(p)
            tr, ticks, mask = engine.voice(a)
            f = audio_features(ticks, mask, engine.audio_head)
            v = f.va[mask, 0]
            vals[p.stem] = float(v.mean()) if len(v) else float("nan")
        lj = [v for n, v in vals.items() if n.startswith("LJ")]
        print(MODE, "LJ mean %+.3f within %d/32" % (np.mean(lj), sum(abs(v) <= 0.25 for v in lj)),
              " ".join(f"{n[-4:]}:{v:+.2f}" for n, v in vals.items()), flush=True)
