"""The three fusions side by side on the dev real set and on held-out composites (the model cards).

Each clip's features are extracted once (Engine.extract: faces, speech, encoders); then every fusion of
the weights set fuses them, so the comparison differs in the fusion alone.

- MEAD (../shared/data/real/mead, 24 acted clips, 3 people x 8 emotions, no audio): a clip's category is
  its most frequent frame category; 8-way accuracy (contempt is not among the 7 categories, so its 3
  clips count as misses) and the accuracy on the 21 clips of the 7 categories; the valence 8-way
  nearest-point accuracy (as benchmarks/realdev.py).
- CREMA-D actor 1001 (../shared/data/av/crema-d, 6 audio-visual clips with speech): category accuracy,
  and whether happy has the highest mean valence.
- held-out composites (from each part's model card): CCC V/A, category accuracy and macro-F1.
- cost: parameters, and the fusion's CPU seconds per minute of video (600 ticks, every modality present,
  2 threads; emoannot.train.offline.seconds_per_minute, measured here after the clips, not while training).

    python benchmarks/fusions.py [--weights FOLDER] [--card weights/MODEL_CARD.md]
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EMOANNOT_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "data" / "real"
CREMA = SHARED / "data" / "av" / "crema-d"
MEAD_CLASSES = {"angry": "angry", "contempt": "contempt", "disgusted": "disgust", "fear": "fear", "happy": "happy",
                "neutral": "neutral", "sad": "sad", "surprised": "surprise"}
CREMA_CLASSES = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
SECTION = "## Fusions compared"


def clip_result(ex, model, classes) -> dict:
    from emoannot.config import Settings
    from emoannot.fusion import fuse
    from emoannot.outputs.manifest import emotion_share
    from emoannot.results import to_annotation

    a = to_annotation(ex, [fuse(model, x.features) for x in ex.people], {}, (), Settings(), classes)
    share = emotion_share(a.emotion)  # most frequent first, ties alphabetical: as batch's emotion_top
    top = next(iter(share), "")
    return {"emotion": top, "share": round(share[top], 3) if share else 0.0,
            "valence": float(np.nanmean(a.valence)) if np.isfinite(a.valence).any() else None,
            "arousal": float(np.nanmean(a.arousal)) if np.isfinite(a.arousal).any() else None}


def run(weights: str) -> dict:
    from emoannot.config import Fusion, Settings
    from emoannot.labels import CIRCUMPLEX
    from emoannot.model.fusions import n_parameters
    from emoannot.model.weights import read_registry, resolve_set, weights_info
    from emoannot.models import load_fusion
    from emoannot.pipeline import Engine
    from emoannot.train.offline import seconds_per_minute

    folder = resolve_set(weights)
    fusions = [f for f in Fusion if f.part in read_registry(folder)]
    models = {f: load_fusion(folder, f)[0] for f in fusions}
    clips = [(p, "mead", MEAD_CLASSES[p.stem.split("_")[2]]) for p in sorted((REAL / "mead").glob("*.mp4"))]
    clips += [(CREMA / f"1001_DFA_{k}_XX.flv", "crema", v) for k, v in CREMA_CLASSES.items()]
    per_clip: dict[str, dict] = {f.value: {} for f in fusions}
    with Engine(Settings(device="cpu", weights=weights), with_fusion=False) as engine:
        for n, (path, corpus, truth) in enumerate(clips):
            print(f"{n + 1}/{len(clips)} {path.name}", file=sys.stderr, flush=True)
            ex = engine.extract(path)
            for f in fusions:
                per_clip[f.value][path.stem] = {"corpus": corpus, "class": truth,
                                                **clip_result(ex, models[f], tuple(models[f].cfg.classes))}
    points_classes = list(MEAD_CLASSES.values())
    points = np.array([CIRCUMPLEX[c] for c in points_classes])
    out = {"weights": weights, "fusions": {}}
    for f in fusions:
        rows = per_clip[f.value]
        mead = [r for r in rows.values() if r["corpus"] == "mead"]
        crema = {k: r for k, r in rows.items() if r["corpus"] == "crema"}
        seven = [r for r in mead if r["class"] != "contempt"]
        nearest = [points_classes[int(np.argmin(((points - np.array([r["valence"], r["arousal"]])) ** 2).sum(1)))]
                   == r["class"] for r in mead if r["valence"] is not None]
        card = weights_info(folder, f.part, verify=False).card
        held = card["metrics"].get("heldout_composites", {})
        crema_v = {r["class"]: r["valence"] for r in crema.values()}
        out["fusions"][f.value] = {
            "mead_category_accuracy_8way": float(np.mean([r["emotion"] == r["class"] for r in mead])),
            "mead_category_accuracy_7_classes": float(np.mean([r["emotion"] == r["class"] for r in seven])),
            "mead_valence_nearest_point_accuracy_8way": float(np.mean(nearest)) if nearest else None,
            "crema_1001_category_accuracy": float(np.mean([r["emotion"] == r["class"] for r in crema.values()])),
            "crema_1001_happy_highest_valence": max(crema_v, key=lambda c: crema_v[c] or -9) == "happy",
            "heldout_composites": {"ccc_valence": held.get("overall", {}).get("fusion", {}).get("valence"),
                                   "ccc_arousal": held.get("overall", {}).get("fusion", {}).get("arousal"),
                                   **{k: held.get("categories", {}).get(k) for k in ("accuracy", "macro_f1")}},
            "parameters": n_parameters(models[f]),
            "cpu_seconds_per_minute": seconds_per_minute(models[f]),
            "clips": rows,
        }
    return out


def card_section(r: dict) -> str:
    def num(x, fmt=".3f"):
        return "" if x is None else format(x, fmt)

    lines = [SECTION, "", "Measured by `python benchmarks/fusions.py --card weights/MODEL_CARD.md`: the same features, "
             "the same composites", "and seed for training; held-out composites as above; MEAD and CREMA-D actor 1001 "
             "are evaluation-only real clips", "(a clip's category = its most frequent frame category; contempt is "
             "not among the 7 categories, so the", "8-way MEAD accuracy counts its 3 clips as misses).", "",
             "| fusion | composites CCC V / A | composites category acc. / macro-F1 | MEAD 8-way acc. | MEAD 7 classes "
             "| MEAD valence nearest point | CREMA-D 1001 acc. (6) | parameters "
             "| fusion stage, CPU s per min of video (2 threads) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, f in r["fusions"].items():
        h = f["heldout_composites"]
        lines.append(f"| {name} | {num(h['ccc_valence'])} / {num(h['ccc_arousal'])} | {num(h['accuracy'])} / "
                     f"{num(h['macro_f1'])} | {f['mead_category_accuracy_8way']:.3f} | "
                     f"{f['mead_category_accuracy_7_classes']:.3f} | {num(f['mead_valence_nearest_point_accuracy_8way'])} | "
                     f"{f['crema_1001_category_accuracy']:.3f} | {f['parameters'] or ''} | "
                     f"{num(f['cpu_seconds_per_minute'], '.2f')} |")
    lines += ["", "Per clip (most frequent category):", ""]
    names = list(r["fusions"])
    lines += ["| clip | truth | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    first = r["fusions"][names[0]]["clips"]
    for clip, row in first.items():
        lines.append(f"| {clip} | {row['class']} | " + " | ".join(
            f"{r['fusions'][n]['clips'][clip]['emotion']} ({r['fusions'][n]['clips'][clip]['share']:.2f})"
            for n in names) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    import card

    return card.main(run, card_section, SECTION, ROOT / "benchmarks" / "fusions.json",
                     "write the comparison into this model card (markdown)")


if __name__ == "__main__":
    sys.exit(main())
