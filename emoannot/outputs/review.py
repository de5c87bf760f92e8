"""`<name>.review.html` (`emoannot review`): a self-contained page where a person reviews and corrects the
machine's valence and arousal while the video plays, the way CARMA, DARMA, GTrace and RankTrace record
continuous annotation, and NOVA lets a person correct a model's pre-annotation.

The annotator works on one dimension at a time (valence or arousal). They can record their own trace while
the video plays (the mouse over the vertical scale, or the arrow keys; at 0.5, 0.75 or 1x speed; from any
point; every pass is kept and the last one covering a frame is used), draw over the timeline to correct a
stretch, copy the machine's values into a stretch, mark a stretch as not annotated, and undo. The page
saves `<name>.human.csv` (frame, time_s, valence, arousal, annotator; empty where not annotated) and the
Aff-Wild2 txt (`-5` where not annotated) as downloads, and opens a saved human.csv again. Everything works
from the keyboard; the page lists the keys. `emoannot evaluate` reads the human.csv files (machine against
person, person against person), and `emoannot train --format review` fine-tunes on them.

The page is built from a result folder's files (its CSV and manifest): no model runs.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from emoannot.errors import InputError
from emoannot.outputs import MANIFEST, relative_link
from emoannot.outputs.html import BROWSER_CODECS, BROWSER_CONTAINERS, PAGE_HEAD, fill, script_json

HUMAN_SUFFIX = ".human.csv"
HUMAN_COLUMNS = ("frame", "time_s", "valence", "arousal", "annotator")
REVIEW_SUFFIX = ".review.html"


def _name_part(annotator: str) -> str:
    """The annotator as it goes into a file name (the page does the same): letters, digits, _ and -."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", annotator)


def human_file_name(stem: str, annotator: str = "") -> str:
    """`<stem>.human.csv`, or `<stem>.<annotator>.human.csv` for a named annotator."""
    return f"{stem}.{_name_part(annotator)}{HUMAN_SUFFIX}" if annotator else f"{stem}{HUMAN_SUFFIX}"


def video_of_human_file(path: Path) -> str:
    """The video stem a human.csv belongs to: `talk.human.csv` and `talk.anna.human.csv` -> `talk` (the
    annotator column says who; the name's middle part is only for keeping two annotators' files apart)."""
    name = path.name[: -len(HUMAN_SUFFIX)]
    part = _name_part(annotator_of(path))
    if part and name.endswith(f".{part}"):
        return name[: -len(part) - 1]
    return name


def annotator_of(path: Path) -> str:
    """Who saved a human.csv: its annotator column's first value ("" when there is none)."""
    table = pd.read_csv(path, usecols=lambda c: c == "annotator", dtype=str, keep_default_na=False, nrows=1)
    return table["annotator"].iloc[0] if "annotator" in table and len(table) else ""


def _result_files(folder: Path) -> tuple[dict, Path]:
    man = folder / MANIFEST
    if not man.is_file():
        raise InputError(f"{folder} is not an emoannot result folder (no {MANIFEST}); give a folder written by "
                         "emoannot predict, or the video itself.", stage="review")
    m = json.loads(man.read_text())
    if not m.get("complete", True):
        raise InputError(f"{folder}: the result is incomplete; run predict again.", stage="review")
    csv = folder / m.get("outputs", {}).get("csv", "")
    if not csv.is_file():
        raise InputError(f"{folder}: its CSV ({csv.name}) is missing; run predict again.", stage="review")
    return m, csv


def review_data(folder: Path, annotator: str = "") -> dict:
    """What the page needs, from the result folder's manifest and CSV."""
    m, csv = _result_files(folder)
    df = pd.read_csv(csv, keep_default_na=False, na_values=[""])
    num = lambda col: [None if not np.isfinite(v) else round(float(v), 4)  # noqa: E731
                       for v in pd.to_numeric(df[col], errors="coerce").to_numpy(np.float64)]
    video = Path(m.get("input_path_absolute") or m["input"]["path"])
    info = m["input"]
    playable = video.suffix.lower() in BROWSER_CONTAINERS and str(info.get("video_codec", "")).lower() in BROWSER_CODECS
    annotated = m.get("outputs", {}).get("video")
    if playable:
        link, note = relative_link(video, folder), ""
    elif annotated:
        link, note = quote(annotated), f"Browsers cannot play {video.name}; this page plays the annotated copy."
    else:
        link = relative_link(video, folder)
        note = (f"Browsers cannot play {video.name} ({info.get('video_codec')}): run `emoannot predict --video` "
                "first (this page then plays the annotated copy), or convert the video to H.264 mp4.")
    words = df["word"].fillna("").astype(str).tolist() if "word" in df else [""] * len(df)
    return {"name": video.name, "stem": csv.stem, "video": link, "note": note, "annotator": annotator,
            "duration": round(float(m.get("duration_s") or 0.0), 4), "times": num("time_s"),
            "machine": {"valence": num("valence"), "arousal": num("arousal")},
            "confidence": num("confidence") if "confidence" in df else [None] * len(df), "word": words,
            "human_file": human_file_name(csv.stem, annotator)}


def write_review(folder: Path, annotator: str = "") -> Path:
    """Write `<name>.review.html` into result folder `folder` (next to the CSV it is made from)."""
    data = review_data(folder, annotator)
    path = folder / f"{data['stem']}{REVIEW_SUFFIX}"
    from emoannot.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(fill(_PAGE, TITLE=html.escape(data["name"]), DATA=script_json(data)), encoding="utf-8")
    return path


def read_human(path: Path) -> pd.DataFrame:
    """A human.csv, checked: its columns, numbers in [-1, 1] or empty."""
    from emoannot.errors import DataError

    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"annotator": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot read it as a CSV ({exc}).") from exc
    missing = [c for c in HUMAN_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{path} is not a human.csv saved by the review page (missing {', '.join(missing)}).")
    for col in ("valence", "arousal"):
        values = pd.to_numeric(df[col], errors="coerce")
        if ((values.abs() > 1) | (values.isna() & df[col].notna())).any():
            raise DataError(f"{path}: column {col} must hold numbers in [-1, 1] or nothing.")
    return df


_PAGE = PAGE_HEAD.replace("__KIND__", "review") + r"""video{width:560px;max-width:100%;max-height:46vh;background:#000}  /* the timeline stays in view */
#scale{width:70px;height:min(315px,46vh);cursor:ns-resize;border:1px solid #ccc}
#timeline{width:100%;height:240px;display:block;cursor:crosshair;margin-top:.6em}
#status{font-family:ui-monospace,monospace;margin:.4em 0;white-space:pre}
#note{color:#a33}
.keys{font-size:.9em;columns:2;max-width:520px}
.keys kbd{font:12px ui-monospace,monospace;border:1px solid #bbb;border-radius:3px;padding:0 4px;background:#f6f6f6}
.bar button,.bar select,.bar label{margin:.2em .3em .2em 0}
.rec{background:#d62728;color:#fff}
</style></head><body>
<h1>review: __TITLE__</h1>
<div id="note"></div>
<div class="top">
<video id="video" controls preload="auto"></video>
<canvas id="scale" title="while recording, the mouse's height here is the value"></canvas>
<div><b>Keys</b> (click the page first)
<div class="keys">
<div><kbd>v</kbd> / <kbd>a</kbd> annotate valence / arousal</div>
<div><kbd>r</kbd> record a pass (again: stop)</div>
<div><kbd>&uarr;</kbd> <kbd>&darr;</kbd> value up / down by 0.05</div>
<div><kbd>0</kbd> value to 0 (neutral)</div>
<div><kbd>space</kbd> play / pause</div>
<div><kbd>&larr;</kbd> <kbd>&rarr;</kbd> back / on 1 s; <kbd>Home</kbd> start</div>
<div><kbd>1</kbd> <kbd>2</kbd> <kbd>3</kbd> speed 0.5, 0.75, 1</div>
<div><kbd>i</kbd> / <kbd>o</kbd> stretch from / to here</div>
<div><kbd>m</kbd> copy the machine into the stretch</div>
<div><kbd>x</kbd> mark the stretch not annotated</div>
<div><kbd>u</kbd> or <kbd>Ctrl+z</kbd> undo</div>
<div><kbd>s</kbd> save .human.csv; <kbd>w</kbd> save Aff-Wild2 txt</div>
</div>
<p>Mouse: click the timeline to seek; drag on it to draw over a stretch; while recording, move over the
scale. The grey line is the machine, the coloured one yours; a pass you record replaces what was there and
starts from your own value at that point, else from 0 (never from the machine's).</p>
</div></div>
<div class="bar">
<label>dimension <select id="dim"><option value="valence">valence</option><option value="arousal">arousal</option></select></label>
<label>speed <select id="speed"><option>0.5</option><option>0.75</option><option selected>1</option></select></label>
<button id="record">record (r)</button><button id="undo">undo (u)</button>
<button id="save">save .human.csv (s)</button><button id="savetxt">save Aff-Wild2 txt (w)</button>
<label>open a saved .human.csv <input id="open" type="file" accept=".csv,text/csv"></label>
<label>annotator <input id="annotator" size="12"></label>
</div>
<div id="status"></div>
<canvas id="timeline"></canvas>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const N = D.times.length, T = D.times;
const video = document.getElementById("video"), tl = document.getElementById("timeline");
const scale = document.getElementById("scale"), statusEl = document.getElementById("status");
const COL = {valence: "#2ca02c", arousal: "#ff7f0e"};
const human = {valence: new Array(N).fill(null), arousal: new Array(N).fill(null)};
const state = {dim: "valence", t: 0, cur: 0, recording: false, lastFrame: -1, passes: 0, sel: [null, null],
               undo: [], videoOk: false, draws: 0, annotator: D.annotator || ""};
document.getElementById("note").textContent = D.note;
document.getElementById("annotator").value = state.annotator;
document.getElementById("annotator").addEventListener("input", e => { state.annotator = e.target.value.trim(); });
video.src = D.video;
video.addEventListener("loadedmetadata", () => { state.videoOk = true; update(); });
function frameAt(t) {  // last frame whose time is <= t (the first from t = 0)
  if (!N || t < 0) return -1;
  if (t < T[0]) return 0;
  let lo = 0, hi = N - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (T[mid] <= t) lo = mid; else hi = mid - 1; }
  return lo;
}
function clamp(v) { return Math.max(-1, Math.min(1, v)); }
function snapshot() { state.undo.push({dim: state.dim, values: human[state.dim].slice()}); if (state.undo.length > 200) state.undo.shift(); }
function undo() { const s = state.undo.pop(); if (s) { human[s.dim] = s.values; update(); } }
function setDim(d) { if (state.recording) stopRecording(); state.dim = d; document.getElementById("dim").value = d; update(); }
function setSpeed(s) { video.playbackRate = s; document.getElementById("speed").value = String(s); update(); }
function seek(t) { state.t = Math.min(Math.max(t, 0), D.duration); if (state.videoOk) video.currentTime = state.t; state.lastFrame = frameAt(state.t) - 1; update(); }
function startRecording() {
  snapshot(); state.recording = true; state.lastFrame = frameAt(video.currentTime) - 1;
  const i = frameAt(video.currentTime);  // start from your own value there, else neutral: never from the machine's
  const here = i >= 0 ? human[state.dim][i] : null;  // (a pass is your reading, not anchored on the model)
  state.cur = here === null || here === undefined ? 0 : here;
  video.playbackRate = Number(document.getElementById("speed").value);
  video.play(); document.getElementById("record").classList.add("rec"); update();
}
function stopRecording() {
  if (!state.recording) return;
  record(video.currentTime); state.recording = false; state.passes++; video.pause();
  document.getElementById("record").classList.remove("rec"); update();
}
function record(t) {  // every frame since the last one recorded takes the current value (none skipped at 0.5x)
  const i = frameAt(t);
  for (let j = Math.max(0, state.lastFrame + 1); j <= i; j++) human[state.dim][j] = Math.round(state.cur * 1e4) / 1e4;
  if (i > state.lastFrame) state.lastFrame = i;
}
function stretch() {
  let [a, b] = state.sel; if (a === null || b === null) return null;
  if (a > b) [a, b] = [b, a];
  return [frameAt(a), Math.max(frameAt(a), frameAt(b))];
}
function fillStretch(fn) { const s = stretch(); if (!s) { flash("set the stretch first: i at its start, o at its end"); return; }
  snapshot(); for (let j = s[0]; j <= s[1]; j++) human[state.dim][j] = fn(j); update(); }
let flashText = "", flashUntil = 0;
function flash(text) { flashText = text; flashUntil = performance.now() + 2500; update(); }
function fmt(v) { return v === null || v === undefined ? "  -  " : (v >= 0 ? "+" : "") + v.toFixed(2); }
function csvText() {
  const rows = ["frame,time_s,valence,arousal,annotator"];
  const cell = v => v === null || v === undefined ? "" : String(Math.round(v * 1e4) / 1e4);
  const who = '"' + state.annotator.replace(/"/g, '""') + '"';
  for (let i = 0; i < N; i++) rows.push([i, T[i], cell(human.valence[i]), cell(human.arousal[i]), who].join(","));
  return rows.join("\n") + "\n";
}
function affwild2Text() {
  const rows = ["valence,arousal"], cell = v => v === null || v === undefined ? "-5" : String(Math.round(v * 1e4) / 1e4);
  for (let i = 0; i < N; i++) rows.push(cell(human.valence[i]) + "," + cell(human.arousal[i]));
  return rows.join("\n") + "\n";
}
function parseCsvLine(line) {  // fields, with "..." quoting
  const out = []; let cur = "", q = false;
  for (let k = 0; k < line.length; k++) {
    const c = line[k];
    if (q) { if (c === '"' && line[k + 1] === '"') { cur += '"'; k++; } else if (c === '"') q = false; else cur += c; }
    else if (c === '"') q = true; else if (c === ",") { out.push(cur); cur = ""; } else cur += c;
  }
  out.push(cur); return out;
}
function loadCsv(text) {  // a saved human.csv: its values back in place (frames matched by number)
  const lines = text.split(/\r?\n/).filter(l => l.length); const head = parseCsvLine(lines[0]);
  const col = n => head.indexOf(n);
  if (col("frame") < 0 || col("valence") < 0 || col("arousal") < 0) throw new Error("not a human.csv: it needs frame, valence and arousal columns");
  state.undo.push({dim: "valence", values: human.valence.slice()}, {dim: "arousal", values: human.arousal.slice()});
  human.valence = new Array(N).fill(null); human.arousal = new Array(N).fill(null);
  for (const line of lines.slice(1)) {
    const f = parseCsvLine(line), i = Number(f[col("frame")]);
    if (!(i >= 0 && i < N)) continue;
    for (const d of ["valence", "arousal"]) { const s = f[col(d)]; human[d][i] = s === "" ? null : clamp(Number(s)); }
    if (col("annotator") >= 0 && f[col("annotator")]) state.annotator = f[col("annotator")];
  }
  document.getElementById("annotator").value = state.annotator; update();
}
function download(name, text) {
  const a = document.createElement("a"); a.href = URL.createObjectURL(new Blob([text], {type: "text/csv"}));
  a.download = name; document.body.appendChild(a); a.click(); a.remove();
}
function humanFileName() { return state.annotator ? D.stem + "." + state.annotator.replace(/[^A-Za-z0-9_-]/g, "_") + ".human.csv" : D.human_file; }
function save() { download(humanFileName(), csvText()); flash("saved " + humanFileName()); }
function saveTxt() { download(D.stem + ".human.affwild2.txt", affwild2Text()); flash("saved the Aff-Wild2 txt"); }
function sizeCanvas(c) {
  const r = window.devicePixelRatio || 1, w = c.clientWidth, h = c.clientHeight;
  if (c.width !== Math.round(w * r) || c.height !== Math.round(h * r)) { c.width = Math.round(w * r); c.height = Math.round(h * r); }
  const g = c.getContext("2d"); g.setTransform(r, 0, 0, r, 0, 0); return [g, w, h];
}
const PAD = {l: 42, r: 10, t: 10, b: 22};
function drawLine(g, V, X, Y, colour, width) {
  g.strokeStyle = colour; g.lineWidth = width; g.beginPath(); let pen = false;
  for (let i = 0; i < N; i++) {
    if (V[i] === null || V[i] === undefined) { pen = false; continue; }
    if (pen) g.lineTo(X(T[i]), Y(V[i])); else { g.moveTo(X(T[i]), Y(V[i])); pen = true; }
  }
  g.stroke();
}
function drawTimeline() {
  const [g, w, h] = sizeCanvas(tl), pw = w - PAD.l - PAD.r, ph = h - PAD.t - PAD.b, dur = Math.max(D.duration, 1e-6);
  const X = t => PAD.l + pw * t / dur, Y = v => PAD.t + ph * (1 - v) / 2;
  g.fillStyle = "#fff"; g.fillRect(0, 0, w, h);
  const s = stretch();
  if (s) { g.fillStyle = "rgba(31,119,180,0.12)"; g.fillRect(X(T[s[0]]), PAD.t, Math.max(2, X(T[s[1]]) - X(T[s[0]])), ph); }
  g.strokeStyle = "#ddd"; g.lineWidth = 1; g.fillStyle = "#555"; g.font = "11px sans-serif";
  for (const v of [-1, -0.5, 0, 0.5, 1]) { g.beginPath(); g.moveTo(PAD.l, Y(v)); g.lineTo(PAD.l + pw, Y(v)); g.stroke(); g.fillText((v > 0 ? "+" : "") + v, 4, Y(v) + 4); }
  const step = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600].find(x => dur / x <= 10) || 1200;
  for (let x = 0; x <= dur; x += step) { const lab = x.toFixed(step < 1 ? 1 : 0) + " s"; g.fillText(lab, Math.min(X(x) - 8, w - g.measureText(lab).width - 2), h - 6); }
  const other = state.dim === "valence" ? "arousal" : "valence";
  drawLine(g, human[other], X, Y, "rgba(120,120,120,0.25)", 1);
  drawLine(g, D.machine[state.dim], X, Y, "#9e9e9e", 1.5);
  drawLine(g, human[state.dim], X, Y, COL[state.dim], 2.5);
  g.strokeStyle = "#d62728"; g.lineWidth = 2; g.beginPath(); g.moveTo(X(state.t), PAD.t); g.lineTo(X(state.t), PAD.t + ph); g.stroke();
  state.draws++;
}
function drawScale() {
  const [g, w, h] = sizeCanvas(scale), Y = v => 10 + (h - 20) * (1 - v) / 2;
  g.fillStyle = state.recording ? "#fff5f5" : "#fff"; g.fillRect(0, 0, w, h);
  g.fillStyle = "#555"; g.font = "11px sans-serif";
  for (const v of [-1, -0.5, 0, 0.5, 1]) { g.fillRect(w - 12, Y(v), 12, 1); g.fillText((v > 0 ? "+" : "") + v, 4, Y(v) + 4); }
  g.fillStyle = COL[state.dim]; g.fillRect(w - 30, Y(state.cur) - 3, 30, 6);
}
function update() {
  const i = frameAt(state.t);
  const mine = i >= 0 ? human[state.dim][i] : null, machine = i >= 0 ? D.machine[state.dim][i] : null;
  const done = human[state.dim].filter(v => v !== null && v !== undefined).length;
  statusEl.textContent = "t " + state.t.toFixed(2) + " s   " + state.dim + (state.recording ? "   RECORDING " + fmt(state.cur) : "") +
    "   yours " + fmt(mine) + "   machine " + fmt(machine) + "   annotated " + Math.round(100 * done / Math.max(N, 1)) +
    " % of frames   passes " + state.passes + "   speed " + video.playbackRate +
    (performance.now() < flashUntil ? "\n" + flashText : "");
  drawTimeline(); drawScale();
}
function tick() {
  if (state.videoOk && !video.paused) { state.t = video.currentTime; if (state.recording) record(state.t); update(); }
  requestAnimationFrame(tick);
}
video.addEventListener("ended", stopRecording);
video.addEventListener("pause", () => { if (state.recording) stopRecording(); });
video.addEventListener("seeked", () => { state.t = video.currentTime; if (state.recording) state.lastFrame = frameAt(state.t) - 1; update(); });
scale.addEventListener("mousemove", ev => {
  const r = scale.getBoundingClientRect(); state.cur = clamp(1 - 2 * (ev.clientY - r.top - 10) / (r.height - 20));
  if (!state.recording) update();
});
let drag = null;
function timeAtX(x) { const r = tl.getBoundingClientRect(), pw = r.width - PAD.l - PAD.r; return Math.min(Math.max((x - r.left - PAD.l) / pw * D.duration, 0), D.duration); }
function valueAtY(y) { const r = tl.getBoundingClientRect(), ph = r.height - PAD.t - PAD.b; return clamp(1 - 2 * (y - r.top - PAD.t) / ph); }
tl.addEventListener("mousedown", ev => { drag = {x: ev.clientX, y: ev.clientY, moved: false, t: timeAtX(ev.clientX), v: valueAtY(ev.clientY)}; });
window.addEventListener("mousemove", ev => {
  if (!drag) return;
  if (!drag.moved && Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) < 4) return;
  if (!drag.moved) { snapshot(); drag.moved = true; }
  const t = timeAtX(ev.clientX), v = valueAtY(ev.clientY);  // the frames between the last point and this one follow the line
  const [t0, v0, t1, v1] = drag.t <= t ? [drag.t, drag.v, t, v] : [t, v, drag.t, drag.v];
  for (let j = frameAt(t0); j >= 0 && j <= frameAt(t1); j++) human[state.dim][j] = Math.round((t1 > t0 ? v0 + (v1 - v0) * (T[j] - t0) / (t1 - t0) : v1) * 1e4) / 1e4;
  drag.t = t; drag.v = v; update();
});
window.addEventListener("mouseup", ev => { if (drag && !drag.moved) seek(timeAtX(ev.clientX)); drag = null; });
document.getElementById("dim").addEventListener("change", e => setDim(e.target.value));
document.getElementById("speed").addEventListener("change", e => setSpeed(Number(e.target.value)));
document.getElementById("record").addEventListener("click", () => state.recording ? stopRecording() : startRecording());
document.getElementById("undo").addEventListener("click", undo);
document.getElementById("save").addEventListener("click", save);
document.getElementById("savetxt").addEventListener("click", saveTxt);
document.getElementById("open").addEventListener("change", e => { const f = e.target.files[0]; if (f) f.text().then(t => { try { loadCsv(t); flash("opened " + f.name); } catch (err) { flash(String(err)); } }); });
window.addEventListener("keydown", ev => {
  if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT") return;
  const k = ev.key;
  if ((ev.ctrlKey || ev.metaKey) && k === "z") { undo(); ev.preventDefault(); return; }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const actions = {
    "v": () => setDim("valence"), "a": () => setDim("arousal"),
    "r": () => state.recording ? stopRecording() : startRecording(),
    "ArrowUp": () => { state.cur = clamp(Math.round((state.cur + 0.05) * 100) / 100); update(); },
    "ArrowDown": () => { state.cur = clamp(Math.round((state.cur - 0.05) * 100) / 100); update(); },
    "0": () => { state.cur = 0; update(); },
    " ": () => video.paused ? video.play() : video.pause(),
    "ArrowLeft": () => seek(video.currentTime - 1), "ArrowRight": () => seek(video.currentTime + 1), "Home": () => seek(0),
    "1": () => setSpeed(0.5), "2": () => setSpeed(0.75), "3": () => setSpeed(1),
    "i": () => { state.sel[0] = state.t; update(); }, "o": () => { state.sel[1] = state.t; update(); },
    "m": () => fillStretch(j => D.machine[state.dim][j]), "x": () => fillStretch(() => null),
    "u": undo, "s": save, "w": saveTxt,
  };
  if (actions[k]) { actions[k](); ev.preventDefault(); }
});
window.addEventListener("resize", update);
window.review = {data: D, state, human: () => human, csvText, affwild2Text, loadCsv};
update(); requestAnimationFrame(tick);
</script></body></html>
"""
