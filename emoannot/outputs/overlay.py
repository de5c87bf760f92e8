"""Annotated video: face box, a circumplex inset with the current point, a scrolling timeline strip,
subtitles; the original audio is kept. Frames are decoded a second time and re-encoded by PyAV
(libx264) at their own timestamps, then the ffmpeg binary muxes in the original audio.

The video keeps the input's geometry (at most max_side pixels on its longer side): the strip is drawn over
the bottom STRIP_H pixels of the picture, half transparent. With one face its box's colour is the valence
(red -1, amber 0, green +1: _va_colour); with several people each box is in its person's colour
(outputs.PERSON_COLOURS, never red or green) and says its valence in words. A frame whose confidence is
below confidence.LOW says "low confidence" under the inset."""
from __future__ import annotations

import os
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from emoannot.confidence import LOW
from emoannot.errors import OutputError
from emoannot.outputs import emotion_colour, person_colour
from emoannot.records import Annotation
from emoannot.video import ffmpeg_exe, iter_frames

STRIP_H = 70
STRIP_SECONDS = 20.0  #: width of the scrolling timeline window
INSET = 120
SUBTITLE_SECONDS = 2.5


def _circumplex_base(size: int) -> np.ndarray:
    import cv2

    img = np.full((size, size, 3), 255, np.uint8)
    c, r = size // 2, size // 2 - 6
    cv2.circle(img, (c, c), r, (160, 160, 160), 1, cv2.LINE_AA)
    cv2.line(img, (c - r, c), (c + r, c), (190, 190, 190), 1)
    cv2.line(img, (c, c - r), (c, c + r), (190, 190, 190), 1)
    for text, pos in (("V+", (size - 22, c - 4)), ("A+", (c + 3, 12))):
        cv2.putText(img, text, pos, cv2.FONT_HERSHEY_SIMPLEX, 0.35, (90, 90, 90), 1, cv2.LINE_AA)
    return img


def _runs(ok: np.ndarray) -> list[slice]:
    """Contiguous stretches where `ok` is True (lines are drawn per stretch: no value, no line)."""
    edges = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
    return [slice(a, b) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


NEGATIVE, NEUTRAL, POSITIVE = (225, 45, 45), (245, 185, 30), (40, 200, 80)  #: valence -1, 0, +1


def _va_colour(v: float) -> tuple[int, int, int]:
    """RGB: red at valence -1, amber at 0, green at +1 (bright all along: visible on dark and light
    pictures); grey without a value."""
    if not np.isfinite(v):
        return (150, 150, 150)
    v = float(np.clip(v, -1, 1))
    end = POSITIVE if v >= 0 else NEGATIVE
    return tuple(int(round(n + abs(v) * (e - n))) for n, e in zip(NEUTRAL, end))


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[j:j + 2], 16) for j in (1, 3, 5))


def _subtitle(a: Annotation, starts: np.ndarray, t: float) -> str:
    """The words that started in the last SUBTITLE_SECONDS (`starts`: the sorted word start times)."""
    lo, hi = np.searchsorted(starts, t - SUBTITLE_SECONDS), np.searchsorted(starts, t, side="right")
    return " ".join(w.text.strip() for w in a.transcript.words[lo:hi])


def _emotion_at(a: Annotation, i: int) -> tuple[str, float] | None:
    """The most probable category at frame i and its probability (None without evidence or category head)."""
    if a.emotion_probs is None or not a.classes or not np.isfinite(a.emotion_probs[i]).all():
        return None
    best = int(np.argmax(a.emotion_probs[i]))
    return a.classes[best], float(a.emotion_probs[i, best])


def _inset_rect(w: int, h: int) -> tuple[int, int, int, int] | None:
    """x0, y0, x1, y1 of the circumplex inset and its labels (top right), None where the frame is too small."""
    if h > INSET + 10 and w > INSET + 10:
        return w - INSET - 40, 0, w, INSET + 64  # (the value label under it may reach further left)
    return None


def _label_at(x: int, y: int, bh: int, width: int, inset: tuple[int, int, int, int] | None, h: int) -> tuple[int, int]:
    """Where a face's label goes: above its box, or below it where the inset (or the top edge) is in the way."""
    top = (x, max(12, y - 6))
    if inset is None or not (x < inset[2] and x + width > inset[0] and top[1] - 12 < inset[3]):
        return top
    return x, min(h - STRIP_H - 4, y + bh + 16)


def draw_frame(rgb: np.ndarray, i: int, a: Annotation, base: np.ndarray, starts: np.ndarray,
               confidence: np.ndarray | None = None) -> np.ndarray:
    """One frame with the overlay drawn on it (the picture's own size: the strip is added by write_overlay)."""
    import cv2

    img = rgb.copy()
    h, w = img.shape[:2]
    t = a.times[i]
    v, ar = float(a.valence[i]), float(a.arousal[i])
    scale = w / a.info.width
    inset_rect = _inset_rect(w, h)
    for p in a.tracked_people:  # several people: each face in its person's colour, with its id
        if p.track.present[i]:
            colour = _rgb(person_colour(p.id))
            x, y, bw, bh = (p.track.box[i] * scale).astype(int)
            cv2.rectangle(img, (x, y), (x + bw, y + bh), colour, 3 if p.speaking[i] else 2, cv2.LINE_AA)
            label = f"P{p.id}" + (" speaking" if p.speaking[i] else "")
            pv = p.valence[i]
            label += f"  V {pv:+.2f}" if np.isfinite(pv) else ""
            label += f"  {p.emotion[i]}" if p.emotion and p.emotion[i] else ""
            (tw, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 2)
            at = _label_at(x, y, bh, tw, inset_rect, h)
            cv2.putText(img, label, at, cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 2, cv2.LINE_AA)
            cv2.putText(img, label, at, cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    if not a.by_person and a.faces.present[i]:
        x, y, bw, bh = (a.faces.box[i] * scale).astype(int)
        cv2.rectangle(img, (x, y), (x + bw, y + bh), _va_colour(v), 2, cv2.LINE_AA)
    # circumplex inset with a short trail
    inset = base.copy()
    c, r = INSET // 2, INSET // 2 - 6
    lo = max(0, i - int(2 * a.info.fps))
    trail_v, trail_a = a.valence[lo : i + 1], a.arousal[lo : i + 1]
    for run in _runs(np.isfinite(trail_v) & np.isfinite(trail_a)):
        pts = np.stack([c + trail_v[run] * r, c - trail_a[run] * r], 1).astype(np.int32)
        cv2.polylines(inset, [pts], False, (120, 120, 200), 1, cv2.LINE_AA)
    known = np.isfinite(v) and np.isfinite(ar)
    for p in a.tracked_people:  # every person's current point in their colour
        if np.isfinite(p.valence[i]) and np.isfinite(p.arousal[i]):
            cv2.circle(inset, (int(c + p.valence[i] * r), int(c - p.arousal[i] * r)), 4, _rgb(person_colour(p.id)),
                       -1, cv2.LINE_AA)
    if known and not a.tracked_people:  # no information, no point
        cv2.circle(inset, (int(c + v * r), int(c - ar * r)), 5, _va_colour(v), -1, cv2.LINE_AA)
    if inset_rect is not None:
        img[8 : 8 + INSET, w - INSET - 8 : w - 8] = inset
        who = f"P{a.main_person} " if a.main_person else ""  # with people, the values below are the main person's
        label = who + (f"V {v:+.2f}  A {ar:+.2f}" if known else "V -  A -  (no information)")
        (tw, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 2)
        for colour, thickness in (((255, 255, 255), 2), ((20, 20, 20), 1)):  # kept inside the picture
            cv2.putText(img, label, (min(w - INSET - 8, w - 4 - tw), INSET + 22), cv2.FONT_HERSHEY_SIMPLEX,
                        0.4, colour, thickness, cv2.LINE_AA)
        emotion = _emotion_at(a, i)
        if emotion:
            name, prob = emotion
            for colour, thickness in (((255, 255, 255), 3), (_rgb(emotion_colour(name)), 1)):
                cv2.putText(img, f"{name} {prob:.0%}", (w - INSET - 8, INSET + 40), cv2.FONT_HERSHEY_SIMPLEX,
                            0.5, colour, thickness, cv2.LINE_AA)
        if confidence is not None and np.isfinite(confidence[i]) and confidence[i] < LOW:
            for colour, thickness in (((255, 255, 255), 2), ((90, 90, 90), 1)):
                cv2.putText(img, "low confidence", (w - INSET - 8, INSET + 56), cv2.FONT_HERSHEY_SIMPLEX,
                            0.4, colour, thickness, cv2.LINE_AA)
    # subtitles, just above the strip
    text = _subtitle(a, starts, t)
    if text:
        size = 0.6 if w >= 480 else 0.45
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, 1)
        x0, foot = max(4, (w - tw) // 2), h - STRIP_H - 4
        cv2.rectangle(img, (x0 - 4, foot - th - 10), (x0 + tw + 4, foot), (0, 0, 0), -1)
        cv2.putText(img, text, (x0, foot - 6), cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def with_strip(img: np.ndarray, strip: np.ndarray) -> np.ndarray:
    """The strip laid over the bottom of the picture, half transparent: the video keeps its size."""
    out = img.copy()
    h = min(len(strip), len(img))
    out[-h:] = (0.25 * img[-h:] + 0.75 * strip[-h:]).astype(np.uint8)
    return out


def _strip(a: Annotation, i: int, width: int) -> np.ndarray:
    """Timeline strip: the last/next STRIP_SECONDS/2 of valence (green) and arousal (orange), cursor centred."""
    import cv2

    strip = np.full((STRIP_H, width, 3), 24, np.uint8)
    t = a.times[i]
    span = min(STRIP_SECONDS, max(2.0, a.duration_s))
    lo = t - span / 2
    sel = slice(int(np.searchsorted(a.times, lo)), int(np.searchsorted(a.times, lo + span, side="right")))
    xs = ((a.times[sel] - lo) / span * (width - 1)).astype(np.int32)
    mid = STRIP_H // 2
    cv2.line(strip, (0, mid), (width, mid), (80, 80, 80), 1)
    strip[0:5, xs[~a.faces.present[sel]]] = 150  # tick marks where there is no face
    for series, colour in ((a.valence, (80, 200, 120)), (a.arousal, (240, 150, 40))):
        values = series[sel]
        for run in _runs(np.isfinite(values)):
            if run.stop - run.start > 1:
                ys = (mid - values[run] * (mid - 4)).astype(np.int32)
                cv2.polylines(strip, [np.stack([xs[run], ys], 1)], False, colour, 1, cv2.LINE_AA)
    cv2.line(strip, (width // 2, 0), (width // 2, STRIP_H), (255, 255, 255), 1)
    who = f"P{a.main_person} " if a.main_person else ""  # with people, the strip shows the main person
    cv2.putText(strip, who + "valence", (4, STRIP_H - 18), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (80, 200, 120), 1)
    cv2.putText(strip, who + "arousal", (4, STRIP_H - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (240, 150, 40), 1)
    return strip


def write_overlay(a: Annotation, path: Path, hook: Callable[..., None] | None = None, max_side: int = 1280) -> None:
    """Encode the overlay with PyAV (libx264), each frame at its own timestamp (variable frame rate stays in
    step with the audio), then mux in the original audio with the ffmpeg binary."""
    import av

    frames = iter_frames(a.info, max_side)
    first = next(frames)
    h, w = first.rgb.shape[:2]
    base = _circumplex_base(INSET)
    starts = np.asarray([w.start for w in a.transcript.words], np.float64)
    confidence = a.confidence
    video_only = path.with_name(path.stem + ".video-only.mp4")
    time_base = Fraction(1, 90_000)
    rate = Fraction(a.info.fps if a.info.fps > 0 else 30.0).limit_denominator(1001)
    with av.open(str(video_only), "w") as out:
        stream = out.add_stream("libx264", rate=rate, options={"crf": "23", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.time_base = time_base
        last_pts = -1

        def emit(frame) -> None:
            nonlocal last_pts
            i = min(frame.index, a.n_frames - 1)
            img = np.ascontiguousarray(with_strip(draw_frame(frame.rgb, i, a, base, starts, confidence), _strip(a, i, w)))
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            last_pts = vf.pts = max(last_pts + 1, int(round(frame.time_s / time_base)))
            vf.time_base = time_base
            out.mux(stream.encode(vf))
            if hook is not None and frame.index % 25 == 0:
                hook("video", completed=frame.index + 1, total=a.n_frames)

        emit(first)
        for frame in frames:
            emit(frame)
        out.mux(stream.encode(None))
    if a.info.has_audio:
        # ffmpeg starts each input at 0: shift the overlay back to its first frame's time so that both
        # inputs keep the original's clock (the audio sits at its offset from the container start)
        cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-itsoffset", f"{first.time_s:.6f}", "-i", str(video_only),
               "-i", os.path.abspath(a.info.path), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac",
               "-b:a", "128k", str(path)]
        proc = subprocess.run(cmd, capture_output=True, check=False)
        video_only.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise OutputError(f"muxing the audio into {path.name} failed: {proc.stderr.decode(errors='replace')[-300:]}",
                              stage="video")
    else:
        video_only.replace(path)
