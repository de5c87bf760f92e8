"""Dev-set numbers on real media (../shared/data/real; evaluation only, never training):

- mead/: 24 acted face clips (3 people x 8 emotions, no audio). Per clip the mean fused and face-only
  (valence, arousal) over the frames that have a value; per class the means over the three people; the
  8-way nearest-point accuracy (the circumplex point of emoannot.labels closest to a clip's mean); the
  valence orderings happy > neutral > each negative class; the mean neutral valence.
- talking/: 5 real talking heads with calm natural speech: per clip the mean valence of each modality's
  own column and of the fused value, and the mean |delta valence| per frame while the face is found.

    python benchmarks/realdev.py [--weights FOLDER] [--out benchmarks/realdev.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EMOANNOT_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "data" / "real"
MEAD_CLASSES = {"angry": "angry", "contempt": "contempt", "disgusted": "disgust", "fear": "fear", "happy": "happy",
                "neutral": "neutral", "sad": "sad", "surprised": "surprise"}
NEGATIVE = ("angry", "contempt", "disgust", "fear", "sad")


def _mean(x: np.ndarray) -> float | None:
    x = np.asarray(x, np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else None


def mead(engine) -> dict:
    import emoannot
    from emoannot.labels import CIRCUMPLEX

    classes = list(MEAD_CLASSES.values())
    points = np.array([CIRCUMPLEX[c] for c in classes])
    clips = {}
    for path in sorted((REAL / "mead").glob("*.mp4")):
        cls = MEAD_CLASSES[path.stem.split("_")[2]]
        a = emoannot.annotate(path, engine)
        clips[path.stem] = {"class": cls,
                            "fused": [_mean(a.valence), _mean(a.arousal)],
                            "face": [_mean(a.per_modality["valence_visual"]), _mean(a.per_modality["arousal_visual"])],
                            "frames": a.n_frames, "face_coverage": a.faces.coverage}
    out = {"clips": clips}
    for col in ("fused", "face"):
        per_class = {c: np.mean([v[col] for v in clips.values() if v["class"] == c], 0).tolist() for c in classes}
        hits = [classes[int(np.argmin(((points - np.array(v[col])) ** 2).sum(1)))] == v["class"] for v in clips.values()]
        v_of = {c: per_class[c][0] for c in classes}
        out[col] = {"per_class": per_class, "nearest_point_accuracy_8way": float(np.mean(hits)),
                    "happy_gt_neutral": v_of["happy"] > v_of["neutral"],
                    "neutral_gt_every_negative": all(v_of["neutral"] > v_of[c] for c in NEGATIVE),
                    "neutral_valence": v_of["neutral"], "happy_minus_neutral_valence": v_of["happy"] - v_of["neutral"]}
    return out


def talking(engine) -> dict:
    import emoannot

    clips = {}
    for path in sorted((REAL / "talking").glob("*.mp4")):
        a = emoannot.annotate(path, engine)
        steady = a.faces.present[1:] & a.faces.present[:-1] & np.isfinite(a.valence[1:]) & np.isfinite(a.valence[:-1])
        dv = np.abs(np.diff(a.valence))[steady]
        clips[path.stem] = {"fused_valence": _mean(a.valence), "fused_arousal": _mean(a.arousal),
                            **{f"{m}_valence": _mean(a.per_modality[f"valence_{m}"]) for m in ("visual", "audio", "text")},
                            "mean_abs_delta_valence_per_frame": float(dv.mean()) if len(dv) else None,
                            "words": len(a.transcript.words), "frames": a.n_frames}
    return {"clips": clips,
            "max_abs_voice_valence": max(abs(c["audio_valence"]) for c in clips.values() if c["audio_valence"] is not None),
            "max_abs_fused_valence": max(abs(c["fused_valence"]) for c in clips.values()),
            "max_mean_abs_delta_valence": max(c["mean_abs_delta_valence_per_frame"] for c in clips.values())}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="default")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "realdev.json")
    args = ap.parse_args()
    import emoannot

    with emoannot.load(device="cpu", weights=args.weights) as engine:
        result = {"weights": args.weights, "mead": mead(engine), "talking": talking(engine)}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    m, t = result["mead"], result["talking"]
    for col in ("fused", "face"):
        print(f"MEAD {col}: 8-way nearest-point accuracy {m[col]['nearest_point_accuracy_8way']:.3f}, neutral V "
              f"{m[col]['neutral_valence']:+.3f}, happy-neutral {m[col]['happy_minus_neutral_valence']:+.3f}, "
              f"happy>neutral {m[col]['happy_gt_neutral']}, neutral>negatives {m[col]['neutral_gt_every_negative']}")
        print("   per class (V, A): " + ", ".join(f"{c} {v[0]:+.2f}/{v[1]:+.2f}" for c, v in m[col]["per_class"].items()))
    for name, c in t["clips"].items():
        print(f"talking {name}: fused V {c['fused_valence']:+.3f}, face {c['visual_valence'] or 0:+.3f}, voice "
              f"{c['audio_valence'] or 0:+.3f}, words {c['text_valence'] or 0:+.3f}, |dV|/frame "
              f"{c['mean_abs_delta_valence_per_frame']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
