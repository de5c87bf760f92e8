"""Plots from per-frame tables: a timeline (valence, arousal, no-face and speech shading, a band of the
emotion category, words) and a circumplex trajectory. Several tables are overlaid for comparison."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emoannot.atomic import atomic_path

MAX_WORD_LABELS = 160
#: fonts with CJK glyphs that matplotlib falls back to, where installed (Debian: fonts-noto-cjk, fonts-wqy-zenhei)
CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK KR", "WenQuanYi Zen Hei",
             "Droid Sans Fallback", "AR PL UMing CN", "IPAGothic")


def _font_family() -> list[str]:
    """DejaVu Sans (matplotlib's own), then the installed fonts of CJK_FONTS: a name in Chinese, Japanese or
    Korean is drawn with them where the machine has one; elsewhere those characters show as boxes, quietly."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *(f for f in CJK_FONTS if f in installed)]


def _spans(flag: np.ndarray, times: np.ndarray) -> list[tuple[float, float]]:
    """Contiguous runs of True as (start, end) times."""
    spans = []
    if len(flag) == 0:
        return spans
    dt = float(np.median(np.diff(times))) if len(times) > 1 else 0.04
    edges = np.diff(np.concatenate([[0], flag.astype(np.int8), [0]]))
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        spans.append((float(times[a]), float(times[b - 1]) + dt))
    return spans


def _word_labels(df: pd.DataFrame) -> list[tuple[float, str]]:
    """(time, word) at each word's first frame, thinned so the labels do not overlap."""
    words = df["word"].fillna("").astype(str).to_numpy()
    t = df["time_s"].to_numpy()
    starts = [(t[i], words[i]) for i in range(len(words)) if words[i] and (i == 0 or words[i - 1] != words[i])]
    if not starts:
        return []
    span = max(t[-1] - t[0], 1e-6)
    min_gap = span / MAX_WORD_LABELS
    kept, last = [], -np.inf
    for time, w in starts:
        if time - last >= min_gap:
            kept.append((time, w))
            last = time
    return kept


def plot_tables(tables: list[pd.DataFrame], labels: list[str], path: Path, title: str = "",
                people: pd.DataFrame | None = None) -> None:
    """Timeline and circumplex of one or more per-frame tables; with `people` (a people.csv table of two or
    more people) one line per person instead, in that person's colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import warnings
    from contextlib import ExitStack

    local = ExitStack()  # the font and the quiet glyph fallback hold for this figure only, not the caller's
    local.enter_context(plt.rc_context({"font.family": _font_family()}))
    local.enter_context(warnings.catch_warnings())
    # a character no installed font has is drawn as a box: the README says so once, not a warning per glyph
    warnings.filterwarnings("ignore", message="Glyph .* missing from font")
    fig = plt.figure(figsize=(15, 7.2), constrained_layout=True)
    grid = fig.add_gridspec(4, 3, height_ratios=[3, 3, 0.9, 1.3], width_ratios=[1, 1, 0.9])
    ax_v = fig.add_subplot(grid[0, :2])
    ax_a = fig.add_subplot(grid[1, :2], sharex=ax_v)
    ax_e = fig.add_subplot(grid[2, :2], sharex=ax_v)
    ax_w = fig.add_subplot(grid[3, :2], sharex=ax_v)
    ax_c = fig.add_subplot(grid[:, 2])
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    first = tables[0]
    t0 = first["time_s"].to_numpy()
    for ax in (ax_v, ax_a):
        for a, b in _spans(first["face"].to_numpy() == 0, t0):
            ax.axvspan(a, b, color="0.85", lw=0)
        for a, b in _spans(first["speech"].to_numpy() == 1, t0):
            ax.axvspan(a, b, ymin=0, ymax=0.06, color="tab:blue", alpha=0.5, lw=0)
        ax.axhline(0, color="0.5", lw=0.6)
        ax.set_ylim(-1.05, 1.05)
        ax.grid(alpha=0.3)
    series = list(zip(tables, labels, colours * (len(tables) // len(colours) + 1)))
    if people is not None and people["person"].nunique() > 1:
        from emoannot.outputs import person_colour

        series = [(df.reset_index(drop=True), f"person {pid}", person_colour(int(pid)))
                  for pid, df in people.groupby("person")]
    for df, label, c in series:
        t = df["time_s"].to_numpy()
        ax_v.plot(t, df["valence"], color=c, lw=1.4, label=label)
        ax_a.plot(t, df["arousal"], color=c, lw=1.4, label=label)
        v, ar = df["valence"].to_numpy(), df["arousal"].to_numpy()
        ax_c.plot(v, ar, color=c, lw=0.8, alpha=0.5)
        if len(series) == 1:
            sc = ax_c.scatter(v, ar, c=t, cmap="viridis", s=6)
        else:
            ax_c.scatter(v, ar, color=c, s=6)
        known = np.flatnonzero(np.isfinite(v) & np.isfinite(ar))  # empty cells: no information, no point
        if len(known):
            ax_c.scatter(v[known[:1]], ar[known[:1]], marker="o", s=50, facecolor="none", edgecolor=c)
            ax_c.scatter(v[known[-1:]], ar[known[-1:]], marker="s", s=40, color=c)
    if len(series) == 1:
        fig.colorbar(sc, ax=ax_c, label="time (s)", shrink=0.6)
    ax_v.set_ylabel("valence")
    ax_a.set_ylabel("arousal")
    from matplotlib.patches import Patch

    handles = [Patch(color="0.85", label="no face"), Patch(color="tab:blue", alpha=0.5, label="speech")]
    ax_v.legend(handles=ax_v.get_legend_handles_labels()[0] + handles, loc="upper left", fontsize=8, ncol=4)
    _emotion_band(ax_e, [(df, label) for df, label, _ in series])
    ax_w.set_ylim(0, 1)
    ax_w.set_yticks([])
    ax_w.set_xlabel("time (s)")
    ax_w.set_ylabel("words", rotation=0, ha="right", va="center")
    for time, w in _word_labels(first):
        ax_w.text(time, 0.95, w, rotation=70, fontsize=7, va="top", ha="left")
    if "word" in first and not first["word"].fillna("").astype(str).str.len().any():
        ax_w.text(0.5, 0.5, "no words transcribed", transform=ax_w.transAxes, ha="center", va="center",
                  color="0.4", fontsize=9)
    theta = np.linspace(0, 2 * np.pi, 200)
    ax_c.plot(np.cos(theta), np.sin(theta), color="0.6", lw=0.8)
    ax_c.axhline(0, color="0.6", lw=0.6)
    ax_c.axvline(0, color="0.6", lw=0.6)
    for (x, y, s) in ((0.7, 0.75, "excited / happy"), (-0.7, 0.75, "angry / afraid"),
                      (-0.7, -0.75, "sad / bored"), (0.7, -0.75, "calm / content")):
        ax_c.text(x, y, s, ha="center", va="center", fontsize=8, color="0.4")
    ax_c.set_xlim(-1.1, 1.1)
    ax_c.set_ylim(-1.1, 1.1)
    ax_c.set_aspect("equal")
    ax_c.set_xlabel("valence")
    ax_c.set_ylabel("arousal")
    ax_c.set_title("circumplex trajectory (o start, ■ end)", fontsize=9)
    fig.suptitle(title or ", ".join(labels), fontsize=11)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".").lower() or "png")
    finally:
        plt.close(fig)
        local.close()


def _emotion_band(ax, series: list[tuple[pd.DataFrame, str]]) -> None:
    """One row per table (or person): each frame's `emotion` as a coloured span; blank without evidence."""
    from matplotlib.patches import Patch

    from emoannot.outputs import emotion_colour

    seen: list[str] = []
    for row, (df, _) in enumerate(series):
        if "emotion" not in df:
            continue
        t = df["time_s"].to_numpy()
        emotion = df["emotion"].fillna("").astype(str).to_numpy()
        for name in dict.fromkeys(e for e in emotion if e):
            for a, b in _spans(emotion == name, t):
                ax.axvspan(a, b, ymin=1 - (row + 1) / len(series), ymax=1 - row / len(series),
                           color=emotion_colour(name), lw=0)
            if name not in seen:
                seen.append(name)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel("emotion", rotation=0, ha="right", va="center")
    if seen:
        ax.legend(handles=[Patch(color=emotion_colour(n), label=n) for n in seen], loc="upper left",
                  bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    else:
        ax.text(0.5, 0.5, "no emotion category (no evidence, or weights without a category head)",
                transform=ax.transAxes, ha="center", va="center", color="0.4", fontsize=9)


PLOT_FORMATS = (".png", ".pdf", ".svg", ".jpg")
NUMERIC = ("time_s", "valence", "arousal", "face", "speech")


def read_frame_table(p: Path) -> pd.DataFrame:
    """An emoannot per-frame CSV, checked: the columns the plot needs, numbers where numbers belong
    (empty cells are allowed: no information)."""
    from emoannot.errors import InputError

    try:
        df = pd.read_csv(p, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{p}: cannot read it as a CSV ({type(exc).__name__}); give a <name>.csv written by "
                         "emoannot predict or batch.", stage="plot") from exc
    missing = {"time_s", "valence", "arousal", "face", "speech", "word"} - set(df.columns)
    if missing:
        raise InputError(f"{p} is not an emoannot per-frame CSV (missing {', '.join(sorted(missing))}).",
                         stage="plot")
    for col in NUMERIC:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise InputError(f"{p}: column '{col}' holds '{df[col].iloc[row]}' on data row {row + 1}, not a number; "
                             "the file was edited or is not an emoannot CSV.", stage="plot")
        df[col] = values
    if df["time_s"].isna().any() or len(df) == 0:
        raise InputError(f"{p}: every row needs a time_s (and there must be rows).", stage="plot")
    df[["face", "speech"]] = df[["face", "speech"]].fillna(0)
    return df


def check_plot_target(out: Path, inputs: list[Path]) -> None:
    from emoannot.errors import OutputError

    if out.is_dir():
        raise OutputError(f"{out} is a folder; give a file name such as {out / 'plot.png'}.", stage="plot")
    if any(out.exists() and p.exists() and out.samefile(p) for p in inputs):
        raise OutputError(f"{out} is one of the input CSVs; choose another --out.", stage="plot")
    if out.suffix.lower() not in PLOT_FORMATS:
        raise OutputError(f"{out}: the plot's file name must end in {', '.join(PLOT_FORMATS)} (it sets the format).",
                          stage="plot")
    if not out.parent.is_dir():
        raise OutputError(f"cannot write {out}: the folder {out.parent} does not exist; create it or choose another --out.", stage="plot")


def plot_csvs(csvs: list[Path], out: Path) -> Path:
    check_plot_target(out, csvs)
    tables = [read_frame_table(p) for p in csvs]
    plot_tables(tables, [p.stem for p in csvs], out)
    return out
