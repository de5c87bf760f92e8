"""Audio features: whisper encoder hidden states (50 Hz) averaged per tick, inside speech only.

The encoder is always the one the audio head was trained on (its model card names it), whatever model
recognises the words: `--asr-model base` changes the words, not the audio features.

Each voice-activity segment is encoded on its own, with the second or so of audio around it
(encoder_ticks), as the heads' training clips (one utterance each) were: whisper's states depend on where in
its 30 s input a sound sits (positional embeddings, attention over the rest), and the same calm sentence read
valence +0.82 alone and -0.93 after ten seconds of other speech when whole 30 s chunks were encoded (README
"Accuracy", calm speech read as one recording).
"""
from __future__ import annotations

import numpy as np

from emoannot.config import AsrModel
from emoannot.device import compute_type
from emoannot.errors import WeightsError
from emoannot.features import ModalityFeatures, moving_mean
from emoannot.records import Segment
from emoannot.speech.weights import ENCODER_DIM, asr_model_dir
from emoannot.timeline import MODEL_FPS, segments_to_mask, tick_times
from emoannot.video import AUDIO_RATE

#: how speech is encoded (encoder_ticks): each voice-activity segment at most PIECE_S at a time, with the audio
#: PIECE_LEAD_S before it and PIECE_TAIL_S after it, as a training clip holds its utterance (the heads' training
#: clips start speaking after 1.0 s and stop 0.9 s before their end, medians; 99 % are at most 4.8 s long)
PIECE_S = 5.0
PIECE_LEAD_S = 1.0
PIECE_TAIL_S = 0.9
ENCODER_HZ = 50.0  #: whisper encoder frames per second
N_MEL_FRAMES = 3000  #: whisper's fixed 30 s input, in 10 ms mel frames
#: ticks averaged before the audio head (5 s: speech emotion is read over utterances; over 1 s windows the
#: natural prosody of calm speech read as negative, -0.26 on LJSpeech against -0.15: README "Accuracy")
HEAD_WINDOW = 50
#: a video's speech is centred on its own mean, drawn towards the training speakers' neutral mean as if this
#: many ticks (5 s) of it had been heard too (speaker_centre)
SPEAKER_PRIOR_TICKS = 50


class AudioEncoder:
    """The whisper encoder named by the audio head's card (faster-whisper / CTranslate2), loaded on first use.

    `dim` is checked against the head once, here: a head trained on other states is a WeightsError.
    `share` may return an already loaded faster-whisper model of the same weights, to avoid a second copy.
    """

    def __init__(self, model: AsrModel, head_dim: int, device: str, share=None) -> None:
        self.asr_model = AsrModel(model)
        self.dim = ENCODER_DIM[self.asr_model]
        if self.dim != head_dim:
            raise WeightsError(f"the audio head expects {head_dim}-d states but its card names whisper "
                               f"{self.asr_model.value} ({self.dim}-d); the weights set is inconsistent, "
                               "retrain it with `emoannot train`.")
        self.device = device
        self._share = share
        self._model = None

    @property
    def name(self) -> str:
        return f"whisper-{self.asr_model.value} encoder (audio features)"

    def _whisper(self):
        if self._model is None:
            shared = self._share() if self._share is not None else None
            if shared is not None:
                self._model = shared
            else:
                from faster_whisper import WhisperModel

                self._model = WhisperModel(str(asr_model_dir(self.asr_model)), device=self.device,
                                           compute_type=compute_type(self.device))
        return self._model

    def encode(self, piece: np.ndarray) -> np.ndarray:
        """At most 30 s of 16 kHz audio -> encoder states [ceil(seconds * 50), dim] (padding cut off)."""
        model = self._whisper()
        valid = int(np.ceil(len(piece) / AUDIO_RATE * ENCODER_HZ))
        mel = model.feature_extractor(piece)
        mel = np.pad(mel, ((0, 0), (0, max(0, N_MEL_FRAMES - mel.shape[1]))))[:, :N_MEL_FRAMES]
        states = np.asarray(model.encode(mel))[0]
        if states.shape[1] != self.dim:
            raise WeightsError(f"whisper {self.asr_model.value} gave {states.shape[1]}-d states, expected {self.dim}.")
        return states[: min(valid, len(states))]


def utterance_pieces(spans: tuple[Segment, ...], k: int) -> list[tuple[int, int]]:
    """The stretches of ticks [a, b) encoded one at a time (encoder_ticks): each voice-activity segment, one
    longer than PIECE_S cut into PIECE_S pieces. Ordered, not overlapping, inside [0, k)."""
    most = int(round(PIECE_S * MODEL_FPS))
    pieces: list[tuple[int, int]] = []
    for s in sorted(spans, key=lambda s: s.start):
        start = max(pieces[-1][1] if pieces else 0, int(np.floor(s.start * MODEL_FPS)))
        end = min(k, int(np.ceil(s.end * MODEL_FPS - 1e-9)))
        pieces += [(a, min(a + most, end)) for a in range(start, end, most)]
    return pieces


def encoder_ticks(audio: np.ndarray, encoder: AudioEncoder, k: int,
                  spans: tuple[Segment, ...] | None = None) -> np.ndarray:
    """[T] float32 16 kHz -> [k, dim] encoder states averaged per tick. Each piece of utterance_pieces(spans)
    (without spans the whole audio, as if it were all speech) is encoded on its own with the audio around it,
    PIECE_LEAD_S before and PIECE_TAIL_S after (where the recording has it), and fills only its own ticks: a
    clip of a few seconds is encoded whole, from its start, as the training clips were; in a long recording
    every utterance sits near the start of whisper's input, as in training. Only the pooled array grows with
    the video; ticks outside every piece stay zero."""
    out = np.zeros((k, encoder.dim), np.float32)
    if spans is None:
        spans = (Segment(0.0, len(audio) / AUDIO_RATE),)
    per_tick = AUDIO_RATE / MODEL_FPS
    lead, tail = int(round(PIECE_LEAD_S * MODEL_FPS)), int(round(PIECE_TAIL_S * MODEL_FPS))
    for a, b in utterance_pieces(spans, k):
        if int(round(a * per_tick)) >= len(audio):  # the audio stream ends before the video's ticks do
            continue
        c = max(0, a - lead)
        states = encoder.encode(audio[int(round(c * per_tick)) : int(round((b + tail) * per_tick))])
        pooled = pool_to_ticks(states, b - c)[a - c :]
        out[a : a + len(pooled)] = pooled
    return out


def pool_to_ticks(states: np.ndarray, k: int) -> np.ndarray:
    """Average the encoder frames falling in each tick's interval: [T50, d] -> [k, d]."""
    per = ENCODER_HZ / MODEL_FPS
    out = np.zeros((k, states.shape[1]), np.float32)
    for i in range(k):
        a, b = int(round(i * per)), int(round((i + 1) * per))
        if a < len(states):
            out[i] = states[a : max(a + 1, min(b, len(states)))].mean(0)
    return out


def speech_mask(spans: tuple[Segment, ...], k: int) -> np.ndarray:
    """[k] bool: the tick's centre lies in a voice-activity segment."""
    return segments_to_mask(spans, tick_times(k))


def speaker_centre(ticks: np.ndarray, mask: np.ndarray, reference: np.ndarray, prior: float) -> np.ndarray:
    """Where this video's speaker sits in the encoder's space: the mean of its speech ticks, drawn towards
    `reference` (the training speakers' neutral mean) as if `prior` ticks of it had been heard too. A long
    recording is centred on its own speech (most of what people say is near neutral: the speaker's and the
    microphone's offset goes, the emotion stays); a clip of a few seconds mostly on the reference, so that a
    short outburst is not centred away."""
    n = int(mask.sum())
    total = ticks[mask].astype(np.float64).sum(0) if n else np.zeros(ticks.shape[1])
    return ((total + prior * reference.astype(np.float64)) / (n + prior)).astype(np.float32)


def audio_features(ticks: np.ndarray, mask: np.ndarray, head) -> ModalityFeatures:
    """ticks: [K, d] pooled encoder states; head: VAHead. Zero + mask 0 outside speech. A head trained on
    speaker-normalised states (centre_prior > 0) reads, and the fusion gets, the states minus
    speaker_centre."""
    prior = float(head.centre_prior)
    if prior > 0 and mask.any():
        ticks = ticks - speaker_centre(ticks, mask, head.centre.numpy(), prior)
    values = np.where(mask[:, None], ticks, 0.0).astype(np.float32)
    va = np.full((len(mask), 2), np.nan, np.float32)
    if mask.any():
        va[mask] = head.predict_va(moving_mean(values, mask, HEAD_WINDOW)[mask])
    return ModalityFeatures("audio", values, mask, va)
