"""The plot (emoannot/outputs/plot.py): lanes per table, the legend off the lines."""

import numpy as np
import pandas as pd



def _table(n: int, face_from: int = 0, speech=(), words=()) -> pd.DataFrame:
    t = np.arange(n) / 25
    w = [""] * n
    for i, word in words:
        w[i] = word
    return pd.DataFrame({"frame": np.arange(n), "time_s": t, "valence": np.sin(t), "arousal": np.cos(t),
                         "emotion": ["happy"] * n, "face": (np.arange(n) >= face_from).astype(int),
                         "speech": np.isin(np.arange(n), speech).astype(int), "word": w})


def test_plot_gives_each_table_its_own_named_lanes_and_keeps_the_legend_off_the_lines():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emoannot.outputs.plot import figure

    a, b = _table(100, speech=range(10, 40), words=[(12, "hello")]), _table(60, face_from=20, words=[(5, "hi")])
    fig = figure([a, b], ["a", "b"])
    try:
        ax_v, _, ax_e, ax_w = fig.axes[:4]
        assert [t.get_text() for t in ax_w.get_yticklabels()] == ["a", "b"]
        assert [t.get_text() for t in ax_e.get_yticklabels()] == ["a", "b"]
        assert {t.get_text() for t in ax_w.texts} == {"hello", "hi"}
        fig.canvas.draw()
        legend = ax_v.get_legend()
        assert legend.get_window_extent().y0 >= ax_v.get_window_extent().y1 - 1  # above the axes, not over lines
        assert {t.get_text() for t in legend.get_texts()} == {"a", "b", "no face", "speech"}
    finally:
        plt.close(fig)
    fig = figure([_table(50)], ["one"])  # a face in every frame, no speech: nothing to shade, nothing listed
    try:
        assert {t.get_text() for t in fig.axes[0].get_legend().get_texts()} == {"one"}
    finally:
        plt.close(fig)
