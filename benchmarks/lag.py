"""Does the fused value follow a face that changes, and how late? (the "smooth without lag" item)

Sequences of held-out FER2013 test faces (never trained on), no audio: 20 sequences of 60 s, each a run of
segments of 0.5-4 s, every segment one face of a random class held still. Each sequence goes through the
product's own inference (emoannot.fusion.fuse: 10 s windows, overlap averaging) with every shipped fusion.
The face column (the visual head, per tick) changes at once; what the fusion adds is measured against it:

- lag: the shift (in 0.1 s ticks, -1 to +1.5 s) at which the fused valence correlates best with the face
  column (positive: the fused value trails the face);
- step response: at each change of at least 0.5 in the face column's valence between segments of >= 1.5 s,
  the time until the fused valence first crosses the midpoint between the old and the new face value
  (median and 90th percentile; the share of changes it never crosses within the new segment);
- steadiness: mean |delta valence| per tick inside segments (the face is still there), fused and face.

    python benchmarks/lag.py [--weights FOLDER] [--card weights/MODEL_CARD.md]   # writes benchmarks/lag.json
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EMOANNOT_SHARED", ROOT.parent / "shared"))
FER = SHARED / "data" / "faces" / "fer2013_48.npz"
SECTION = "## Following a changing face (lag)"
N_SEQ, SECONDS, SEED = 20, 60, 0
MAX_SHIFT_S = (-1.0, 1.5)


def sequences(face_va: np.ndarray, emb: np.ndarray, labels: np.ndarray, fps: float):
    """-> list of (emb [K, d], face va [K, 2], segment starts) built from random segments of 0.5-4 s."""
    rng = np.random.default_rng(SEED)
    k = int(SECONDS * fps)
    out = []
    for _ in range(N_SEQ):
        idx, starts, t = np.zeros(k, int), [], 0
        while t < k:
            hold = int(rng.integers(int(0.5 * fps), int(4 * fps) + 1))
            cls = int(rng.integers(labels.max() + 1))
            j = int(rng.choice(np.flatnonzero(labels == cls)))
            idx[t : t + hold] = j
            starts.append(t)
            t += hold
        out.append((emb[idx], face_va[idx], np.asarray(starts)))
    return out


def best_shift(fused: np.ndarray, face: np.ndarray, fps: float) -> float:
    """Seconds by which `fused` trails `face` (the shift with the highest Pearson correlation)."""
    best, best_r = 0, -np.inf
    for s in range(int(MAX_SHIFT_S[0] * fps), int(MAX_SHIFT_S[1] * fps) + 1):
        a, b = (fused[s:], face[: len(face) - s]) if s >= 0 else (fused[: len(fused) + s], face[-s:])
        r = np.corrcoef(a, b)[0, 1]
        if r > best_r:
            best, best_r = s, r
    return best / fps


def steps(fused: np.ndarray, face: np.ndarray, starts: np.ndarray, fps: float) -> list[float]:
    """Seconds from each large face change to the fused value's crossing of the midpoint (inf: never)."""
    out = []
    bounds = list(starts) + [len(face)]
    for i in range(1, len(bounds) - 1):
        a, s, e = bounds[i - 1], bounds[i], bounds[i + 1]
        if (s - a) < 1.5 * fps or (e - s) < 1.5 * fps:
            continue
        old, new = face[s - 1], face[s]
        if abs(new - old) < 0.5:
            continue
        mid = (old + new) / 2
        crossed = np.flatnonzero((fused[s:e] - mid) * np.sign(new - old) >= 0)
        out.append(crossed[0] / fps if len(crossed) else np.inf)
    return out


def run(weights: str) -> dict:
    import torch

    from emoannot.config import Fusion, Settings
    from emoannot.features.blendshapes import N_BLENDSHAPES, fer_region
    from emoannot.features.visual import embed_crops, face_readings
    from emoannot.fusion import fuse
    from emoannot.model.weights import read_registry, resolve_set
    from emoannot.models import load_fusion
    from emoannot.pipeline import Engine
    from emoannot.records import ModalityFeatures
    from emoannot.timeline import MODEL_FPS

    torch.set_num_threads(2)
    z = np.load(FER)
    test = z["split"] == "test"
    images, labels = np.ascontiguousarray(z["images"][test]), z["labels"][test].astype(int)
    engine = Engine(Settings(device="cpu", weights=weights), with_fusion=False)
    emb, probs = embed_crops(engine.cnn, images)
    unread = np.full(N_BLENDSHAPES, np.nan, np.float32)  # the faces read as the product reads them
    bs = np.stack([v if (v := engine.blendshapes.read(fer_region(im))) is not None else unread for im in images])
    values, face_va = face_readings(emb, bs, probs, engine.visual_head)
    seqs = sequences(face_va, values, labels, MODEL_FPS)
    folder = resolve_set(weights)
    result = {"sequences": N_SEQ, "seconds_each": SECONDS, "fusions": {}}
    for fusion in Fusion:
        if fusion.part not in read_registry(folder):
            continue
        model, _ = load_fusion(folder, fusion, "cpu")
        da, dt = model.cfg.in_dims[1] - 3, model.cfg.in_dims[2] - 3
        shifts, step_s, d_fused, d_face = [], [], [], []
        for e, va, starts in seqs:
            k = len(e)
            feats = (ModalityFeatures("visual", e, np.ones(k, bool), va),
                     ModalityFeatures("audio", np.zeros((k, da), np.float32), np.zeros(k, bool), np.full((k, 2), np.nan)),
                     ModalityFeatures("text", np.zeros((k, dt), np.float32), np.zeros(k, bool), np.full((k, 2), np.nan)))
            fused = fuse(model, feats)[0][:, 0]
            shifts.append(best_shift(fused, va[:, 0], MODEL_FPS))
            step_s += steps(fused, va[:, 0], starts, MODEL_FPS)
            inside = np.ones(k - 1, bool)
            inside[starts[1:] - 1] = False  # the tick pairs that straddle a change
            d_fused.append(np.abs(np.diff(fused))[inside].mean())
            d_face.append(np.abs(np.diff(va[:, 0]))[inside].mean())
        finite = np.asarray([s for s in step_s if np.isfinite(s)])
        result["fusions"][fusion.value] = {
            "lag_s_median": float(np.median(shifts)), "lag_s_range": [float(min(shifts)), float(max(shifts))],
            "step_changes": len(step_s),
            "step_midpoint_s_median": float(np.median(finite)) if len(finite) else None,
            "step_midpoint_s_p90": float(np.percentile(finite, 90)) if len(finite) else None,
            "step_never_crossed_share": float(np.mean(~np.isfinite(step_s))) if step_s else None,
            "steady_abs_delta_v_per_tick_fused": float(np.mean(d_fused)),
            "steady_abs_delta_v_per_tick_face": float(np.mean(d_face))}
    return result


def card_section(r: dict) -> str:
    lines = [SECTION, "", "Measured by `python benchmarks/lag.py --card weights/MODEL_CARD.md`: "
             f"{r['sequences']} sequences of {r['seconds_each']} s of held-out FER2013 test faces, segments of "
             "0.5-4 s (one still face each), no audio, through the product's inference (10 s windows, overlap "
             "averaging). Lag: the shift at which the fused valence correlates best with the face column; "
             "step: time from a face change of >= 0.5 to the fused valence crossing the midpoint; steadiness: "
             "mean |delta V| per 0.1 s tick while a face is held (the face column's own is 0 there).", "",
             "| fusion | lag (median, range) | step to midpoint: median / 90th percentile | never crossed | "
             "mean abs delta V per tick, held face |", "|---|---|---|---|---|"]
    for name, f in r["fusions"].items():
        lines.append(f"| {name} | {f['lag_s_median']:+.1f} s ({f['lag_s_range'][0]:+.1f} to {f['lag_s_range'][1]:+.1f}) "
                     f"| {f['step_midpoint_s_median']:.1f} s / {f['step_midpoint_s_p90']:.1f} s "
                     f"({f['step_changes']} changes) | {f['step_never_crossed_share']:.0%} "
                     f"| {f['steady_abs_delta_v_per_tick_fused']:.4f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    if not FER.exists():
        print(f"{FER} not found: set EMOANNOT_SHARED to the folder holding data/", file=sys.stderr)
        return 2
    import card

    return card.main(run, card_section, SECTION, ROOT / "benchmarks" / "lag.json",
                     "write the section into this model card (markdown)")


if __name__ == "__main__":
    sys.exit(main())
