"""Unimodal heads: audio (whisper encoder states, speech corpora) and text (MiniLM, EmoBank).

Both are VAHead MLPs trained with MSE + (1 - CCC) on (valence, arousal); the audio head also
classifies the speech categories. Features are computed once and cached under the run folder.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from emoannot.config import AsrModel
from emoannot.features.audio import HEAD_WINDOW, pool_to_ticks, speech_mask
from emoannot.speech.weights import ENCODER_DIM
from emoannot.features.text import WordEncoder
from emoannot.model.heads import HeadEnsemble, VAHead
from emoannot.metrics import ccc
from emoannot.model.rjcma import ccc as ccc_torch
from emoannot.timeline import MODEL_FPS
from emoannot.train.corpora import SPEECH_CLASSES, SpeechClip, cached, emobank, speech_clips
from emoannot.video import AUDIO_RATE, load_audio

#: speakers kept out of the shipped audio head, for the held-out fusion composites
HELDOUT_SPEAKERS = ("emodb03", "emodb08", "crema1002", "ravdess23", "ravdess24")
#: the whisper encoder whose states the audio head reads (written into its card as "encoder")
AUDIO_ENCODER = AsrModel.tiny_en


# ----------------------------------------------------------------------------- features

@dataclass(frozen=True)
class SpeechFeatures:
    clips: list[SpeechClip]
    ticks: np.ndarray  #: [sum k_i, 384] pooled encoder states of all clips, concatenated
    mask: np.ndarray  #: [sum k_i] speech (VAD) mask
    offsets: np.ndarray  #: [n + 1] start of each clip in ticks

    def clip(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.offsets[i], self.offsets[i + 1]
        return self.ticks[a:b], self.mask[a:b]

    def clip_mean(self, i: int) -> np.ndarray:
        x, m = self.clip(i)
        return x[m].mean(0) if m.any() else x.mean(0)


def speech_corpus_features(data: Path, cache: Path, log=print) -> SpeechFeatures:
    from emoannot.features.audio import AudioEncoder
    from emoannot.speech import detect_speech
    from emoannot.speech.vad import load_vad
    from emoannot.timeline import n_ticks

    clips = speech_clips(data)

    def build() -> dict[str, np.ndarray]:
        encoder, vad = AudioEncoder(AUDIO_ENCODER, ENCODER_DIM[AUDIO_ENCODER], "cpu"), load_vad()
        ticks, masks, offsets = [], [], [0]
        for i, c in enumerate(clips):
            audio = load_audio(c.path)[: 30 * AUDIO_RATE]
            states = encoder.encode(audio)
            k = n_ticks(len(audio) / AUDIO_RATE)
            t = pool_to_ticks(states, k)
            m = speech_mask(detect_speech(audio, vad), k)
            ticks.append(t)
            masks.append(m)
            offsets.append(offsets[-1] + k)
            if i % 50 == 0:
                log(f"speech features {i + 1}/{len(clips)}")
        return {"ticks": np.concatenate(ticks).astype(np.float16), "mask": np.concatenate(masks),
                "offsets": np.asarray(offsets)}

    key = "speech-v1|" + "|".join(str(c.path.name) for c in clips)
    z = cached(cache / "speech_features.npz", key, build)
    return SpeechFeatures(clips, z["ticks"].astype(np.float32), z["mask"], z["offsets"])


@dataclass(frozen=True)
class TextFeatures:
    split: np.ndarray  #: [N] train/dev/test
    va: np.ndarray  #: [N, 2]
    sentence: np.ndarray  #: [N, 384] mean of the sentence's word vectors
    words: np.ndarray  #: [sum n_words, 384] float16 word vectors
    offsets: np.ndarray  #: [N + 1]

    def word_vectors(self, i: int) -> np.ndarray:
        return self.words[self.offsets[i] : self.offsets[i + 1]].astype(np.float32)


def emobank_features(data: Path, cache: Path, log=print) -> TextFeatures:
    eb = emobank(data)

    def build() -> dict[str, np.ndarray]:
        enc = WordEncoder()
        words, sent, offsets = [], [], [0]
        for i, s in enumerate(eb.text):
            v = enc.encode_words(s.split())
            words.append(v.astype(np.float16))
            sent.append(v.mean(0))
            offsets.append(offsets[-1] + len(v))
            if i % 2000 == 0:
                log(f"text features {i + 1}/{len(eb.text)}")
        return {"words": np.concatenate(words), "sentence": np.stack(sent).astype(np.float32),
                "offsets": np.asarray(offsets)}

    z = cached(cache / "text_features.npz", f"text-v1|{len(eb.text)}", build)
    return TextFeatures(eb.split, eb.va, z["sentence"], z["words"], z["offsets"])


# ----------------------------------------------------------------------------- training

def balanced_weights(labels: np.ndarray, boost: dict[int, float] | None = None) -> np.ndarray:
    """Per-sample weights that give every class the same total (times `boost` for chosen classes)."""
    labels = np.asarray(labels)
    w = np.zeros(len(labels), np.float64)
    for c in np.unique(labels):
        sel = labels == c
        w[sel] = (boost or {}).get(int(c), 1.0) / sel.sum()
    return w / w.sum()


def fit_head(x: np.ndarray, va: np.ndarray, cls: np.ndarray | None = None, n_classes: int = 0,
             x_val: np.ndarray | None = None, va_val: np.ndarray | None = None, epochs: int = 400,
             lr: float = 2e-3, weight_decay: float = 1e-2, seed: int = 0, hidden: int = 128,
             sample_weights: np.ndarray | None = None) -> VAHead:
    """Mini-batch AdamW; keeps the epoch with the best validation mean CCC when a validation set is given.
    With `sample_weights`, each epoch draws its samples in proportion to them (balanced batches, so that
    every term of the loss sees the balance)."""
    torch.manual_seed(seed)
    head = VAHead(x.shape[1], n_classes, hidden)
    xt = torch.from_numpy(x.astype(np.float32))
    head.mean.copy_(xt.mean(0))
    head.std.copy_(xt.std(0) + 1e-4)
    yt = torch.from_numpy(va.astype(np.float32))
    ct = torch.from_numpy(cls.astype(np.int64)) if cls is not None else None
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    best, best_state = -np.inf, None
    gen = torch.Generator().manual_seed(seed)
    draw = torch.from_numpy(np.asarray(sample_weights, np.float64)) if sample_weights is not None else None
    for epoch in range(epochs):
        head.train()
        perm = (torch.multinomial(draw, len(xt), replacement=True, generator=gen) if draw is not None
                else torch.randperm(len(xt), generator=gen))
        for s in range(0, len(xt), 1024):
            idx = perm[s : s + 1024]
            pred, logits = head(xt[idx])
            loss = torch.nn.functional.mse_loss(pred, yt[idx]) + (2 - ccc_torch(pred[:, 0], yt[idx, 0], 0)
                                                                 - ccc_torch(pred[:, 1], yt[idx, 1], 0)) / 2
            if ct is not None and logits is not None:
                sel = ct[idx] >= 0
                if sel.any():
                    loss = loss + torch.nn.functional.cross_entropy(logits[sel], ct[idx][sel])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if x_val is not None and (epoch % 10 == 9 or epoch == epochs - 1):
            p = head.predict_va(x_val)
            score = (ccc(p[:, 0], va_val[:, 0]) + ccc(p[:, 1], va_val[:, 1])) / 2
            if score > best:
                best, best_state = score, {k: v.clone() for k, v in head.state_dict().items()}
    if best_state is not None:
        head.load_state_dict(best_state)
    return head.eval()


def train_text_head(tf: TextFeatures, seed: int = 0) -> tuple[VAHead, dict]:
    tr, dev, te = (tf.split == s for s in ("train", "dev", "test"))
    head = fit_head(tf.sentence[tr], tf.va[tr], x_val=tf.sentence[dev], va_val=tf.va[dev], epochs=150, seed=seed,
                    hidden=256)
    p = head.predict_va(tf.sentence[te])
    metrics = {"emobank_test_ccc_valence": ccc(p[:, 0], tf.va[te, 0]),
               "emobank_test_ccc_arousal": ccc(p[:, 1], tf.va[te, 1]),
               "n_train": int(tr.sum()), "n_dev": int(dev.sum()), "n_test": int(te.sum())}
    return head, metrics


def _audio_samples(sf: SpeechFeatures, idx: list[int], windows: int, seed: int) -> tuple[np.ndarray, ...]:
    """Clip means plus `windows` random HEAD_WINDOW-tick speech means per clip."""
    rng = np.random.default_rng(seed)
    xs, vas, cls = [], [], []
    for i in idx:
        c = sf.clips[i]
        x, m = sf.clip(i)
        target = (c.valence, c.arousal)
        label = SPEECH_CLASSES.index(c.category) if c.category else -1
        xs.append(sf.clip_mean(i))
        vas.append(target)
        cls.append(label)
        speech = np.flatnonzero(m) if m.any() else np.arange(len(m))
        for _ in range(windows):
            a = int(rng.choice(speech))
            seg = x[a : a + HEAD_WINDOW][m[a : a + HEAD_WINDOW]] if m.any() else x[a : a + HEAD_WINDOW]
            xs.append(seg.mean(0))
            vas.append(target)
            cls.append(label)
    return np.stack(xs), np.asarray(vas, np.float32), np.asarray(cls)


def _speech_balance(cls: np.ndarray) -> np.ndarray:
    """Acted corpora are mostly negative emotions: balance the categories (continuous-only clips are one
    group) and anchor the origin with neutral and calm speech counted NEUTRAL_BOOST times."""
    anchors = {SPEECH_CLASSES.index("neutral"): NEUTRAL_BOOST, SPEECH_CLASSES.index("calm"): NEUTRAL_BOOST}
    return balanced_weights(cls, anchors)


def speaker_references(sf: SpeechFeatures) -> dict[str, np.ndarray]:
    """Each speaker's neutral voice: the mean of the speech ticks of their neutral and calm clips (all their
    clips where they have none: the pyAudioAnalysis group)."""
    refs = {}
    for speaker in sorted({c.speaker for c in sf.clips}):
        mine = [i for i, c in enumerate(sf.clips) if c.speaker == speaker]
        calm = [i for i in mine if sf.clips[i].category in ("neutral", "calm")] or mine
        refs[speaker] = np.concatenate([sf.clip(i)[0][sf.clip(i)[1]] for i in calm if sf.clip(i)[1].any()]).mean(0)
    return refs


def centred(sf: SpeechFeatures, refs: dict[str, np.ndarray]) -> SpeechFeatures:
    """The clips with each speaker's neutral voice taken away (speech ticks only; the rest stays zero)."""
    ticks = sf.ticks.copy()
    for i, c in enumerate(sf.clips):
        a, b = sf.offsets[i], sf.offsets[i + 1]
        ticks[a:b] = np.where(sf.mask[a:b, None], ticks[a:b] - refs[c.speaker], 0.0)
    return SpeechFeatures(sf.clips, ticks, sf.mask, sf.offsets)


def as_the_product_reads(sf: SpeechFeatures, i: int, reference: np.ndarray, prior: float) -> np.ndarray:
    """Clip i's mean as the product sees a video holding only that clip: centred on speaker_centre."""
    from emoannot.features.audio import speaker_centre

    x, m = sf.clip(i)
    return sf.clip_mean(i) - speaker_centre(x, m, reference, prior)


def _neutral_content_jitter(sf: SpeechFeatures, idx: list[int], x: np.ndarray, va: np.ndarray, cls: np.ndarray,
                            seed: int) -> tuple[np.ndarray, ...]:
    """The acted corpora say two sentences (RAVDESS) or ten (EmoDB) per speaker, so the head never saw a calm
    voice saying other words: in long read speech it took the window-to-window movement of the content for
    emotion (mostly negative, as most acted emotions are). Each neutral and calm sample is added
    NEUTRAL_JITTER_COPIES more times, moved by a within-clip deviation (a 1-s speech mean minus its clip's
    speech mean, from any training clip) scaled by U(0, 1), with its neutral label."""
    second = int(round(MODEL_FPS))  # ticks in 1 s of speech; a clip needs 1.5 s of speech to give a deviation
    rng = np.random.default_rng(seed + 1)
    deviations = []
    for i in idx:
        t, m = sf.clip(i)
        speech = np.flatnonzero(m)
        if len(speech) < 1.5 * second:
            continue
        mean = t[m].mean(0)
        for _ in range(2):
            a = int(rng.integers(0, len(speech) - second))
            deviations.append(t[speech[a : a + second]].mean(0) - mean)
    calm = np.flatnonzero(np.isin(cls, [SPEECH_CLASSES.index("neutral"), SPEECH_CLASSES.index("calm")]))
    if not deviations or not len(calm):
        return x, va, cls
    dev = np.asarray(deviations, np.float32)
    extra = np.repeat(calm, NEUTRAL_JITTER_COPIES)
    moved = x[extra] + dev[rng.integers(0, len(dev), len(extra))] * rng.uniform(0, 1, (len(extra), 1)).astype(np.float32)
    return np.concatenate([x, moved]), np.concatenate([va, va[extra]]), np.concatenate([cls, cls[extra]])


def _fit_audio(sf: SpeechFeatures, idx: list[int], seed: int) -> VAHead:
    x, va, cls = _neutral_content_jitter(sf, idx, *_audio_samples(sf, idx, 4, seed), seed)
    return fit_head(x, va, cls, len(SPEECH_CLASSES), epochs=150, seed=seed, sample_weights=_speech_balance(cls))


#: the classes each corpus is scored over, as indices of SPEECH_CLASSES: RAVDESS 8 ways, EmoDB 7
CORPUS_CLASSES = {"ravdess": [SPEECH_CLASSES.index(c) for c in ("angry", "calm", "disgust", "fear", "happy", "neutral",
                                                                 "sad", "surprise")],
                  "emodb": [SPEECH_CLASSES.index(c) for c in ("angry", "bored", "disgust", "fear", "happy", "neutral",
                                                               "sad")]}


def speaker_folds(sf: SpeechFeatures, k: int = 4) -> list[list[str]]:
    """The audio head's leave-speakers-out folds: the RAVDESS actors and the EmoDB speakers, each sorted and
    dealt round-robin into k folds (the other corpora's speakers are always trained on)."""
    ravdess = sorted({c.speaker for c in sf.clips if c.corpus == "ravdess"})
    emodb = sorted({c.speaker for c in sf.clips if c.corpus == "emodb"})
    return [ravdess[i::k] + emodb[i::k] for i in range(k)]


def train_audio_head(sf: SpeechFeatures, exclude_speakers: tuple[str, ...] = HELDOUT_SPEAKERS,
                     seed: int = 0) -> tuple[VAHead, dict, SpeechFeatures]:
    """Speaker-normalised audio head: every training clip minus its speaker's neutral voice
    (speaker_references), so that the head reads how a voice departs from that speaker's calm, not who speaks
    or in which corpus. At inference a video is centred on features.audio.speaker_centre (its own speech,
    drawn towards the training speakers' mean neutral voice for short clips), stored in the head as
    `centre` / `centre_prior`. Leave-speakers-out cross-validation in 4 folds over the RAVDESS actors and
    EmoDB speakers (each fold: 6 actors, 2-3 EmoDB speakers out), scored two ways: centred on the held-out
    speaker's own neutral clips (what the head can do), and as the product reads a lone clip. Then the
    shipped head on all but `exclude_speakers`. Returns the head, its metrics and the centred features (what
    the fusion is trained on)."""
    from emoannot.features.audio import SPEAKER_PRIOR_TICKS

    refs = speaker_references(sf)
    sfc = centred(sf, refs)
    folds = speaker_folds(sf)
    hits = {(corpus, how): [] for corpus in ("ravdess", "emodb") for how in ("own_neutral", "as_product")}
    preds, targets = [], []
    for fold in folds:
        train_idx = [i for i, c in enumerate(sf.clips) if c.speaker not in fold]
        test_idx = [i for i, c in enumerate(sf.clips) if c.speaker in fold and c.corpus in ("ravdess", "emodb")]
        head = _fit_audio(sfc, train_idx, seed)
        reference = np.mean([refs[s] for s in {sf.clips[i].speaker for i in train_idx}], 0)
        for how, x in (("own_neutral", np.stack([sfc.clip_mean(i) for i in test_idx])),
                       ("as_product", np.stack([as_the_product_reads(sf, i, reference, SPEAKER_PRIOR_TICKS)
                                                for i in test_idx]))):
            proba = head.predict_proba(x)
            for j, i in enumerate(test_idx):
                c = sf.clips[i]
                allowed = CORPUS_CLASSES[c.corpus]
                hits[(c.corpus, how)].append(allowed[int(proba[j, allowed].argmax())] == SPEECH_CLASSES.index(c.category))
            if how == "as_product":
                preds.append(head.predict_va(x))
                targets.append(np.asarray([(sf.clips[i].valence, sf.clips[i].arousal) for i in test_idx]))
    p, t = np.concatenate(preds), np.concatenate(targets)
    metrics = {"ravdess_leave_actors_out_accuracy_8class": float(np.mean(hits[("ravdess", "own_neutral")])),
               "ravdess_leave_actors_out_accuracy_8class_as_product_reads_one_clip":
                   float(np.mean(hits[("ravdess", "as_product")])),
               "emodb_leave_speakers_out_accuracy_7class": float(np.mean(hits[("emodb", "own_neutral")])),
               "emodb_leave_speakers_out_accuracy_7class_as_product_reads_one_clip":
                   float(np.mean(hits[("emodb", "as_product")])),
               "leave_speakers_out_ccc_valence_as_product": ccc(p[:, 0], t[:, 0]),
               "leave_speakers_out_ccc_arousal_as_product": ccc(p[:, 1], t[:, 1]),
               "folds": [list(f) for f in folds], "n_ravdess": len(hits[("ravdess", "own_neutral")]),
               "n_emodb": len(hits[("emodb", "own_neutral")]),
               "speaker_normalisation": "each training clip minus its speaker's neutral/calm mean; at inference "
                                        f"the video's speech mean drawn towards the reference by {SPEAKER_PRIOR_TICKS} "
                                        "ticks (features.audio.speaker_centre)",
               "neutral_content_jitter": f"each neutral/calm sample {NEUTRAL_JITTER_COPIES} more times, moved by a "
                                         "within-clip 1-s deviation x U(0, 1) (fit_heads._neutral_content_jitter)",
               "head_window_ticks": HEAD_WINDOW}
    train_idx = [i for i, c in enumerate(sf.clips) if c.speaker not in exclude_speakers]
    head = _fit_audio(sfc, train_idx, seed)
    reference = np.mean([refs[s] for s in {sf.clips[i].speaker for i in train_idx}], 0)
    head.centre.copy_(torch.from_numpy(reference.astype(np.float32)))
    head.centre_prior.fill_(float(SPEAKER_PRIOR_TICKS))
    held = [i for i, c in enumerate(sf.clips) if c.speaker in exclude_speakers]
    xh = np.stack([as_the_product_reads(sf, i, reference, SPEAKER_PRIOR_TICKS) for i in held])
    ph = head.predict_va(xh)
    th = np.asarray([(sf.clips[i].valence, sf.clips[i].arousal) for i in held])
    metrics.update({"heldout_speakers": list(exclude_speakers), "n_heldout_clips": len(held),
                    "heldout_ccc_valence": ccc(ph[:, 0], th[:, 0]), "heldout_ccc_arousal": ccc(ph[:, 1], th[:, 1]),
                    "n_train_clips": len(train_idx)})
    return head, metrics, sfc


NEUTRAL_JITTER_COPIES = 4  #: extra, content-jittered copies of each neutral/calm voice sample (_neutral_content_jitter)
NEUTRAL_BOOST = 2.0  #: neutral (and calm) samples count this much more than any other class's: the origin anchors
CALIBRATION_FOLDS = 5
#: seeds of the face-only head, read as their average (HeadEnsemble), so that a reading does not hang on one
#: seed's luck: single heads (seeds 0-4) read FER+ majority 0.788-0.798 and MEAD's neutral faces +0.07..+0.20
VISUAL_HEAD_MEMBERS = 5


def anchored_affine(means: np.ndarray, points: np.ndarray, anchor: int) -> tuple[np.ndarray, np.ndarray]:
    """The affine map y = x @ matrix + offset that sends the anchor class's mean prediction exactly to its
    point (neutral -> (0, 0)) and the other classes' means as close to theirs as a 2 x 2 matrix can."""
    others = [c for c in range(len(means)) if c != anchor]
    matrix, *_ = np.linalg.lstsq(means[others] - means[anchor], points[others] - points[anchor], rcond=None)
    offset = points[anchor] - means[anchor] @ matrix
    return matrix.astype(np.float32), offset.astype(np.float32)


def class_point_metrics(pred: np.ndarray, classes: list[str]) -> dict:
    """Per-class mean (V, A), its distance to the class's circumplex point, and CCC against the points."""
    from emoannot.labels import va_point

    classes = np.asarray(classes)
    points = np.asarray([va_point(c) for c in classes])
    per = {}
    for c in sorted(set(classes)):
        m = pred[classes == c].mean(0)
        per[c] = {"valence": float(m[0]), "arousal": float(m[1]), "n": int((classes == c).sum()),
                  "distance_to_point": float(np.linalg.norm(m - np.asarray(va_point(c))))}
    return {"per_class": per, "ccc_valence": ccc(pred[:, 0], points[:, 0]), "ccc_arousal": ccc(pred[:, 1], points[:, 1]),
            "max_distance_to_point": max(v["distance_to_point"] for v in per.values())}


def fit_soft_head(x: np.ndarray, soft: np.ndarray, points: np.ndarray, anchor: int, epochs: int = 60,
                  seed: int = 0, hidden: int = 128, boost: float = NEUTRAL_BOOST) -> VAHead:
    """A VAHead on soft category labels (annotators' vote shares): the target point is the votes' average
    of the class points, the category loss the cross-entropy against the vote shares. Batches drawn with
    the classes (by majority) balanced and the anchor class (neutral) counted `boost` times."""
    torch.manual_seed(seed)
    head = VAHead(x.shape[1], soft.shape[1], hidden)
    xt = torch.from_numpy(x.astype(np.float32))
    head.mean.copy_(xt.mean(0))
    head.std.copy_(xt.std(0) + 1e-4)
    st = torch.from_numpy(soft.astype(np.float32))
    vt = st @ torch.from_numpy(points.astype(np.float32))
    draw = torch.from_numpy(balanced_weights(soft.argmax(1), {anchor: boost}))
    opt = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=1e-2)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        head.train()
        perm = torch.multinomial(draw, len(xt), replacement=True, generator=gen)
        for s in range(0, len(xt), 512):
            idx = perm[s : s + 512]
            pred, logits = head(xt[idx])
            loss = (torch.nn.functional.mse_loss(pred, vt[idx])
                    + (2 - ccc_torch(pred[:, 0], vt[idx, 0], 0) - ccc_torch(pred[:, 1], vt[idx, 1], 0)) / 2
                    - (st[idx] * logits.log_softmax(1)).sum(1).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
    return head.eval()


def category_metrics(proba: np.ndarray, truth: np.ndarray, classes: tuple[str, ...]) -> dict:
    """Accuracy, per-class recall and the confusion matrix (rows: truth, columns: guess) of the most
    probable category."""
    guess = proba.argmax(1)
    confusion = np.zeros((len(classes), len(classes)), np.int64)
    np.add.at(confusion, (truth, guess), 1)
    return {"accuracy": float((guess == truth).mean()), "n": int(len(truth)),
            "recall": {c: float(confusion[i, i] / max(confusion[i].sum(), 1)) for i, c in enumerate(classes)},
            "confusion": confusion.tolist(), "classes": list(classes)}


def fit_calibrated_visual_head(x_fit: np.ndarray, soft_fit: np.ndarray, seed: int, epochs: int = 60) -> VAHead:
    """One face-only head: fit_soft_head on the faces' vote shares, then calibrated by an anchored affine map
    fitted on out-of-fold predictions of the same faces, so that typical neutral faces land on (0, 0)."""
    from emoannot.labels import FACE_CLASSES, va_point

    neutral = FACE_CLASSES.index("neutral")
    points = np.asarray([va_point(c) for c in FACE_CLASSES], np.float32)

    def fit(x, soft):
        return fit_soft_head(x, soft, points, neutral, epochs, seed)

    folds = np.random.default_rng(seed).integers(0, CALIBRATION_FOLDS, len(x_fit))
    oof = np.zeros((len(x_fit), 2), np.float32)
    for k in range(CALIBRATION_FOLDS):
        oof[folds == k] = fit(x_fit[folds != k], soft_fit[folds != k]).predict_va(x_fit[folds == k])
    head = fit(x_fit, soft_fit)
    major = soft_fit.argmax(1)
    means = np.stack([oof[major == c].mean(0) for c in range(len(FACE_CLASSES))])
    matrix, offset = anchored_affine(means, points, neutral)
    head.cal_matrix.copy_(torch.from_numpy(matrix))
    head.cal_offset.copy_(torch.from_numpy(offset))
    return head


def train_visual_head(x_fit: np.ndarray, soft_fit: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                      plus_test: np.ndarray, posterior_va_test: np.ndarray, seed: int = 0,
                      epochs: int = 60, members: int = VISUAL_HEAD_MEMBERS) -> tuple[HeadEnsemble, dict]:
    """The face-only valence/arousal and category: `members` heads (fit_calibrated_visual_head, seeds
    seed * members + 0, 1, ...) from face_vector (expression-CNN embedding + the landmarker's blendshapes and
    read bit) to the vote-weighted class point and the vote shares, fitted on FER2013 train + validation with
    FER+ soft labels and CK+ (hard labels), classes balanced and neutral counted NEUTRAL_BOOST times; read as
    their average (HeadEnsemble). Scored on FER2013 test against its own labels (`y_test`) and against the
    FER+ majority (`plus_test`, -1 where FER+ has none), the ensemble and each member."""
    from emoannot.labels import FACE_CLASSES

    head = HeadEnsemble([fit_calibrated_visual_head(x_fit, soft_fit, seed * members + i, epochs) for i in range(members)])
    proba = head.predict_proba(x_test)
    has_plus = plus_test >= 0
    names = [FACE_CLASSES[int(c)] for c in y_test]
    read = x_test[:, -1] > 0
    metrics = {"fer2013_test": class_point_metrics(head.predict_va(x_test), names),
               "fer2013_test_posterior_average_before": class_point_metrics(posterior_va_test, names),
               "fer2013_test_categories": category_metrics(proba, y_test, FACE_CLASSES),
               "ferplus_majority_test_categories": category_metrics(proba[has_plus], plus_test[has_plus], FACE_CLASSES),
               "members_ferplus_majority_test_accuracy": [
                   float((m.predict_proba(x_test[has_plus]).argmax(1) == plus_test[has_plus]).mean()) for m in head.members],
               "fer2013_test_faces_read_by_the_landmarker": float(read.mean()),
               "n_fit": int(len(x_fit)), "n_test": int(len(y_test)), "neutral_boost": NEUTRAL_BOOST,
               "epochs": epochs, "members": members}
    return head, metrics
