"""Video I/O at the edge: probe, a streaming frame iterator with each frame's own timestamp, and
16 kHz mono audio extraction. Decoding uses PyAV (FFmpeg libraries); audio goes through the ffmpeg
binary shipped by imageio-ffmpeg."""
from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from emoannot.errors import InputError
from emoannot.records import Frame, VideoInfo

AUDIO_RATE = 16_000  #: Hz; what VAD, whisper and the audio features expect
#: what `batch` and `train` pick up from a folder by default
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".flv", ".m4v", ".mpg", ".mpeg", ".wmv", ".3gp", ".ts",
                    ".mts")


def _open(path: Path):
    import av

    if not path.exists():
        raise InputError(f"{path}: no such file. Check the path (quote names with spaces).", stage="probe")
    if path.is_dir():
        raise InputError(f"{path} is a folder; use `emoannot batch {path}` for folders.", stage="probe")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes); the copy or download probably failed.", stage="probe")
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a readable video ({exc.__class__.__name__}: {exc}). "
                         "Check that the file is complete and is a video format FFmpeg reads.", stage="probe") from exc


def _rotation_of(stream) -> int:
    try:
        for frame in stream.container.decode(stream):
            return int(round(getattr(frame, "rotation", 0) or 0)) % 360
    except Exception:  # noqa: BLE001 - a broken first frame is reported by the decoder later
        return 0
    return 0


def probe(path: Path) -> VideoInfo:
    path = Path(path)
    with _open(path) as container:
        if not container.streams.video:
            kind = "an audio-only file" if container.streams.audio else "a file without video"
            raise InputError(f"{path} is {kind}: emoannot needs a video stream. "
                             "Add a still image track with ffmpeg if you want to analyse the voice alone.",
                             stage="probe")
        vs = container.streams.video[0]
        rate = vs.average_rate or vs.guessed_rate or Fraction(30)
        if vs.duration is not None and vs.time_base is not None:
            duration = float(vs.duration * vs.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        width, height = vs.codec_context.width, vs.codec_context.height
        vcodec = vs.codec_context.name
        aud = container.streams.audio[0] if container.streams.audio else None
        n_rep = int(vs.frames or 0)
        rotation = _rotation_of(vs)
    if rotation in (90, 270):
        width, height = height, width
    return VideoInfo(
        path=path, width=width, height=height, fps=float(rate), n_frames_reported=n_rep,
        duration_s=duration, rotation=rotation, video_codec=vcodec, has_audio=aud is not None,
        audio_codec=aud.codec_context.name if aud else "", audio_rate=int(aud.rate or 0) if aud else 0,
        audio_channels=int(aud.channels or 0) if aud else 0, size_bytes=path.stat().st_size)


def _rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate a decoded frame by `rotation` degrees counter-clockwise (FFmpeg's display-matrix sense)."""
    k = {90: 1, 180: 2, 270: 3}.get(rotation, 0)
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


def iter_frames(info: VideoInfo, max_side: int = 640) -> Iterator[Frame]:
    """Decode every frame once, in order, downscaled so its longer side is at most `max_side`."""
    import av

    longest = max(info.width, info.height)
    scale = max(1.0, longest / max_side)
    with _open(info.path) as container:
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        cw, ch = vs.codec_context.width, vs.codec_context.height
        out_w, out_h = int(round(cw / scale)) // 2 * 2, int(round(ch / scale)) // 2 * 2
        fallback_dt = 1.0 / info.fps if info.fps > 0 else 1 / 30
        index, last_t = 0, None
        try:
            for frame in container.decode(vs):
                t = frame.time
                if t is None:
                    t = (last_t + fallback_dt) if last_t is not None else 0.0
                last_t = t
                rgb = frame.to_ndarray(format="rgb24", width=out_w, height=out_h)
                yield Frame(index, float(t), _rotate(rgb, info.rotation), scale)
                index += 1
        except av.error.FFmpegError as exc:
            if index == 0:
                raise InputError(f"{info.path}: no frame could be decoded ({exc}). The file is damaged or "
                                 "truncated; re-export or re-copy it.", stage="decode") from exc
            # A truncated tail: keep the frames decoded so far (the manifest records the count).
    if index == 0:
        raise InputError(f"{info.path}: the video stream holds no decodable frame. The file is damaged or "
                         "truncated; re-export or re-copy it.", stage="decode")


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def load_audio(path: Path, rate: int = AUDIO_RATE) -> np.ndarray:
    """Any file FFmpeg reads -> mono float32 samples at `rate`. Empty array when there is no audio."""
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(rate),
           "-f", "f32le", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        if any("does not contain any stream" in m or "matches no streams" in m for m in msg):
            return np.zeros(0, dtype=np.float32)
        raise InputError(f"{path}: the audio could not be decoded ({msg[-1] if msg else 'ffmpeg failed'}).",
                         stage="audio")
    return np.frombuffer(proc.stdout, dtype=np.float32).copy()
