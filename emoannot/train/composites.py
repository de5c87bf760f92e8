"""Composite sequences for training the fusions from unimodal corpora (no audio-visual V/A corpus exists here).

A sequence of L model ticks is cut into 1-4 segments, or (half of the sequences) into segments of
0.5-4 s. A segment has one emotion category per modality, the same for all in most segments and a
different one for the voice and words in mixed segments; its target is the circumplex point
(emoannot.labels) of what the face shows, or of the voice when there is no face:
- face: FER2013 images of that class, each held for 0.5-1.5 s (a face changes slowly);
- voice: speech clips of that category (EmoDB / RAVDESS / CREMA-D) back to back with short pauses;
- words: an EmoBank sentence whose own V/A label is among the closest to the category's point,
  spread over the speech ticks at about 3 words per second.
Modalities go missing at random per segment as in real video: no face, silence (then no words), speech
without words. Held-out composites use only held-out images (FER2013 test), speakers and sentences.
Each tick also carries the target's category (the face's, else the voice's; -1 with neither) and the
face's and voice's own categories (Foal-Net's alignment and label matching). A category without speech
clips (surprise has only a few RAVDESS clips) gets silent segments unless another voice is mixed in.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emoannot.features import moving_mean
from emoannot.features.audio import HEAD_WINDOW
from emoannot.features.text import word_context_means
from emoannot.labels import FACE_CLASSES, va_point
from emoannot.train.fit_fusion import Windows

#: the fusions' categories: the expression CNN's seven classes (calm and contempt have no face data here)
CATEGORIES = FACE_CLASSES
EMOBANK_SCALE = 0.4  #: EmoBank's labels cluster near neutral: match sentences to the point scaled by this
NEAREST_SENTENCES = 150
P_FACE, P_SPEECH, P_WORDS = 0.75, 0.7, 0.8
P_FAST = 0.5  #: share of sequences cut into short segments
FAST_SEGMENT = (5, 40)  #: their segments last 0.5-4 s (in ticks)
P_MIXED = 0.3  #: share of segments whose voice (and words) carry another emotion than the face
#: speech categories the faces do not have, as the voice of one they do: calm speech is the neutral voice (so
#: composites hold calm speech under neutral faces, and, mixed, expressive faces over calm speech)
VOICE_AS = {"calm": "neutral"}


@dataclass(frozen=True)
class Pool:
    """Per-modality material of one split."""
    face_emb: dict[str, np.ndarray]  #: category -> [n, d] what the fusion reads of a face (features.visual)
    face_va: dict[str, np.ndarray]  #: category -> [n, 2] face-only estimates
    clips: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]  #: category -> [(ticks, mask, va)]
    sentences: dict[str, list[tuple[np.ndarray, np.ndarray]]]  #: category -> [(word vectors, word va)]


def build_pool(face_emb: np.ndarray, face_va: np.ndarray, face_y: np.ndarray, speech, clip_idx: list[int],
               audio_head, text, sent_idx: np.ndarray, text_head) -> Pool:
    fe = {c: face_emb[face_y == FACE_CLASSES.index(c)] for c in CATEGORIES}
    fv = {c: face_va[face_y == FACE_CLASSES.index(c)] for c in CATEGORIES}
    clips: dict[str, list] = {c: [] for c in CATEGORIES}
    for i in clip_idx:
        c = VOICE_AS.get(speech.clips[i].category, speech.clips[i].category)
        if c in clips:
            x, m = speech.clip(i)
            if not m.any():
                continue
            va = np.full((len(m), 2), np.nan, np.float32)
            va[m] = audio_head.predict_va(moving_mean(np.where(m[:, None], x, 0), m, HEAD_WINDOW)[m])
            clips[c].append((np.where(m[:, None], x, 0).astype(np.float32), m, va))
    sents: dict[str, list] = {}
    labels = text.va[sent_idx]
    for c in CATEGORIES:
        target = np.asarray(va_point(c)) * EMOBANK_SCALE
        order = np.argsort(((labels - target) ** 2).sum(1))[:NEAREST_SENTENCES]
        chosen = []
        for j in sent_idx[order]:
            vec = text.word_vectors(int(j))
            if len(vec):
                chosen.append((vec, text_head.predict_va(word_context_means(vec))))
        sents[c] = chosen
    return Pool(fe, fv, clips, sents)


def _bounds(rng, length: int, fast: bool) -> list[int]:
    """Segment boundaries: 0.5-4 s segments (a face that changes fast), or 1-4 segments of at least 1.5 s."""
    if fast:
        bounds = [0]
        while bounds[-1] < length:
            bounds.append(min(length, bounds[-1] + int(rng.integers(FAST_SEGMENT[0], FAST_SEGMENT[1] + 1))))
        return bounds
    n_seg = int(rng.integers(1, 5))
    cuts = np.sort(rng.choice(np.arange(15, length - 14), size=n_seg - 1, replace=False)) if n_seg > 1 else []
    return [0, *cuts, length]


def compose(pool: Pool, n: int, length: int, seed: int, p_fast: float = P_FAST,
            p_mixed: float = P_MIXED) -> tuple[Windows, np.ndarray]:
    """n sequences of `length` ticks -> Windows and [n, length, 3] bool presence (face, speech, words).

    The target of a segment is the point of what the face shows when a face is present, else of what the
    voice says: in a mixed segment (p_mixed) the voice and the words carry other emotions than the face,
    and the fusion must follow the face. Ticks of a segment with nothing present carry no label (no
    information, no number)."""
    rng = np.random.default_rng(seed)
    dv = next(iter(pool.face_emb.values())).shape[1]
    da = next(c for c in pool.clips.values() if c)[0][0].shape[1]
    dt = next(iter(pool.sentences.values()))[0][0].shape[1]
    vis = np.zeros((n, length, dv + 3), np.float32)
    aud = np.zeros((n, length, da + 3), np.float32)
    txt = np.zeros((n, length, dt + 3), np.float32)
    target = np.zeros((n, length, 2), np.float32)
    labelled = np.ones((n, length), bool)
    present = np.zeros((n, length, 3), bool)
    category, face_cat, voice_cat = (np.full((n, length), -1, np.int64) for _ in range(3))
    face_cats = [c for c in CATEGORIES if len(pool.face_emb[c])]
    voice_cats = [c for c in face_cats if pool.clips[c] and pool.sentences[c]]

    def pick(cats: list[str]) -> str:
        return cats[int(rng.integers(len(cats)))]

    for s in range(n):
        bounds = _bounds(rng, length, rng.random() < p_fast)
        for a, b in zip(bounds[:-1], bounds[1:]):
            face = pick(face_cats)
            mixed = rng.random() < p_mixed
            voice = pick(voice_cats) if mixed else (face if face in voice_cats else None)
            words = (pick(voice_cats) if rng.random() < 0.5 else voice) if mixed else voice
            has_face = rng.random() < P_FACE
            speech_ticks = np.zeros(0, np.int64)
            if has_face:
                _fill_face(vis[s], a, b, pool, face, rng, dv)
                present[s, a:b, 0] = vis[s, a:b, -1] > 0
                face_cat[s, a:b] = CATEGORIES.index(face)
            if voice is not None and rng.random() < P_SPEECH:
                speech_ticks = _fill_audio(aud[s], a, b, pool, voice, rng, da)
                present[s, speech_ticks, 1] = True
                voice_cat[s, speech_ticks] = CATEGORIES.index(voice)
                if len(speech_ticks) and rng.random() < P_WORDS:
                    present[s, _fill_text(txt[s], speech_ticks, pool, words, rng, dt), 2] = True
            shown = face if has_face or not len(speech_ticks) else voice
            target[s, a:b] = va_point(shown)
            labelled[s, a:b] = has_face or len(speech_ticks) > 0
            if labelled[s, a]:
                category[s, a:b] = CATEGORIES.index(shown)
    return Windows(vis, aud, txt, target, labelled, category, face_cat, voice_cat), present


def faces_only(pool: Pool, n: int, length: int, seed: int, hold: int = 10) -> tuple[Windows, np.ndarray]:
    """Mixed-order faces, `hold` ticks (1 s) each, no audio: does the fusion follow a face that changes?"""
    rng = np.random.default_rng(seed)
    dv = next(iter(pool.face_emb.values())).shape[1]
    da = next(c for c in pool.clips.values() if c)[0][0].shape[1]
    dt = next(iter(pool.sentences.values()))[0][0].shape[1]
    vis = np.zeros((n, length, dv + 3), np.float32)
    target = np.zeros((n, length, 2), np.float32)
    category = np.zeros((n, length), np.int64)
    cats = [c for c in CATEGORIES if len(pool.face_emb[c])]
    for s in range(n):
        for a in range(0, length, hold):
            c = cats[int(rng.integers(len(cats)))]
            j = int(rng.integers(len(pool.face_emb[c])))
            vis[s, a : a + hold, :dv] = pool.face_emb[c][j]
            vis[s, a : a + hold, dv : dv + 2] = pool.face_va[c][j]
            vis[s, a : a + hold, -1] = 1.0
            target[s, a : a + hold] = va_point(c)
            category[s, a : a + hold] = CATEGORIES.index(c)
    present = np.zeros((n, length, 3), bool)
    present[..., 0] = True
    return (Windows(vis, np.zeros((n, length, da + 3), np.float32), np.zeros((n, length, dt + 3), np.float32),
                    target, np.ones((n, length), bool), category, category.copy(), np.full((n, length), -1)),
            present)


def _fill_face(out: np.ndarray, a: int, b: int, pool: Pool, c: str, rng, dv: int) -> None:
    t = a
    while t < b:
        hold = int(rng.integers(5, 16))
        j = int(rng.integers(len(pool.face_emb[c])))
        end = min(t + hold, b)
        out[t:end, :dv] = pool.face_emb[c][j]
        out[t:end, dv : dv + 2] = pool.face_va[c][j]
        out[t:end, -1] = 1.0
        t += hold


def _fill_audio(out: np.ndarray, a: int, b: int, pool: Pool, c: str, rng, da: int) -> np.ndarray:
    t = a + int(rng.integers(0, 6))
    ticks = []
    while t < b:
        x, m, va = pool.clips[c][int(rng.integers(len(pool.clips[c])))]
        n = min(len(m), b - t)
        sel = np.flatnonzero(m[:n])
        out[t + sel, :da] = x[sel]
        out[t + sel, da : da + 2] = va[sel]
        out[t + sel, -1] = 1.0
        ticks.extend((t + sel).tolist())
        t += n + int(rng.integers(0, 8))
    return np.asarray(ticks, dtype=np.int64)


def _fill_text(out: np.ndarray, speech_ticks: np.ndarray, pool: Pool, c: str, rng, dt: int) -> np.ndarray:
    vec, va = pool.sentences[c][int(rng.integers(len(pool.sentences[c])))]
    per_word = 3  # ticks per word at MODEL_FPS = 10 (about 3 words per second)
    used = []
    for w in range(min(len(vec), len(speech_ticks) // per_word)):
        ticks = speech_ticks[w * per_word : (w + 1) * per_word]
        out[ticks, :dt] = vec[w]
        out[ticks, dt : dt + 2] = va[w]
        out[ticks, -1] = 1.0
        used.extend(ticks.tolist())
    return np.asarray(used, dtype=np.int64)
