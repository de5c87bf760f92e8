"""Video I/O at the edge: probe, a streaming frame iterator with each frame's own timestamp, and
16 kHz mono audio extraction. Decoding uses PyAV (FFmpeg libraries); audio goes through the ffmpeg
binary shipped by imageio-ffmpeg."""
from __future__ import annotations

import os
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from emoannot.errors import InputError
from emoannot.records import Frame, VideoInfo

AUDIO_RATE = 16_000  #: Hz; what VAD, whisper and the audio features expect
#: what `batch` and `train` pick up from a folder by default
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".flv", ".m4v", ".mpg", ".mpeg", ".wmv", ".3gp", ".ts",
                    ".mts")


def _url(path: Path) -> str:
    """An absolute path: FFmpeg reads a relative name with ':' in it ('take:2.mp4') as a protocol URL."""
    return os.path.abspath(path)


def _open(path: Path):
    import av

    if not path.exists():
        raise InputError(f"{path}: no such file. Check the path (quote names with spaces).", stage="probe")
    if path.is_dir():
        raise InputError(f"{path} is a folder; use `emoannot batch {path}` for folders.", stage="probe")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes); the copy or download probably failed.", stage="probe")
    try:
        return av.open(_url(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)  # FFmpeg's message without the file name again
        raise InputError(f"{path} is not a readable video ({exc.__class__.__name__}: {reason}). "
                         "Check that the file is complete and is a video format FFmpeg reads.", stage="probe") from exc


def _rotation_of(stream) -> int:
    try:
        for frame in stream.container.decode(stream):
            return int(round(getattr(frame, "rotation", 0) or 0)) % 360
    except Exception:  # noqa: BLE001 - a broken first frame is reported by the decoder later
        return 0
    return 0


def _start(stream) -> float | None:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None and stream.time_base else None


def _video_stream(container):
    """The first real video stream: an attached picture (cover art of an mp3/m4a) is not a video."""
    import av

    for s in container.streams.video:
        if not s.disposition & av.stream.Disposition.attached_pic:
            return s
    return None


def probe(path: Path) -> VideoInfo:
    """What the container says, with every time on one clock: seconds since the container's start."""
    path = Path(path)
    with _open(path) as container:
        vs = _video_stream(container)
        if vs is None:
            kind = "an audio-only file" if container.streams.audio else "a file without video"
            extra = " (its picture is cover art, not video)" if container.streams.video else ""
            raise InputError(f"{path} is {kind}{extra}: emoannot needs a video stream. "
                             "Add a still image track with ffmpeg if you want to analyse the voice alone.",
                             stage="probe")
        if vs.codec_context.width < 16 or vs.codec_context.height < 16:
            raise InputError(f"{path}: the video is {vs.codec_context.width}x{vs.codec_context.height} pixels, too "
                             "small to hold a face; emoannot needs frames of at least 16x16.", stage="probe")
        rate = vs.average_rate or vs.guessed_rate or Fraction(30)
        starts = [t for t in (_start(s) for s in container.streams if s is vs or s.type == "audio") if t is not None]
        origin = (container.start_time / 1_000_000 if container.start_time is not None
                  else min(starts, default=0.0))
        if vs.duration is not None and vs.time_base is not None:
            duration = float(vs.duration * vs.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0  # not stated (a streamed WebM, raw H.264): the decoded frames will tell
        width, height = vs.codec_context.width, vs.codec_context.height
        vcodec = vs.codec_context.name
        aud = container.streams.audio[0] if container.streams.audio else None
        audio_offset = max(0.0, (_start(aud) or origin) - origin) if aud is not None else 0.0
        n_rep = int(vs.frames or 0)
        rotation = _rotation_of(vs)
        index = vs.index
    if rotation in (90, 270):
        width, height = height, width
    return VideoInfo(
        path=path, width=width, height=height, fps=float(rate), n_frames_reported=n_rep,
        duration_s=duration, rotation=rotation, video_codec=vcodec, has_audio=aud is not None,
        audio_codec=aud.codec_context.name if aud else "", audio_rate=int(aud.rate or 0) if aud else 0,
        audio_channels=int(aud.channels or 0) if aud else 0, size_bytes=path.stat().st_size,
        start_s=origin, audio_offset_s=audio_offset, video_stream=index)


def _rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate a decoded frame by `rotation` degrees counter-clockwise (FFmpeg's display-matrix sense)."""
    k = {90: 1, 180: 2, 270: 3}.get(rotation, 0)
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


FRAMES_AHEAD = 8  #: frames iter_frames decodes ahead of their use, on its own thread


def iter_frames(info: VideoInfo, max_side: int = 640, ahead: int = FRAMES_AHEAD,
                pixels: Callable[[int, float], bool] | None = None) -> Iterator[Frame]:
    """Decode every frame once, in order, downscaled so its longer side is at most `max_side`. The decoding
    runs on a background thread up to `ahead` frames before the frames are asked for (FFmpeg's decoding and
    colour conversion release the GIL, so they go on while the caller detects faces); `ahead=0`: on the
    caller's thread. An error while decoding is raised where the frame it stopped at would have come.
    `pixels(index, time_s)`, called once per frame in order, says which frames are wanted as pixels: the
    others come with `rgb=None` and skip the colour conversion and scaling (their time is still read)."""
    if ahead <= 0:
        yield from _decode(info, max_side, pixels)
        return
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=ahead)
    stop, end = threading.Event(), object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        frames = _decode(info, max_side, pixels)
        try:
            for frame in frames:
                if not put(frame):
                    return  # the caller has stopped reading
            put(end)
        except BaseException as exc:  # handed to the caller, raised there
            put(exc)
        finally:
            frames.close()

    worker = threading.Thread(target=produce, name="emoannot-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:  # done, an error, or the caller stopped early: the decoding thread ends too
        stop.set()
        worker.join()


def _decode(info: VideoInfo, max_side: int, pixels: Callable[[int, float], bool] | None = None) -> Iterator[Frame]:
    import av

    longest = max(info.width, info.height)
    scale = max(1.0, longest / max_side)
    with _open(info.path) as container:
        vs = container.streams[info.video_stream]
        vs.thread_type = "AUTO"
        cw, ch = vs.codec_context.width, vs.codec_context.height
        out_w, out_h = int(round(cw / scale)) // 2 * 2, int(round(ch / scale)) // 2 * 2
        fallback_dt = 1.0 / info.fps if info.fps > 0 else 1 / 30
        index, last_t = 0, None
        try:
            for frame in container.decode(vs):
                t = frame.time
                if t is None:  # no timestamp (some raw streams): one frame interval after the previous one
                    t = (last_t + fallback_dt) if last_t is not None else 0.0
                else:
                    t -= info.start_s
                last_t = t
                if pixels is None or pixels(index, float(t)):
                    rgb = _rotate(frame.to_ndarray(format="rgb24", width=out_w, height=out_h), info.rotation)
                else:
                    rgb = None
                yield Frame(index, float(t), rgb, scale)
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


def load_audio(path: Path, rate: int = AUDIO_RATE, offset_s: float = 0.0,
               max_seconds: float | None = None) -> np.ndarray:
    """Any file FFmpeg reads -> mono float32 samples at `rate` of its first audio stream; empty when there
    is none. `offset_s` seconds of silence go first, so that sample 0 is at the container's start when the
    audio starts later (VideoInfo.audio_offset_s); `max_seconds` stops decoding there (on that clock).

    The samples stream from ffmpeg straight into one array (sized from `max_seconds` when given, else
    doubled as needed): an hour of audio is held once (230 MB), not three times as with a captured pipe."""
    import tempfile

    limit = [] if max_seconds is None else ["-t", f"{max(0.0, max_seconds - offset_s):.3f}"]
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", _url(path), "-map", "0:a:0?", "-vn", "-ac", "1",
           "-ar", str(rate), *limit, "-f", "f32le", "-"]
    pad = int(round(offset_s * rate))
    size = pad + (int(np.ceil(max(0.0, max_seconds - offset_s) * rate)) + 1 if max_seconds is not None else 30 * rate)
    buf = np.zeros(max(size, 1), np.float32)  # the leading silence is already in place
    filled = pad * 4  # bytes
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        try:
            while True:
                if filled == buf.nbytes:
                    buf = np.concatenate([buf, np.zeros(len(buf), np.float32)])
                n = proc.stdout.readinto(memoryview(buf).cast("B")[filled:])
                if not n:
                    break
                filled += n
        finally:
            proc.stdout.close()
            code = proc.wait()
        err.seek(0)
        msg = err.read().decode(errors="replace").strip().splitlines()
    if code != 0:
        if any("does not contain any stream" in m or "matches no streams" in m for m in msg):
            return np.zeros(0, dtype=np.float32)
        raise InputError(f"{path}: the audio could not be decoded ({msg[-1] if msg else 'ffmpeg failed'}).",
                         stage="audio")
    n = filled // 4
    if n == pad:  # no audio samples at all
        return np.zeros(0, np.float32) if pad == 0 else buf[:pad].copy()
    return buf[:n] if n > 0.9 * len(buf) else buf[:n].copy()  # a copy only where much would be wasted
