"""Train RJCMA on Aff-Wild2-format data: a folder of videos and one annotation per video: an Aff-Wild2 txt
(header "valence,arousal", one line per frame, -5 for unannotated frames) or a human.csv saved by the review
page (`emoannot review`; empty where not annotated).

Features come from the same pipeline as `predict` (so training and inference match) and are cached
per video: a second run skips extraction. From scratch the defaults follow the paper's recipe
(design/rjcma.md); with `init` (a weights set, e.g. "default") the set's own fusion is fine-tuned
(FINE_TUNE_RECIPE: early stopping on the held-out videos; an ensemble member by member, each keeping its own
best epoch), and the model card gets a before/after table on those videos.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from emoannot.config import Settings
from emoannot.errors import DataError
from emoannot.features import fusion_input
from emoannot.progress import Hook
from emoannot.timeline import TRAIN_HOP, WINDOW, tick_times, window_starts
from emoannot.model.fusions import FusionEnsemble, build, members_of
from emoannot.model.rjcma import RJCMAConfig
from emoannot.atomic import atomic_path
from emoannot.model.weights import read_registry, register, resolve_set, write_weights
from emoannot.evaluate import read_va
from emoannot.video import VIDEO_EXTENSIONS
from emoannot.train.fit_fusion import FusionTrainConfig, Windows, predict_windows, score, train_fusion

#: the paper's recipe (lr 1e-5, batch 12, up to 100 epochs, warm-up 5, x0.1 on a 5-epoch plateau)
PAPER_RECIPE = FusionTrainConfig(epochs=100, batch_size=12, lr=1e-5, weight_decay=1e-3, warmup_epochs=5,
                                 plateau_patience=5, mse_weight=0.0)
#: fine-tuning a shipped fusion on a few annotated videos: a short run that keeps the starting weights
#: unless the held-out videos say otherwise (the starting weights count as epoch 0; early stop after 5)
FINE_TUNE_RECIPE = FusionTrainConfig(epochs=30, batch_size=4, lr=1e-4, weight_decay=1e-3, warmup_epochs=0,
                                     plateau_patience=3, mse_weight=0.0, category_weight=0.0, early_stop=5)


@dataclass(frozen=True)
class Item:
    video: Path
    labels: Path
    split: str  #: train or val


def find_items(root: Path, val_fraction: float = 0.2) -> list[Item]:
    """Annotation txts anywhere under `root`, each matched to the video of the same stem.
    Paths containing 'valid' are the validation split; without any, every 5th video is (the last one of
    fewer than five)."""
    if not root.is_dir():
        raise DataError(f"{root} is not a folder of videos and annotation txts.")
    from emoannot.outputs.review import HUMAN_SUFFIX, video_of_human_file

    videos = {p.stem: p for p in root.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS}
    items, unmatched = [], []
    for txt in sorted([*root.rglob("*.txt"), *root.rglob(f"*{HUMAN_SUFFIX}")]):
        if txt.name.endswith(HUMAN_SUFFIX):
            stem = video_of_human_file(txt)
        else:
            first = txt.read_text(errors="replace").split("\n", 1)[0].strip().lower().replace(" ", "")
            if first != "valence,arousal":
                continue
            stem = txt.stem
        if stem not in videos:
            unmatched.append(txt.name)
            continue
        split = "val" if "valid" in str(txt.relative_to(root)).lower() else "train"
        items.append(Item(videos[stem], txt, split))
    if not items:
        raise DataError(f"no annotation txt under {root} matches a video (header must be 'valence,arousal'"
                        f"{'; unmatched: ' + ', '.join(unmatched[:5]) if unmatched else ''}).")
    if not any(i.split == "val" for i in items):
        step = max(2, int(round(1 / val_fraction)))
        held = {n for n in range(len(items)) if n % step == step - 1} or ({len(items) - 1} if len(items) > 1 else set())
        items = [Item(i.video, i.labels, "val" if n in held else "train") for n, i in enumerate(items)]
    return items


def _cache_key(video: Path, engine) -> str:
    st = video.stat()
    parts = [str(video.resolve()), str(st.st_size), str(int(st.st_mtime)),
             *(m.sha256 for m in engine.models if m.name != "rjcma"), json.dumps(engine.settings.fingerprint(), sort_keys=True)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def video_features(item: Item, engine, cache: Path) -> dict[str, np.ndarray]:
    """Fusion inputs [K, D+3] per modality plus per-tick labels [K, 2] (nan = unannotated)."""
    path = cache / f"{item.video.stem}-{_cache_key(item.video, engine)}.npz"
    if path.exists():
        with np.load(path) as z:
            feats = {k: z[k] for k in z.files}
    else:
        ex = engine.extract(item.video)
        feats = {f.name: fusion_input(f) for f in ex.features}
        feats["times"] = ex.track.times
        cache.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            np.savez(tmp, **feats)
    labels = read_va(item.labels)
    k = feats["visual"].shape[0]
    # each tick takes the label of the first decoded frame at or after its centre (emoannot.timeline)
    frame_of_tick = np.clip(np.searchsorted(feats["times"], tick_times(k)), 0, len(feats["times"]) - 1)
    tick_labels = np.full((k, 2), np.nan)
    ok = frame_of_tick < len(labels)
    tick_labels[ok] = labels[frame_of_tick[ok]]
    feats["labels"] = tick_labels
    return feats


def to_windows(videos: list[dict[str, np.ndarray]], window: int = WINDOW, hop: int = TRAIN_HOP) -> Windows:
    """Unannotated ticks are dropped before windowing; short sequences are zero-padded (label mask off)."""
    parts = []
    for f in videos:
        keep = np.isfinite(f["labels"]).all(1)
        if not keep.any():
            continue
        seq = [f["visual"][keep], f["audio"][keep], f["text"][keep], f["labels"][keep].astype(np.float32)]
        for s in window_starts(len(seq[0]), window, hop):
            cut = [x[s : s + window] for x in seq]
            pad = window - len(cut[0])
            cut = [np.pad(x, ((0, pad), (0, 0))) for x in cut]
            mask = np.zeros(window, bool)
            mask[: window - pad] = True
            parts.append(Windows(cut[0][None], cut[1][None], cut[2][None], cut[3][None], mask[None]))
    if not parts:
        raise DataError("no annotated frames in the training data.")
    return Windows.concat(parts)


def train_affwild2(root: Path, out: Path, run_dir: Path, base_weights: str = "default",
                   cfg: FusionTrainConfig = PAPER_RECIPE, model_cfg: dict | None = None,
                   settings: Settings | None = None, device: str = "cpu",
                   log: Callable[[str], None] = print, init: str | None = None, hook: Hook | None = None) -> dict:
    """Train (or with `init`, fine-tune that set's RJCMA) on the folder's annotated videos; write the
    weights set `out` (the base set's encoders and heads, the new fusion). -> a summary."""
    from emoannot.model.weights import load_state
    from emoannot.pipeline import Engine

    items = find_items(root)
    if not any(i.split == "val" for i in items) or not any(i.split == "train" for i in items):
        raise DataError(f"{root} holds {len(items)} annotated video(s): training needs at least one for training "
                        "and one for validation (put validation videos under a folder named 'valid...', or add "
                        "videos so that every 5th one is held out).")
    settings = settings or Settings(weights=base_weights)
    engine = Engine(settings, with_fusion=False)
    cache = run_dir / "features"
    feats = {"train": [], "val": []}
    for n, item in enumerate(items):
        log(f"features {n + 1}/{len(items)}: {item.video.name}")
        feats[item.split].append(video_features(item, engine, cache))
        if hook:
            hook("features", completed=n + 1, total=len(items))
    train_w, val_w = to_windows(feats["train"]), to_windows(feats["val"])
    starts, before = [None], None
    if init is not None:  # fine-tune: the set's own fusion, its own configuration (each member of an ensemble)
        if 0 < len(train_w) < cfg.batch_size:  # a handful of short videos: one batch of what there is
            log(f"{len(train_w)} training window(s): batches of {len(train_w)}")
            cfg = replace(cfg, batch_size=len(train_w))
        state, init_info = load_state(resolve_set(init), "rjcma")
        mcfg = RJCMAConfig.from_dict(init_info.card["config"])
        start = build("rjcma", mcfg.to_dict(), init_info.card.get("members", 1))
        start.load_state_dict(state)
        starts = [m.state_dict() for m in members_of(start)]
        before = score(predict_windows(start.to(device).eval(), val_w, device), val_w)
        log(f"held-out videos before fine-tuning: CCC valence {before['ccc_valence']:.3f}, arousal "
            f"{before['ccc_arousal']:.3f}")
    else:
        mcfg = RJCMAConfig(in_dims=tuple(x.shape[-1] for x in (train_w.visual, train_w.audio, train_w.text)),
                           window=WINDOW, **(model_cfg or {}))
    n = len(starts)
    members, history = [], []
    for i, init_state in enumerate(starts):
        member_hook = None if hook is None else (
            lambda stage, completed=0, total=None, i=i: hook(stage, completed=i * (total or 0) + completed,
                                                             total=None if total is None else n * total))
        member, meta = train_fusion("rjcma", mcfg, lambda epoch: train_w, val_w,
                                    run_dir / ("fusion" + (f"-member{i}" if i else "")), replace(cfg, seed=cfg.seed + i),
                                    device, log=log, init_state=init_state, hook=member_hook)
        members.append(member)
        history += [{"member": i, **h} for h in meta["history"]] if n > 1 else meta["history"]
    model = FusionEnsemble(members).eval() if n > 1 else members[0]
    val_scores = score(predict_windows(model, val_w, device), val_w)
    model.cpu()
    base = resolve_set(base_weights)
    out.mkdir(parents=True, exist_ok=True)
    for name, entry in read_registry(base).items():  # the encoders and heads travel with the new fusion
        if name != "rjcma" and base.resolve() != out.resolve():
            shutil.copy2(base / entry["file"], out / entry["file"])
            shutil.copy2(base / entry["card"], out / entry["card"])
            register(out, name, entry)
    metrics = {"validation_windows": val_scores, "n_train_windows": len(train_w), "n_val_windows": len(val_w)}
    card = {
        "task": "per-frame valence/arousal at 10 Hz fused from face, voice and words",
        "config": mcfg.to_dict(),
        **({"members": n} if n > 1 else {}),
        "data": f"annotated videos in {root}: {sum(i.split == 'train' for i in items)} training and "
                f"{sum(i.split == 'val' for i in items)} held-out (validation) videos",
        "recipe": {**meta["recipe"], "window": WINDOW, "train_hop": TRAIN_HOP,
                   "loss": "1 - CCC over the batch's labelled ticks" + (" + MSE" if cfg.mse_weight else "")},
        "history": history,
        "metrics": metrics}
    if before is not None:
        metrics["before_fine_tuning"] = before
        card["fine_tuned_from"] = str(init)
        card["before_after"] = _before_after_table(before, val_scores)
        log(card["before_after"])
    write_weights(out, "rjcma", model.state_dict(), card)
    return {"validation": val_scores, "items": len(items), **({"before": before} if before else {})}


def _before_after_table(before: dict, after: dict) -> str:
    """The model card's table: the held-out videos' scores before and after fine-tuning."""
    rows = ["| held-out videos | CCC valence | CCC arousal |", "|---|---|---|"]
    for label, s in (("before (the starting weights)", before), ("after fine-tuning", after)):
        rows.append(f"| {label} | {s['ccc_valence']:.3f} | {s['ccc_arousal']:.3f} |")
    return "\n".join(rows)
