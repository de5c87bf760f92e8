"""Plots from per-frame tables: a timeline (valence, arousal, no-face and speech shading, a band of the
emotion category, words) and a circumplex trajectory. Several tables are overlaid for comparison: their
lines share the axes, and each table (or person) has its own labelled row in the emotion band and in the
lanes below it (no face, speech, words), in its line's colour."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emoannot.atomic import atomic_path

MAX_WORD_LABELS = 160
#: the speech band and the no-face shading: colours no emotion category uses (outputs.EMOTION_COLOURS)
SPEECH_COLOUR, NO_FACE_COLOUR = "#37474f", "0.87"
#: fonts with CJK glyphs that matplotlib falls back to, where installed (Debian: fonts-noto-cjk, fonts-wqy-zenhei)
CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK KR", "WenQuanYi Zen Hei",
             "Droid Sans Fallback", "AR PL UMing CN", "IPAGothic")


def _font_family() -> list[str]:
    """DejaVu Sans (matplotlib's own), then the installed fonts of CJK_FONTS: a name in Chinese, Japanese or
    Korean is drawn with them where the machine has one; elsewhere those characters show as boxes, quietly."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *(f for f in CJK_FONTS if f in installed)]


def _flag(df: pd.DataFrame, *names: str) -> np.ndarray:
    """The first of the 0/1 columns `names` the table has, as bool (a person's table has `speaking` where a
    video's has `speech`); all False without any."""
    for name in names:
        if name in df:
            return pd.to_numeric(df[name], errors="coerce").fillna(0).to_numpy() == 1
    return np.zeros(len(df), bool)


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
    """Timeline and circumplex of one or more per-frame tables, written to `path` (its suffix sets the
    format); with `people` (a people.csv table of two or more people) one line per person instead, in that
    person's colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import warnings
    from contextlib import ExitStack

    with ExitStack() as local:  # the font and the quiet glyph fallback hold for this figure only
        local.enter_context(plt.rc_context({"font.family": _font_family()}))
        local.enter_context(warnings.catch_warnings())
        # a character no installed font has is drawn as a box: the README says so once, not a warning per glyph
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig = figure(tables, labels, title, people)
        try:
            with atomic_path(path) as tmp:
                fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".").lower() or "png")
        finally:
            plt.close(fig)


def figure(tables: list[pd.DataFrame], labels: list[str], title: str = "", people: pd.DataFrame | None = None):
    """The matplotlib Figure of plot_tables (the caller closes it)."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(15, 7.2), constrained_layout=True)
    grid = fig.add_gridspec(4, 3, height_ratios=[3, 3, 0.9, 1.3], width_ratios=[1, 1, 0.9])
    ax_v = fig.add_subplot(grid[0, :2])
    ax_a = fig.add_subplot(grid[1, :2], sharex=ax_v)
    ax_e = fig.add_subplot(grid[2, :2], sharex=ax_v)
    ax_w = fig.add_subplot(grid[3, :2], sharex=ax_v)
    ax_c = fig.add_subplot(grid[:, 2])
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    series = list(zip(tables, labels, colours * (len(tables) // len(colours) + 1)))
    if people is not None and people["person"].nunique() > 1:
        from emoannot.outputs import person_colour

        series = [(df.reset_index(drop=True), f"person {pid}", person_colour(int(pid)))
                  for pid, df in people.groupby("person")]
    one = len(series) == 1
    for ax in (ax_v, ax_a):
        if one:  # one table: its no-face and speech stretches shade the value axes too
            df = series[0][0]
            t = df["time_s"].to_numpy()
            for a, b in _spans(~_flag(df, "face"), t):
                ax.axvspan(a, b, color=NO_FACE_COLOUR, lw=0)
            for a, b in _spans(_flag(df, "speech", "speaking"), t):
                ax.axvspan(a, b, ymin=0, ymax=0.06, color=SPEECH_COLOUR, alpha=0.6, lw=0)
        ax.axhline(0, color="0.5", lw=0.6)
        ax.set_ylim(-1.05, 1.05)
        ax.grid(alpha=0.3)
    for df, label, c in series:
        t = df["time_s"].to_numpy()
        ax_v.plot(t, df["valence"], color=c, lw=1.4, label=label)
        ax_a.plot(t, df["arousal"], color=c, lw=1.4, label=label)
        v, ar = df["valence"].to_numpy(), df["arousal"].to_numpy()
        ax_c.plot(v, ar, color=c, lw=0.8, alpha=0.5)
        if one:
            sc = ax_c.scatter(v, ar, c=t, cmap="viridis", s=6)
        else:
            ax_c.scatter(v, ar, color=c, s=6)
        known = np.flatnonzero(np.isfinite(v) & np.isfinite(ar))  # empty cells: no information, no point
        if len(known):  # the end first, the start on top of it (a still clip starts and ends in one place)
            ax_c.scatter(v[known[-1:]], ar[known[-1:]], marker="s", s=40, color=c, zorder=3)
            ax_c.scatter(v[known[:1]], ar[known[:1]], marker="o", s=90, facecolor="none", edgecolor=c, lw=1.6,
                         zorder=4)
    if one:
        fig.colorbar(sc, ax=ax_c, label="time (s)", shrink=0.6)
    ax_v.set_ylabel("valence")
    ax_a.set_ylabel("arousal")
    from matplotlib.patches import Patch

    shading = []
    if any((~_flag(df, "face")).any() for df, _, _ in series):
        shading.append(Patch(color=NO_FACE_COLOUR, label="no face"))
    if any(_flag(df, "speech", "speaking").any() for df, _, _ in series):
        shading.append(Patch(color=SPEECH_COLOUR, alpha=0.6, label="speech" if people is None else "speaking"))
    # above the axes, never over the first seconds of the lines
    ax_v.legend(handles=ax_v.get_legend_handles_labels()[0] + shading, loc="lower left", bbox_to_anchor=(0, 1.0),
                fontsize=8, ncol=6, frameon=False, borderaxespad=0.2)
    _emotion_band(ax_e, [(df, label) for df, label, _ in series], [c for _, _, c in series])
    _lanes(ax_w, series)
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
    return fig


def _row_labels(ax, labels: list[str], colours: list[str]) -> None:
    """Name each of the axis' rows (the first at the top) in its series' colour."""
    n = len(labels)
    ax.set_yticks([1 - (i + 0.5) / n for i in range(n)], labels, fontsize=7)
    for tick, c in zip(ax.get_yticklabels(), colours):
        tick.set_color(c)


def _lanes(ax, series: list[tuple[pd.DataFrame, str, str]]) -> None:
    """One row per table (or person), named: no-face stretches shaded, speech (a person's: their speaking) as
    a bar along the row's foot, and the words (thinned) written at their start."""
    n = len(series)
    ax.set_ylim(0, 1)
    for row, (df, _, _) in enumerate(series):
        lo, hi = 1 - (row + 1) / n, 1 - row / n
        t = df["time_s"].to_numpy()
        for a, b in _spans(~_flag(df, "face"), t):
            ax.axvspan(a, b, ymin=lo, ymax=hi, color=NO_FACE_COLOUR, lw=0)
        for a, b in _spans(_flag(df, "speech", "speaking"), t):
            ax.axvspan(a, b, ymin=lo, ymax=lo + 0.12 / n, color=SPEECH_COLOUR, alpha=0.6, lw=0)
        for time, w in _word_labels(df):
            ax.text(time, hi - 0.04 / n, w, rotation=70 if n == 1 else 0, fontsize=7 if n == 1 else 6, va="top",
                    ha="left", clip_on=True)
        if row:
            ax.axhline(hi, color="0.7", lw=0.5)
    if n == 1:
        ax.set_yticks([])
        ax.set_ylabel("words", rotation=0, ha="right", va="center")
    else:
        _row_labels(ax, [label for _, label, _ in series], [c for _, _, c in series])
    ax.set_xlabel("time (s)")
    if all(not df["word"].fillna("").astype(str).str.len().any() for df, _, _ in series if "word" in df):
        ax.text(0.5, 0.5, "no words transcribed", transform=ax.transAxes, ha="center", va="center",
                color="0.4", fontsize=9)


def _emotion_band(ax, series: list[tuple[pd.DataFrame, str]], colours: list[str] | None = None) -> None:
    """One row per table (or person), named when there are several: each frame's `emotion` as a coloured
    span; blank without evidence."""
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
    if len(series) > 1:
        _row_labels(ax, [label for _, label in series], colours or ["0.2"] * len(series))
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
        raise OutputError(f"cannot write {out}: the folder {out.parent} does not exist; create it or choose another "
                          "--out.", stage="plot")


def plot_csvs(csvs: list[Path], out: Path) -> Path:
    check_plot_target(out, csvs)
    tables = [read_frame_table(p) for p in csvs]
    plot_tables(tables, [p.stem for p in csvs], out)
    return out
