"""Fusion training: the loop for the three fusions (emoannot.model.fusions), shared by the offline-corpora
recipe and Aff-Wild2-format data, and the scores (CCC for valence/arousal, accuracy and macro-F1 for the
categories)."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from emoannot.atomic import atomic_path
from emoannot.errors import DataError
from emoannot.metrics import ccc, macro_f1
from emoannot.progress import Hook
from emoannot.model.fusions import Fusion, build
from emoannot.model.rjcma import ccc as ccc_torch
from emoannot.timeline import MODEL_FPS
from emoannot.train.checkpoint import load_checkpoint, save_checkpoint


@dataclass(frozen=True)
class Windows:
    """A set of training windows. B windows of L model ticks."""
    visual: np.ndarray  #: [B, L, Dv + 3] fusion inputs (features, unimodal va, mask)
    audio: np.ndarray  #: [B, L, Da + 3]
    text: np.ndarray  #: [B, L, Dt + 3]
    target: np.ndarray  #: [B, L, 2]
    label_mask: np.ndarray  #: [B, L] bool, ticks with a label (padding and unlabelled ticks are False)
    #: [B, L] int64 category index of the target (-1: none); None where the data have no categories
    category: np.ndarray | None = None
    face_cat: np.ndarray | None = None  #: [B, L] category the face shows (-1: no face); for Foal-Net's losses
    voice_cat: np.ndarray | None = None  #: [B, L] category the voice carries (-1: no voice)

    FIELDS = ("visual", "audio", "text", "target", "label_mask", "category", "face_cat", "voice_cat")

    def __len__(self) -> int:
        return int(self.target.shape[0])

    def subset(self, idx: np.ndarray) -> "Windows":
        return Windows(*(None if getattr(self, f) is None else getattr(self, f)[idx] for f in self.FIELDS))

    @staticmethod
    def concat(parts: list["Windows"]) -> "Windows":
        def join(f):
            values = [getattr(p, f) for p in parts]
            return None if any(v is None for v in values) else np.concatenate(values)

        return Windows(*(join(f) for f in Windows.FIELDS))


@dataclass(frozen=True)
class FusionTrainConfig:
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3  #: the paper's 1e-5 suits fine-tuning on Aff-Wild2; training from scratch needs more
    weight_decay: float = 1e-3
    warmup_epochs: int = 2
    plateau_patience: int = 5  #: lr x0.1 after this many epochs without a better validation CCC
    mse_weight: float = 0.5
    category_weight: float = 0.5  #: cross-entropy of the category head (where the data have categories)
    align_weight: float = 0.2  #: Foal-Net: contrastive face-voice alignment
    match_weight: float = 0.2  #: Foal-Net: face-voice label matching
    seed: int = 0
    threads: int = 0
    early_stop: int = 0  #: stop after this many epochs without a better validation score (0: never)


def ccc_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """1 - CCC per dimension over all labelled ticks of the batch, plus nothing else."""
    p, t = pred[mask], target[mask]
    return (2 - ccc_torch(p[:, 0], t[:, 0], 0) - ccc_torch(p[:, 1], t[:, 1], 0)) / 2


def _tensors(w: Windows, device: str) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(x)).to(device) for x in (w.visual, w.audio, w.text, w.target)] + \
        [torch.from_numpy(w.label_mask).to(device)]


def _categories(w: Windows, device: str) -> list[torch.Tensor] | None:
    if w.category is None:
        return None
    return [torch.from_numpy(np.ascontiguousarray(x)).long().to(device) for x in (w.category, w.face_cat, w.voice_cat)]


@torch.no_grad()
def predict_windows(model, w: Windows, device: str = "cpu", batch: int = 128) -> tuple[np.ndarray, np.ndarray | None]:
    """-> valence/arousal [B, L, 2] and category probabilities [B, L, C] (None without a category head)."""
    model.eval()
    vas, probs = [], []
    for i in range(0, len(w), batch):
        v, a, t, _, _ = _tensors(w.subset(np.arange(i, min(i + batch, len(w)))), device)
        va, logits = model(v, a, t)
        vas.append(va.cpu().numpy())
        if logits is not None:
            probs.append(logits.softmax(-1).cpu().numpy())
    va = np.concatenate(vas) if vas else np.zeros((0, w.target.shape[1], 2), np.float32)
    return va, (np.concatenate(probs) if probs else None)


def score(pred: tuple[np.ndarray, np.ndarray | None], w: Windows) -> dict[str, float]:
    """CCC of valence and arousal over the labelled ticks; with categories, accuracy and macro-F1 over the
    ticks that carry one."""
    va, probs = pred
    m = w.label_mask
    p, t = va[m], w.target[m]
    out = {"ccc_valence": ccc(p[:, 0], t[:, 0]), "ccc_arousal": ccc(p[:, 1], t[:, 1])}
    if probs is not None and w.category is not None:
        has = w.category >= 0
        guess, truth = probs[has].argmax(-1), w.category[has]
        out["accuracy"] = float((guess == truth).mean()) if has.any() else float("nan")
        out["macro_f1"] = macro_f1(truth, guess, probs.shape[-1])
    return out


def selection_score(s: dict[str, float]) -> float:
    """What picks the best epoch: mean CCC, and the category accuracy where there is one."""
    parts = [s["ccc_valence"], s["ccc_arousal"]] + ([s["accuracy"]] if "accuracy" in s else [])
    return float(np.mean(parts))


def fusion_loss(model, batch: list[torch.Tensor], cats: list[torch.Tensor] | None, cfg: FusionTrainConfig,
                generator: torch.Generator) -> torch.Tensor:
    """1 - CCC + MSE on valence/arousal; cross-entropy on the categories; Foal-Net's alignment and matching."""
    v, a, t, y, m = batch
    pred, logits, aux = model.forward_train(v, a, t)
    loss = ccc_loss(pred, y, m) + cfg.mse_weight * ((pred - y) ** 2)[m].mean()
    if cats is not None and logits is not None:
        category, face_cat, voice_cat = cats
        has = category >= 0
        if has.any():
            loss = loss + cfg.category_weight * nn.functional.cross_entropy(logits[has], category[has])
        if aux:
            from emoannot.model.foalnet import alignment_loss, matching_loss

            loss = loss + cfg.align_weight * alignment_loss(aux, face_cat, voice_cat, generator=generator)
            loss = loss + cfg.match_weight * matching_loss(aux, face_cat, voice_cat)
    return loss


def train_fusion(fusion: Fusion | str, model_cfg, train: Callable[[int], Windows], val: Windows, run_dir: Path,
                 cfg: FusionTrainConfig = FusionTrainConfig(), device: str = "cpu", log=print,
                 init_state: dict | None = None, hook: Hook | None = None):
    """Train one fusion (`model_cfg`: its config record). `train(epoch)` returns that epoch's windows (fixed
    data, or freshly composed sequences). Keeps the weights of the epoch with the best validation score
    (selection_score), the starting weights counting as epoch 0 when `init_state` (fine-tuning) gives them;
    stops early after cfg.early_stop epochs without a better one. Resumes from run_dir. `hook` (a progress
    bar) hears ("epochs", done, total) after each epoch.
    -> (model, {history, best_val, recipe})."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    fusion = Fusion(fusion)
    model = build(fusion, model_cfg.to_dict()).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ckpt = run_dir / "checkpoint.safetensors"
    best_path = run_dir / "best.safetensors"
    meta = load_checkpoint(ckpt, model, opt)
    if meta is None:
        meta = {"epoch": 0, "history": [], "best": -1e9, "since_best": 0, "lr": cfg.lr}
        if init_state is not None:  # fine-tuning: the starting weights are the ones to beat
            from safetensors.torch import save_file

            model.load_state_dict(init_state)
            meta["best"] = selection_score(score(predict_windows(model, val, device), val))
            run_dir.mkdir(parents=True, exist_ok=True)
            with atomic_path(best_path) as tmp:
                save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp))
    gen = torch.Generator().manual_seed(cfg.seed)
    for epoch in range(meta["epoch"], cfg.epochs):
        if cfg.early_stop and meta.get("stale", 0) >= cfg.early_stop:
            log(f"{fusion.value}: no better validation score for {cfg.early_stop} epochs: stopped after {epoch}")
            break
        t0 = time.time()
        lr = meta["lr"] * min(1.0, (epoch + 1) / max(1, cfg.warmup_epochs))
        for g in opt.param_groups:
            g["lr"] = lr
        data = train(epoch)
        perm = torch.randperm(len(data), generator=gen).numpy()
        model.train()
        losses = []
        for s in range(0, len(perm) - cfg.batch_size + 1, cfg.batch_size):
            part = data.subset(perm[s : s + cfg.batch_size])
            batch = _tensors(part, device)
            if not batch[-1].any():
                continue
            loss = fusion_loss(model, batch, _categories(part, device), cfg, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            losses.append(loss.item())
        if not losses:
            raise DataError(f"too little training data: {len(data)} window(s) of {data.visual.shape[1] / MODEL_FPS:g} s, fewer "
                            f"than one batch of {cfg.batch_size} with labels; train on more (or longer) annotated videos, or "
                            "lower --batch-size.")
        val_scores = score(predict_windows(model, val, device), val)
        chosen = selection_score(val_scores)
        meta["stale"] = 0 if chosen > meta["best"] else meta.get("stale", 0) + 1
        if chosen > meta["best"]:
            meta["best"], meta["since_best"] = chosen, 0
            from safetensors.torch import save_file

            with atomic_path(best_path) as tmp:
                save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp))
        else:
            meta["since_best"] += 1
            if meta["since_best"] >= cfg.plateau_patience:
                meta["lr"] *= 0.1
                meta["since_best"] = 0
        meta["epoch"] = epoch + 1
        meta["history"].append({"epoch": epoch + 1, "loss": float(np.mean(losses)) if losses else None,
                                **val_scores, "lr": lr, "seconds": round(time.time() - t0, 1)})
        acc = f" accuracy {val_scores['accuracy']:.3f}" if "accuracy" in val_scores else ""
        log(f"{fusion.value} epoch {epoch + 1}/{cfg.epochs} loss {meta['history'][-1]['loss']:.3f} "
            f"val CCC V {val_scores['ccc_valence']:.3f} A {val_scores['ccc_arousal']:.3f}{acc} ({time.time() - t0:.0f} s)")
        save_checkpoint(ckpt, model, opt, meta)
        if hook:
            hook("epochs", completed=epoch + 1, total=cfg.epochs)
    if hook:  # an early stop ends the bar too
        hook("epochs", completed=cfg.epochs, total=cfg.epochs)
    if best_path.exists():
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(best_path)))
    model.eval()
    return model, {"history": meta["history"], "best_val": meta["best"], "recipe": asdict(cfg)}
