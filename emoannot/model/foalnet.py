"""Foal-Net: fusion after alignment (Li et al. 2024, "Enhancing Modal Fusion by Alignment and Label
Matching for Multimodal Emotion Recognition", Interspeech 2024).

The paper: the audio and the video are encoded separately; an audio-video emotion alignment task pulls
the two modalities' emotion representations together by contrastive learning; a cross-modal emotion
label matching task predicts whether an audio-video pair carries the same emotion (mismatched pairs are
made by pairing samples of different emotions); the modalities are fused only after this alignment,
and the fused representation is classified. All three losses are trained together (multi-task).

Here, per tick on emoannot's 10 Hz grid, on the same inputs as RJCMA: each modality is encoded by a
projection, residual 1-D convolutions and self-attention over its present ticks; `align_face` and
`align_voice` project face and voice to a shared unit sphere for the contrastive alignment loss
(`alignment_loss`: supervised InfoNCE over ticks where both are present, positives = same emotion);
`match` predicts from the aligned pair whether face and voice show the same emotion (`matching_loss`);
the composites' mixed segments are the mismatched pairs. Fusion after alignment: face attends to
speech (voice + words) and speech to face, then a per-tick head gives valence/arousal and categories.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from emoannot.model.layers import AttentionBlock, ConfigRecord, ConvEncoder, Heads, presence


@dataclass(frozen=True)
class FoalNetConfig(ConfigRecord):
    in_dims: tuple[int, int, int]
    window: int = 100
    dim: int = 96
    heads: int = 4
    conv_layers: int = 2
    kernel: int = 5
    ff: int = 192
    dropout: float = 0.2
    align_dim: int = 64
    head_hidden: int = 128
    classes: tuple[str, ...] = ()


class FoalNet(nn.Module):
    def __init__(self, cfg: FoalNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.encoders = nn.ModuleList(ConvEncoder(c, d, cfg.conv_layers, cfg.kernel, cfg.dropout) for c in cfg.in_dims)
        self.self_attn = nn.ModuleList(AttentionBlock(d, cfg.heads, cfg.ff, cfg.dropout) for _ in cfg.in_dims)
        self.align_face = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, cfg.align_dim))
        self.align_voice = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, cfg.align_dim))
        self.match = nn.Sequential(nn.Linear(4 * cfg.align_dim, d), nn.GELU(), nn.Linear(d, 1))
        self.face_to_speech = AttentionBlock(d, cfg.heads, cfg.ff, cfg.dropout)
        self.speech_to_face = AttentionBlock(d, cfg.heads, cfg.ff, cfg.dropout)
        self.heads = Heads(2 * d, cfg.head_hidden, len(cfg.classes), cfg.dropout)

    def forward_train(self, visual: torch.Tensor, audio: torch.Tensor, text: torch.Tensor):
        on = [presence(x) for x in (visual, audio, text)]
        hs = [att(h, h, m) for att, h, m in zip(self.self_attn, (enc(x) for enc, x in
                                                                 zip(self.encoders, (visual, audio, text))), on)]
        face, voice, words = hs
        z_face = nn.functional.normalize(self.align_face(face), dim=-1)
        z_voice = nn.functional.normalize(self.align_voice(voice), dim=-1)
        match = self.match(torch.cat([z_face, z_voice, (z_face - z_voice).abs(), z_face * z_voice], -1))[..., 0]
        speech_on = on[1] | on[2]
        speech = voice * on[1][..., None] + words * on[2][..., None]
        fused_face = self.face_to_speech(face, speech, speech_on)
        fused_speech = self.speech_to_face(speech, face, on[0])
        va, logits = self.heads(torch.cat([fused_face, fused_speech], -1))
        return va, logits, {"z_face": z_face, "z_voice": z_voice, "match": match}

    def forward(self, visual: torch.Tensor, audio: torch.Tensor, text: torch.Tensor):
        va, logits, _ = self.forward_train(visual, audio, text)
        return va, logits


def _paired_ticks(face_cat: torch.Tensor, voice_cat: torch.Tensor, limit: int, generator: torch.Generator | None):
    """Flat indices of ticks where both face and voice carry a category, at most `limit` (random)."""
    idx = torch.nonzero(((face_cat >= 0) & (voice_cat >= 0)).reshape(-1)).squeeze(1)
    if len(idx) > limit:
        idx = idx[torch.randperm(len(idx), generator=generator)[:limit].to(idx.device)]
    return idx


def alignment_loss(aux: dict, face_cat: torch.Tensor, voice_cat: torch.Tensor, temperature: float = 0.1,
                   limit: int = 256, generator: torch.Generator | None = None) -> torch.Tensor:
    """Supervised InfoNCE between face and voice embeddings of sampled ticks, both directions: a face's
    positives are the voices of the same emotion (categories [B, L], -1 = absent)."""
    idx = _paired_ticks(face_cat, voice_cat, limit, generator)
    if len(idx) < 2:
        return aux["z_face"].sum() * 0.0
    zf = aux["z_face"].reshape(-1, aux["z_face"].shape[-1])[idx]
    zv = aux["z_voice"].reshape(-1, aux["z_voice"].shape[-1])[idx]
    fc, vc = face_cat.reshape(-1)[idx], voice_cat.reshape(-1)[idx]
    sim = zf @ zv.T / temperature
    positive = fc[:, None] == vc[None, :]

    def one_way(s: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        rows = pos.any(1)
        log_all = torch.logsumexp(s, 1)
        log_pos = torch.logsumexp(s.masked_fill(~pos, float("-inf")), 1)
        return (log_all - log_pos)[rows].mean()

    return (one_way(sim, positive) + one_way(sim.T, positive.T)) / 2


def matching_loss(aux: dict, face_cat: torch.Tensor, voice_cat: torch.Tensor) -> torch.Tensor:
    """Cross-modal label matching: binary cross-entropy of `match` against face category == voice category,
    at every tick where both are present."""
    both = (face_cat >= 0) & (voice_cat >= 0)
    if not both.any():
        return aux["match"].sum() * 0.0
    return nn.functional.binary_cross_entropy_with_logits(aux["match"][both], (face_cat == voice_cat)[both].float())
