"""Train the audio head also on clips read the way the product reads them (a trial, 2026-12-08). The head is
trained on each clip minus its speaker's neutral voice, but at inference a short recording is centred mostly on
the training speakers' mean neutral voice (features.audio.speaker_centre, prior 50 ticks), so the head sees a
speaker's offset from that reference, which it never saw in training: LJSpeech's two shortest files (1.8-1.9 s,
calm) read +0.80 / +0.82. A variant "S:C" adds _lone_clip_samples below (each clip's mean and 4 windows
minus speaker_centre of that clip alone, with the fold's reference): all clips' as S of the draws
(class-balanced), the neutral and calm clips' as C more (uniform); "0" is the recipe before. Scored: the audio
head's leave-speakers-out folds (seed 0; accuracy centred on the speaker's own neutral clips and as the product
reads a lone clip, CCC as the product reads a lone clip), then a head trained as shipped (all but the held-out
speakers) on LJSpeech, the talking-head recordings and videos, and CREMA-D actor 1001's six clips, through the
product's own audio path. Run from the repository root:

    EMOANNOT_SHARED=../shared .venv/bin/python benchmarks/trials/2026-12-08-lone-clip-training/lone.py RUN_DIR/cache \
        [NAME=S[:C] ...]

Logs: lone_share.log (the default: shipped=0 "lone 1/3"=0.333 "lone 1/2"=0.5 "lone 2/3"=0.667), lone_calm.log
("calm-only 1/6=0:0.167" "calm-only 1/3=0:0.333"), lone_mixed.log ("all 1/4 + calm 1/4=0.25:0.25"
"all 1/6 + calm 1/6=0.167:0.167").
"""
import os
import sys
from pathlib import Path

import numpy as np

import emoannot
from emoannot.features.audio import HEAD_WINDOW, SPEAKER_PRIOR_TICKS, audio_features, speaker_centre
from emoannot.metrics import ccc
from emoannot.train.fit_heads import (CORPUS_CLASSES, HELDOUT_SPEAKERS, SPEECH_CLASSES, _audio_samples,
                                      _neutral_content_jitter, _speech_balance, as_the_product_reads, centred, fit_head,
                                      speaker_folds, speaker_references, speech_corpus_features)
from emoannot.video import load_audio

SHARED = Path(os.environ.get("EMOANNOT_SHARED", "../shared"))
VARIANTS = dict(a.split("=") for a in sys.argv[2:]) or {"shipped": "0", "lone 1/3": "0.333", "lone 1/2": "0.5",
                                                         "lone 2/3": "0.667"}


CALM = [SPEECH_CLASSES.index("neutral"), SPEECH_CLASSES.index("calm")]


def _lone_clip_samples(raw, idx, reference, windows, seed):
    """The clips as the product reads a recording that holds only that clip: its speech mean and `windows`
    random HEAD_WINDOW-tick speech means, minus speaker_centre of the clip alone (its own speech drawn towards
    `reference` by SPEAKER_PRIOR_TICKS). `raw`: the features before speaker centring."""
    rng = np.random.default_rng(seed + 7)
    xs, vas, cls = [], [], []
    for i in idx:
        c = raw.clips[i]
        x, m = raw.clip(i)
        if not m.any():
            continue
        centre = speaker_centre(x, m, reference, SPEAKER_PRIOR_TICKS)
        xs.append(x[m].mean(0) - centre)
        speech = np.flatnonzero(m)
        for _ in range(windows):
            a = int(rng.choice(speech))
            xs.append(x[a : a + HEAD_WINDOW][m[a : a + HEAD_WINDOW]].mean(0) - centre)
        vas += [(c.valence, c.arousal)] * (windows + 1)
        cls += [SPEECH_CLASSES.index(c.category) if c.category else -1] * (windows + 1)
    return np.stack(xs), np.asarray(vas, np.float32), np.asarray(cls)


def fit(sf, sfc, idx, reference, share, seed=0):
    """share "S" or "S:C": all clips' lone-clip samples take S of the draws (class-balanced), the neutral and
    calm clips' lone-clip samples another C (uniform). "0" is the shipped recipe (fit_heads._fit_audio);
    "0:0.167" the one trained into a full weights set (README)."""
    s, c = (float(v) for v in (share + ":0").split(":")[:2])
    x, va, cls = _neutral_content_jitter(sfc, idx, *_audio_samples(sfc, idx, 4, seed), seed)
    if not s and not c:
        return fit_head(x, va, cls, len(SPEECH_CLASSES), epochs=150, seed=seed, sample_weights=_speech_balance(cls))
    lx, lva, lcls = _lone_clip_samples(sf, idx, reference, 4, seed)
    keep = np.isin(lcls, CALM)
    parts = [(x, va, cls, _speech_balance(cls) * (1 - s - c))]
    if c:
        parts.append((lx[keep], lva[keep], lcls[keep], np.full(keep.sum(), c / keep.sum())))
    if s:
        parts.append((lx, lva, lcls, _speech_balance(lcls) * s))
    x, va, cls, w = (np.concatenate(p) for p in zip(*parts))
    return fit_head(x, va, cls, len(SPEECH_CLASSES), epochs=150, seed=seed, sample_weights=w)


sf = speech_corpus_features(SHARED / "data", Path(sys.argv[1]), print)
refs = speaker_references(sf)
sfc = centred(sf, refs)
folds = speaker_folds(sf)
rows = {}
files = (sorted((SHARED / "data/speech/ljspeech").glob("*.flac")) + sorted((SHARED / "data/real/talking").glob("*.wav"))
         + sorted((SHARED / "data/real/talking").glob("*.mp4")) + sorted((SHARED / "data/av/crema-d").glob("*.flv")))
with emoannot.load(device="cpu") as engine:
    read = {f.stem + f.suffix: engine.voice(load_audio(f))[1:] for f in files}
    shipped_head = engine.audio_head
    print("| variant | RAVDESS 8-way own neutral / lone clip | EmoDB 7-way own / lone | CCC V / A (lone clip) | LJSpeech mean | "
          "within +-0.25 | LJ001-0002 / 0008 | speech1 / speech2 wav | talking face1-5 | CREMA-D 1001 ANG DIS FEA HAP NEU SAD |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, share in VARIANTS.items():
        hits = {(c, h): [] for c in ("ravdess", "emodb") for h in ("own", "lone")}
        pv, tv = [], []
        for fold in folds:
            train_idx = [i for i, c in enumerate(sf.clips) if c.speaker not in fold]
            test_idx = [i for i, c in enumerate(sf.clips) if c.speaker in fold and c.corpus in ("ravdess", "emodb")]
            reference = np.mean([refs[s] for s in {sf.clips[i].speaker for i in train_idx}], 0)
            head = fit(sf, sfc, train_idx, reference, share)
            for how, x in (("own", np.stack([sfc.clip_mean(i) for i in test_idx])),
                           ("lone", np.stack([as_the_product_reads(sf, i, reference, SPEAKER_PRIOR_TICKS)
                                              for i in test_idx]))):
                proba = head.predict_proba(x)
                for j, i in enumerate(test_idx):
                    c = sf.clips[i]
                    allowed = CORPUS_CLASSES[c.corpus]
                    hits[(c.corpus, how)].append(allowed[int(proba[j, allowed].argmax())] == SPEECH_CLASSES.index(c.category))
                if how == "lone":
                    pv.append(head.predict_va(x))
                    tv.append(np.asarray([(sf.clips[i].valence, sf.clips[i].arousal) for i in test_idx]))
        pv, tv = np.concatenate(pv), np.concatenate(tv)
        train_idx = [i for i, c in enumerate(sf.clips) if c.speaker not in HELDOUT_SPEAKERS]
        reference = np.mean([refs[s] for s in {sf.clips[i].speaker for i in train_idx}], 0)
        head = fit(sf, sfc, train_idx, reference, share)
        head.centre.copy_(shipped_head.centre)
        head.centre_prior.copy_(shipped_head.centre_prior)
        v = {n: float(audio_features(t, m, head).va[m, 0].mean()) for n, (t, m) in read.items() if m.any()}
        lj = [x for n, x in v.items() if n.startswith("LJ")]
        talk = " ".join(f"{v[n]:+.2f}" for n in sorted(v) if n.startswith("face"))
        crema = " ".join(f"{v[n]:+.2f}" for n in sorted(v) if n.startswith("1001_"))
        print(f"| {name} | {np.mean(hits[('ravdess', 'own')]):.3f} / {np.mean(hits[('ravdess', 'lone')]):.3f} | "
              f"{np.mean(hits[('emodb', 'own')]):.3f} / {np.mean(hits[('emodb', 'lone')]):.3f} | "
              f"{ccc(pv[:, 0], tv[:, 0]):.3f} / {ccc(pv[:, 1], tv[:, 1]):.3f} | {np.mean(lj):+.3f} | "
              f"{sum(abs(x) <= 0.25 for x in lj)} of {len(lj)} | {v['LJ001-0002.flac']:+.2f} / {v['LJ001-0008.flac']:+.2f} | "
              f"{v['speech1.wav']:+.2f} / {v['speech2.wav']:+.2f} | {talk} | {crema} |", flush=True)
        if name != "shipped":
            print("   LJ per file:", " ".join(f"{x:+.2f}" for x in lj), flush=True)
