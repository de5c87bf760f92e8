"""`<name>.html`: one self-contained page (no network: the script, the style and the data are inline) that
plays the video (a relative link) with the valence/arousal timeline under it: a cursor that follows the
video, click-to-seek, the circumplex trail of the last seconds, the words (click one to jump to it), and
the stretches without a face (grey) or with speech (blue strip) shaded as in the PNG plot, and the emotion
category as a coloured band above the plot. With several people (--people all), one line and one
circumplex trail per person, in that person's colour.

The page links the video by its path relative to the result folder: move the two together. Where the
browser cannot play the input (FLV, AVI, ...) the page plays the annotated mp4 when `--video` wrote one,
and says so; otherwise it says how to get a playable file, and the timeline still works without it.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import quote

import numpy as np

from emoannot.confidence import LOW
from emoannot.outputs import emotion_colour, person_colour, relative_link
from emoannot.records import Annotation
from emoannot.timeline import video_end

#: what Chromium, Firefox and Safari all play (container extension, video codec)
BROWSER_CONTAINERS = {".mp4", ".m4v", ".mov", ".webm"}
BROWSER_CODECS = {"h264", "vp8", "vp9", "av1"}
TRAIL_S = 3.0  #: the circumplex shows the last seconds as a fading trail
VALENCE_COLOUR = "#2ca02c"
AROUSAL_COLOUR = "#ff7f0e"


def browser_playable(a: Annotation) -> bool:
    return a.info.path.suffix.lower() in BROWSER_CONTAINERS and a.info.video_codec.lower() in BROWSER_CODECS


def _numbers(x: np.ndarray, digits: int) -> list:
    return [None if not np.isfinite(v) else round(float(v), digits) for v in np.asarray(x, np.float64)]


def report_data(a: Annotation, video_link: str, note: str) -> dict:
    return {
        "name": a.info.path.name,
        "video": video_link,
        "video_note": note,
        "duration": round(video_end(a.times), 4),
        "times": _numbers(a.times, 4),
        "valence": _numbers(a.valence, 3),
        "arousal": _numbers(a.arousal, 3),
        "face": a.faces.present.astype(int).tolist(),
        "speech": a.speech.astype(int).tolist(),
        "sources": list(a.sources) if a.sources else [""] * a.n_frames,
        "emotion": list(a.emotion),
        "emotion_colours": {c: emotion_colour(c) for c in a.classes},
        "confidence": _numbers(a.confidence, 3),
        "low": LOW,
        "main": a.main_person,
        "words": [[round(w.start, 3), round(w.end, 3), w.text.strip()] for w in a.transcript.words if w.text.strip()],
        "warnings": list(a.warnings),
        "people": [{"id": p.id, "colour": person_colour(p.id), "main": p.id == a.main_person,
                    "valence": _numbers(p.valence, 3), "arousal": _numbers(p.arousal, 3),
                    "speaking": p.speaking.astype(int).tolist()} for p in a.tracked_people],
        "trail_s": TRAIL_S,
        "colours": {"valence": VALENCE_COLOUR, "arousal": AROUSAL_COLOUR},
    }


def write_html(a: Annotation, path: Path, folder: Path, annotated_video: str | None = None) -> None:
    """Write the report to `path`; links are made relative to `folder`, where it will live."""
    if browser_playable(a):
        link, note = relative_link(a.info.path, folder), ""
    elif annotated_video:
        link = quote(annotated_video)
        note = (f"Browsers cannot play {a.info.path.name} ({a.info.video_codec}); this page plays the annotated "
                f"copy {annotated_video}.")
    else:
        link = relative_link(a.info.path, folder)
        note = (f"Browsers cannot play {a.info.path.name} ({a.info.video_codec}). Run emoannot with --video to "
                "get an annotated mp4 this page then plays, or convert the video to H.264 mp4.")
    page = fill(_PAGE, TITLE=html.escape(a.info.path.name), DATA=script_json(report_data(a, link, note)),
                VCOL=VALENCE_COLOUR, ACOL=AROUSAL_COLOUR)
    path.write_text(page, encoding="utf-8")


_PLACEHOLDER = re.compile(r"__([A-Z]+)__")


def fill(template: str, **values: str) -> str:
    """Fill every `__NAME__` of `template` in one pass: a value is never searched for placeholders, so a file
    name or a word that contains `__DATA__` stays text. Each placeholder must have a value."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def script_json(data: dict) -> str:
    """JSON safe inside `<script type="application/json">`: `<`, `>` and `&` as \\u escapes, so no text
    (`</script>`, `<!--`) can end the element or change how the browser parses it; JSON.parse reads the same."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def write_index(rows: list[dict], path: Path) -> None:
    """batch's `index.html`: a table linking every video's report (rows: the summary rows, plus 'report',
    the page's link relative to `path`'s folder, or '' where there is none)."""
    head = ("<tr><th>video</th><th>status</th><th>duration (s)</th><th>face</th><th>speech</th>"
            "<th>with values</th><th>valence mean</th><th>arousal mean</th></tr>")
    body = []
    for r in rows:
        name = html.escape(Path(r["path"]).name)
        cell = f'<a href="{html.escape(r["report"])}">{name}</a>' if r.get("report") else name
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in (
            cell, html.escape(str(r["status"])), r["duration_s"], r["face_coverage"], r["speech_coverage"],
            r["valued_coverage"], r["valence_mean"], r["arousal_mean"])) + "</tr>")
    path.write_text(fill(_INDEX, ROWS=head + "\n".join(body)), encoding="utf-8")


_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>emoannot batch</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head><body><h1>emoannot batch</h1>
<p>Coverage columns are fractions of frames; means are over the frames that have a value.</p>
<table>
__ROWS__
</table></body></html>
"""

#: the start of emoannot's pages (the report, the review page): head, title (`__KIND__: __TITLE__`) and the
#: base style; each page goes on with its own style rules
PAGE_HEAD = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__KIND__: __TITLE__</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.2em;margin:.2em 0}
.top{display:flex;gap:1em;align-items:flex-start;flex-wrap:wrap}
"""

_PAGE = PAGE_HEAD.replace("__KIND__", "emoannot") + r"""video{max-width:100%;width:560px;background:#000}
#note{color:#a33;margin:.4em 0}
#warnings{color:#775;font-size:.9em;margin:.3em 0;padding-left:1.2em}
#timeline{width:100%;height:230px;display:block;cursor:crosshair;margin-top:.6em}
#readout{font-family:ui-monospace,monospace;margin:.4em 0}
#words span{cursor:pointer;padding:0 1px;border-radius:3px}
#words span.now{background:#cde}
.legend span{display:inline-block;margin-right:1.2em}
.sw{display:inline-block;width:1.4em;height:.7em;margin-right:.3em;vertical-align:middle}
</style></head><body>
<h1>__TITLE__</h1>
<div class="legend"><span><i class="sw" style="background:__VCOL__"></i>valence</span>
<span><i class="sw" style="background:__ACOL__"></i>arousal</span>
<span><i class="sw" style="background:#d9d9d9"></i>no face</span>
<span><i class="sw" style="background:#37474f;opacity:.6"></i>speech</span>
<span id="low-legend"><i class="sw" style="background:repeating-linear-gradient(45deg,#f4b400 0 3px,#fff 3px 6px)"></i>low confidence</span>
<span id="emotion-legend"></span>
<span>gaps: no face or speech within 1 s (no value)</span></div>
<div class="top"><video id="video" controls preload="auto"></video>
<canvas id="circumplex" width="300" height="300" style="width:300px;height:300px"></canvas></div>
<div id="note"></div>
<div id="readout"></div>
<canvas id="timeline"></canvas>
<p id="words"></p>
<ul id="warnings"></ul>
<script id="emoannot-data" type="application/json">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("emoannot-data").textContent);
const video = document.getElementById("video"), tl = document.getElementById("timeline");
const circ = document.getElementById("circumplex"), readout = document.getElementById("readout");
const state = {t: 0, videoOk: false, draws: 0};
window.emoannot = {data: D, state: state};
document.getElementById("note").textContent = D.video_note;
for (const w of D.warnings) { const li = document.createElement("li"); li.textContent = w; document.getElementById("warnings").appendChild(li); }
video.src = D.video;
video.addEventListener("loadedmetadata", () => { state.videoOk = true; });
video.addEventListener("error", () => {
  document.getElementById("note").textContent = D.video_note || ("This browser cannot open " + D.video +
    " (moved, or a format it does not play); the timeline still works: click it to move the cursor.");
});
function frameAt(t) {  // last frame whose time is <= t (the first frame from t = 0: what the video shows there)
  const T = D.times; let lo = 0, hi = T.length - 1;
  if (hi < 0 || t < 0) return -1;
  if (t < T[0]) return 0;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (T[mid] <= t) lo = mid; else hi = mid - 1; }
  return lo;
}
function spans(flag, want) {
  const out = []; let start = -1;
  for (let i = 0; i <= flag.length; i++) {
    const on = i < flag.length && flag[i] === want;
    if (on && start < 0) start = i;
    if (!on && start >= 0) { out.push([D.times[start], i < D.times.length ? D.times[i] : D.duration]); start = -1; }
  }
  return out;
}
const noFace = spans(D.face, 0), speech = spans(D.speech, 1);
const lowConf = spans(D.confidence.map(c => c !== null && c < D.low ? 1 : 0), 1);
if (!lowConf.length) document.getElementById("low-legend").remove();
function emotionLegend() {  // the emotion band's colours: the categories that occur (and whose band it is)
  const seen = [...new Set(D.emotion.filter(e => e))];
  if (!seen.length) return "";
  return (D.people.length > 1 ? "band: person " + D.main + "'s category " : "band: ") + seen.map(e =>
    '<i class="sw" style="background:' + (D.emotion_colours[e] || "#17becf") + '"></i>' + e + " ").join("");
}
document.getElementById("emotion-legend").innerHTML = emotionLegend();
if (D.people.length > 1) {  // the legend names each person's colour (valence solid, arousal dashed)
  const legend = document.querySelector(".legend");
  legend.innerHTML = D.people.map(p => '<span><i class="sw" style="background:' + p.colour + '"></i>person ' + p.id +
    (p.main ? " (main)" : "") + "</span>").join("") +
    '<span>valence solid, arousal dashed</span><span><i class="sw" style="background:#d9d9d9"></i>no face (main person)</span>' +
    '<span><i class="sw" style="background:#37474f;opacity:.6"></i>speech</span>' +
    (lowConf.length ? '<span><i class="sw" style="background:repeating-linear-gradient(45deg,#f4b400 0 3px,#fff 3px 6px)"></i>' +
     "low confidence (person " + D.main + ")</span>" : "") + "<span>" + emotionLegend() + "</span>";
}
const PAD = {l: 42, r: 10, t: 10, b: 22};
function sizeCanvas(c) {
  const r = window.devicePixelRatio || 1, w = c.clientWidth, h = c.clientHeight;
  if (c.width !== Math.round(w * r) || c.height !== Math.round(h * r)) { c.width = Math.round(w * r); c.height = Math.round(h * r); }
  const g = c.getContext("2d"); g.setTransform(r, 0, 0, r, 0, 0); return [g, w, h];
}
function drawTimeline() {
  const [g, w, h] = sizeCanvas(tl);
  const pw = w - PAD.l - PAD.r, ph = h - PAD.t - PAD.b, dur = Math.max(D.duration, 1e-6);
  const X = t => PAD.l + pw * t / dur, Y = v => PAD.t + ph * (1 - v) / 2;
  g.fillStyle = "#fff"; g.fillRect(0, 0, w, h);
  g.fillStyle = "#d9d9d9"; for (const [a, b] of noFace) g.fillRect(X(a), PAD.t, X(b) - X(a), ph);
  g.fillStyle = "rgba(55,71,79,0.6)"; for (const [a, b] of speech) g.fillRect(X(a), PAD.t + ph - 8, X(b) - X(a), 8);
  // low confidence: an amber hatched band along the top of the plot
  g.fillStyle = "rgba(244,180,0,0.55)";
  for (const [a, b] of lowConf) for (let x = X(a); x < X(b); x += 6) g.fillRect(x, PAD.t, Math.min(3, X(b) - x), 6);
  // the emotion category as a band above the plot (blank without evidence)
  for (let i = 0; i < D.emotion.length; i++) {
    if (!D.emotion[i]) continue;
    const t1 = i + 1 < D.times.length ? D.times[i + 1] : D.duration;
    g.fillStyle = D.emotion_colours[D.emotion[i]] || "#17becf"; g.fillRect(X(D.times[i]), 1, X(t1) - X(D.times[i]) + 0.5, 7);
  }
  g.strokeStyle = "#bbb"; g.lineWidth = 1; g.fillStyle = "#555"; g.font = "11px sans-serif";
  for (const v of [-1, -0.5, 0, 0.5, 1]) {
    g.beginPath(); g.moveTo(PAD.l, Y(v)); g.lineTo(PAD.l + pw, Y(v)); g.stroke();
    g.fillText((v > 0 ? "+" : "") + v, 4, Y(v) + 4);
  }
  const step = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200].find(s => dur / s <= 10) || 1800;
  for (let s = 0; s <= dur; s += step) {  // a label that would pass the right edge is drawn to its left
    const label = s.toFixed(step < 1 ? 1 : 0) + " s", tw = g.measureText(label).width;
    g.fillText(label, Math.min(X(s) - 8, w - tw - 2), h - 6);
  }
  // one person: valence and arousal in their colours; several: one colour per person, arousal dashed
  const lines = D.people.length > 1
    ? D.people.flatMap(p => [[p.valence, p.colour, []], [p.arousal, p.colour, [5, 4]]])
    : [[D.valence, D.colours.valence, []], [D.arousal, D.colours.arousal, []]];
  for (const [V, colour, dash] of lines) {
    g.strokeStyle = colour; g.lineWidth = 2; g.setLineDash(dash); g.beginPath(); let pen = false;
    for (let i = 0; i < V.length; i++) {
      if (V[i] === null) { pen = false; continue; }
      if (pen) g.lineTo(X(D.times[i]), Y(V[i])); else { g.moveTo(X(D.times[i]), Y(V[i])); pen = true; }
    }
    g.stroke();
  }
  g.setLineDash([]);
  g.strokeStyle = "#d62728"; g.lineWidth = 2; g.beginPath(); g.moveTo(X(state.t), PAD.t); g.lineTo(X(state.t), PAD.t + ph); g.stroke();
  state.draws++;
}
function drawCircumplex() {
  const g = circ.getContext("2d"), s = circ.width, c = s / 2, r = s / 2 - 22;
  g.clearRect(0, 0, s, s); g.strokeStyle = "#999"; g.lineWidth = 1;
  g.beginPath(); g.arc(c, c, r, 0, 2 * Math.PI); g.stroke();
  g.beginPath(); g.moveTo(c - r, c); g.lineTo(c + r, c); g.moveTo(c, c - r); g.lineTo(c, c + r); g.stroke();
  g.fillStyle = "#666"; g.font = "11px sans-serif"; g.textAlign = "center";
  g.fillText("valence", c + r - 18, c - 5); g.fillText("arousal", c + 24, c - r + 10);
  g.fillText("excited / happy", c + r / 2, c - r / 2 - 12); g.fillText("angry / afraid", c - r / 2, c - r / 2 - 12);
  g.fillText("sad / bored", c - r / 2, c + r / 2 + 16); g.fillText("calm / content", c + r / 2, c + r / 2 + 16);
  const i = frameAt(state.t); if (i < 0) return;
  const tracks = D.people.length > 1 ? D.people.map(p => [p.valence, p.arousal, p.colour])
                                     : [[D.valence, D.arousal, "#d62728"]];
  for (const [V, A, colour] of tracks) {
    g.fillStyle = colour;
    for (let j = Math.max(0, frameAt(state.t - D.trail_s) + 1); j <= i; j++) {
      if (V[j] === null) continue;
      g.globalAlpha = 0.15 + 0.5 * (1 - (state.t - D.times[j]) / D.trail_s);
      g.beginPath(); g.arc(c + r * V[j], c - r * A[j], 2.5, 0, 2 * Math.PI); g.fill();
    }
    g.globalAlpha = 1;
    if (V[i] !== null) { g.beginPath(); g.arc(c + r * V[i], c - r * A[i], 6, 0, 2 * Math.PI); g.fill(); }
  }
}
const wordSpans = [];
for (const [a, b, text] of D.words) {
  const sp = document.createElement("span"); sp.textContent = text; sp.title = a.toFixed(2) + " s";
  sp.addEventListener("click", () => seek(a)); document.getElementById("words").append(sp, " "); wordSpans.push([a, b, sp]);
}
if (!D.words.length) document.getElementById("words").textContent = "No words were transcribed.";
function fmt(v) { return v === null ? "  -  " : (v >= 0 ? "+" : "") + v.toFixed(2); }
function update() {
  const i = frameAt(state.t);
  readout.textContent = "t " + state.t.toFixed(2) + " s   valence " + fmt(i < 0 ? null : D.valence[i]) +
    "   arousal " + fmt(i < 0 ? null : D.arousal[i]) + "   " + (i >= 0 && D.emotion[i] ? D.emotion[i] + "   " : "") +
    (i >= 0 && D.confidence[i] !== null ? "confidence " + D.confidence[i].toFixed(2) + (D.confidence[i] < D.low ? " (low)" : "") + "   " : "") +
    (i < 0 || !D.sources[i] ? "no face or speech" : D.sources[i]) +
    (D.people.length > 1 && i >= 0 ? D.people.map(p => "   person " + p.id + (p.speaking[i] ? " (speaking)" : "") +
      " " + fmt(p.valence[i]) + "/" + fmt(p.arousal[i])).join("") : "");
  for (const [a, b, sp] of wordSpans) sp.classList.toggle("now", state.t >= a && state.t < b);
  drawTimeline(); drawCircumplex();
}
function seek(t) {
  state.t = Math.min(Math.max(t, 0), D.duration);
  if (state.videoOk) video.currentTime = state.t;
  update();
}
tl.addEventListener("click", ev => {
  const rect = tl.getBoundingClientRect(), pw = rect.width - PAD.l - PAD.r;
  seek((ev.clientX - rect.left - PAD.l) / pw * D.duration);
});
function tick() { if (state.videoOk && !video.paused) { state.t = video.currentTime; update(); } requestAnimationFrame(tick); }
video.addEventListener("seeked", () => { state.t = video.currentTime; update(); });
window.addEventListener("resize", update);
update(); requestAnimationFrame(tick);
</script></body></html>
"""
