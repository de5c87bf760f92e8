"""`<name>.vtt`: WebVTT subtitles for any video player (HTML5 <track>, VLC, mpv, ELAN's subtitle import), and
the same cues as `<name>.srt` (SubRip, for the editors and players that take only that, as whisper writes).

One cue per CUE_S seconds of video: the words that start in it (when any), then the mean valence and
arousal of its frames, their most frequent emotion category and the modalities they came from, e.g.

    00:00:03.000 --> 00:00:04.000
    we can do this
    valence +0.21  arousal -0.05  happy  (face+voice+words)

A cue whose frames have no value says "no face or speech" instead of a number.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from emoannot.records import SOURCE_NAMES, Annotation
from emoannot.timeline import video_end

CUE_S = 1.0


def timestamp(t: float) -> str:
    ms = int(round(max(t, 0.0) * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _escape(text: str) -> str:
    # cue text is HTML-like: & and < must be escaped, and "-->" may not appear
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _srt_text(text: str) -> str:
    # SubRip has no escapes and players read <i>, <b>, <font>: angle brackets in a word become look-alikes
    return text.replace("<", "\u2039").replace(">", "\u203a")


def cues(a: Annotation, cue_s: float = CUE_S, escape=_escape) -> list[tuple[float, float, list[str]]]:
    """(start, end, lines) for each cue (the words passed through `escape` for the subtitle format)."""
    end = video_end(a.times)
    out = []
    starts = np.array([w.start for w in a.transcript.words])
    sources = np.array(a.sources if a.sources else [""] * a.n_frames, dtype=object)
    emotion = np.array(a.emotion, dtype=object)
    for k in range(int(np.ceil(end / cue_s - 1e-9))):
        t0, t1 = k * cue_s, min((k + 1) * cue_s, end)
        lines = []
        words = [a.transcript.words[i].text.strip() for i in np.flatnonzero((starts >= t0) & (starts < t1))]
        if any(words):
            lines.append(escape(" ".join(w for w in words if w)))
        sel = (a.times >= t0) & (a.times < t1) & np.isfinite(a.valence)
        if sel.any():
            present = {m for s in sources[sel] for m in s.split("+") if m}
            used = "+".join(m for m in SOURCE_NAMES.values() if m in present)
            named = [e for e in emotion[sel] if e]
            top = max(dict.fromkeys(named), key=named.count) if named else ""
            lines.append(f"valence {np.nanmean(a.valence[sel]):+.2f}  arousal {np.nanmean(a.arousal[sel]):+.2f}"
                         + (f"  {top}" if top else "") + (f"  ({used})" if used else ""))
        else:
            lines.append("no face or speech")
        out.append((t0, t1, lines))
    return out


def write_vtt(a: Annotation, path: Path) -> None:
    parts = ["WEBVTT", "",
             f"NOTE made by emoannot from {_escape(a.info.path.name)}: valence and arousal in [-1, 1], the mean "
             f"of each cue's frames; no value where no face or speech was within 1 s.", ""]
    for i, (t0, t1, lines) in enumerate(cues(a), 1):
        parts += [str(i), f"{timestamp(t0)} --> {timestamp(t1)}", *lines, ""]
    path.write_text("\n".join(parts), encoding="utf-8")


def srt_timestamp(t: float) -> str:
    return timestamp(t).replace(".", ",")


def write_srt(a: Annotation, path: Path) -> None:
    """The VTT's cues as SubRip: numbered, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line after each."""
    parts = []
    for i, (t0, t1, lines) in enumerate(cues(a, escape=_srt_text), 1):
        parts += [str(i), f"{srt_timestamp(t0)} --> {srt_timestamp(t1)}", *lines, ""]
    path.write_text("\n".join(parts), encoding="utf-8")
