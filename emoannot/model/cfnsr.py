"""CFN-SR: cross-modal fusion with self-attention and residual structure (Fu et al. 2021, "A cross-modal
fusion network based on self-attention and residual structure for multimodal emotion recognition").

The paper, for one clip: (1) per-modality representation learning (a 3D ResNeXt then 1-D convolutions
for the video frames, 1-D convolutions for the audio); (2) self-attention over the audio sequence;
(3) cross-modal blocks in which the video attends to the audio, each block's output added back to its
input (the residual structure keeps the original semantics of the modality); (4) the fused vector is
classified. 75.76 % on RAVDESS with 26.3 M parameters.

Here, per tick of emoannot's 10 Hz grid, on the same inputs as RJCMA (frozen expression-CNN, whisper
and MiniLM features, plus each modality's own estimate and presence bit): the frozen encoders take the
place of the 3D ResNeXt, so (1) is a projection and residual 1-D convolutions per modality (ConvEncoder);
(2) self-attention over the speech sequence (voice and words, summed after their encoders) and over
the face sequence; (3) `blocks` cross-modal blocks in both directions (face -> speech and speech ->
face), attention restricted to present ticks plus a learned null token, with residual connections;
(4) the two streams and the face's original representation are concatenated and a per-tick head gives
valence/arousal and the category logits. The paper's classifier is one softmax per clip; the per-tick
regression head is this project's addition, as for RJCMA.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from emoannot.model.layers import AttentionBlock, ConfigRecord, ConvEncoder, Heads, presence


@dataclass(frozen=True)
class CFNSRConfig(ConfigRecord):
    in_dims: tuple[int, int, int]  #: input feature sizes (visual, audio, text), each with its 3 extra columns
    window: int = 100  #: ticks per window (inference cuts videos into windows of this length)
    dim: int = 96
    heads: int = 4
    conv_layers: int = 2
    kernel: int = 5
    blocks: int = 2  #: cross-modal blocks per direction
    ff: int = 192
    dropout: float = 0.2
    head_hidden: int = 128
    classes: tuple[str, ...] = ()


class CFNSR(nn.Module):
    def __init__(self, cfg: CFNSRConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.encoders = nn.ModuleList(ConvEncoder(c, d, cfg.conv_layers, cfg.kernel, cfg.dropout) for c in cfg.in_dims)
        self.self_face = AttentionBlock(d, cfg.heads, cfg.ff, cfg.dropout)
        self.self_speech = AttentionBlock(d, cfg.heads, cfg.ff, cfg.dropout)
        self.face_to_speech = nn.ModuleList(AttentionBlock(d, cfg.heads, cfg.ff, cfg.dropout) for _ in range(cfg.blocks))
        self.speech_to_face = nn.ModuleList(AttentionBlock(d, cfg.heads, cfg.ff, cfg.dropout) for _ in range(cfg.blocks))
        self.heads = Heads(3 * d, cfg.head_hidden, len(cfg.classes), cfg.dropout)

    def forward_train(self, visual: torch.Tensor, audio: torch.Tensor, text: torch.Tensor):
        face_on, voice_on, words_on = presence(visual), presence(audio), presence(text)
        speech_on = voice_on | words_on
        face0, voice, words = (enc(x) for enc, x in zip(self.encoders, (visual, audio, text)))
        speech0 = voice * voice_on[..., None] + words * words_on[..., None]
        face = self.self_face(face0, face0, face_on)
        speech = self.self_speech(speech0, speech0, speech_on)
        for f2s, s2f in zip(self.face_to_speech, self.speech_to_face):
            # each block reads the other stream as it was before this block; AttentionBlock adds its input
            # back (the residual structure), and the face's original representation joins the head's input
            face, speech = f2s(face, speech, speech_on), s2f(speech, face, face_on)
        va, logits = self.heads(torch.cat([face, speech, face0], dim=-1))
        return va, logits, {}

    def forward(self, visual: torch.Tensor, audio: torch.Tensor, text: torch.Tensor):
        va, logits, _ = self.forward_train(visual, audio, text)
        return va, logits
