"""RJCMA training: the loop (shared by the offline-corpora recipe and Aff-Wild2-format data),
and evaluation of fused vs unimodal predictions (CCC overall and per missing-modality pattern)."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from emoannot.atomic import atomic_path
from emoannot.metrics import ccc
from emoannot.model.rjcma import RJCMA, RJCMAConfig
from emoannot.model.rjcma import ccc as ccc_torch
from emoannot.train.checkpoint import load_checkpoint, save_checkpoint


@dataclass(frozen=True)
class Windows:
    """A set of training windows. B windows of L model ticks."""
    visual: np.ndarray  #: [B, L, Dv + 3] fusion inputs (features, unimodal va, mask)
    audio: np.ndarray  #: [B, L, Da + 3]
    text: np.ndarray  #: [B, L, Dt + 3]
    target: np.ndarray  #: [B, L, 2]
    label_mask: np.ndarray  #: [B, L] bool, ticks with a label (padding and unlabelled ticks are False)

    def __len__(self) -> int:
        return int(self.target.shape[0])

    def subset(self, idx: np.ndarray) -> "Windows":
        return Windows(*(getattr(self, f)[idx] for f in ("visual", "audio", "text", "target", "label_mask")))

    @staticmethod
    def concat(parts: list["Windows"]) -> "Windows":
        return Windows(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                         ("visual", "audio", "text", "target", "label_mask")))


@dataclass(frozen=True)
class FusionTrainConfig:
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3  #: the paper's 1e-5 suits fine-tuning on Aff-Wild2; training from scratch needs more
    weight_decay: float = 1e-3
    warmup_epochs: int = 2
    plateau_patience: int = 5  #: lr x0.1 after this many epochs without a better validation CCC
    mse_weight: float = 0.5
    seed: int = 0
    threads: int = 0


def ccc_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """1 - CCC per dimension over all labelled ticks of the batch, plus nothing else."""
    p, t = pred[mask], target[mask]
    return (2 - ccc_torch(p[:, 0], t[:, 0], 0) - ccc_torch(p[:, 1], t[:, 1], 0)) / 2


def _tensors(w: Windows, device: str) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(x)).to(device) for x in (w.visual, w.audio, w.text, w.target)] + \
        [torch.from_numpy(w.label_mask).to(device)]


@torch.no_grad()
def predict_windows(model: RJCMA, w: Windows, device: str = "cpu", batch: int = 128) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(w), batch):
        v, a, t, _, _ = _tensors(w.subset(np.arange(i, min(i + batch, len(w)))), device)
        out.append(model(v, a, t).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, w.target.shape[1], 2), np.float32)


def score(pred: np.ndarray, w: Windows) -> dict[str, float]:
    m = w.label_mask
    p, t = pred[m], w.target[m]
    return {"ccc_valence": ccc(p[:, 0], t[:, 0]), "ccc_arousal": ccc(p[:, 1], t[:, 1])}


def train_rjcma(model_cfg: RJCMAConfig, train: Callable[[int], Windows], val: Windows, run_dir: Path,
                cfg: FusionTrainConfig = FusionTrainConfig(), device: str = "cpu", log=print) -> tuple[RJCMA, dict]:
    """`train(epoch)` returns that epoch's windows (fixed data, or freshly composed sequences).
    Keeps the weights of the epoch with the best validation mean CCC. Resumes from run_dir."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    model = RJCMA(model_cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ckpt = run_dir / "checkpoint.safetensors"
    meta = load_checkpoint(ckpt, model, opt) or {"epoch": 0, "history": [], "best": -1e9, "since_best": 0,
                                                 "lr": cfg.lr}
    best_path = run_dir / "best.safetensors"
    gen = torch.Generator().manual_seed(cfg.seed)
    for epoch in range(meta["epoch"], cfg.epochs):
        t0 = time.time()
        lr = meta["lr"] * min(1.0, (epoch + 1) / max(1, cfg.warmup_epochs))
        for g in opt.param_groups:
            g["lr"] = lr
        data = train(epoch)
        perm = torch.randperm(len(data), generator=gen).numpy()
        model.train()
        losses = []
        for s in range(0, len(perm) - cfg.batch_size + 1, cfg.batch_size):
            v, a, t, y, m = _tensors(data.subset(perm[s : s + cfg.batch_size]), device)
            if not m.any():
                continue
            pred = model(v, a, t)
            loss = ccc_loss(pred, y, m) + cfg.mse_weight * ((pred - y) ** 2)[m].mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            losses.append(loss.item())
        val_scores = score(predict_windows(model, val, device), val)
        mean_ccc = (val_scores["ccc_valence"] + val_scores["ccc_arousal"]) / 2
        if mean_ccc > meta["best"]:
            meta["best"], meta["since_best"] = mean_ccc, 0
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
        log(f"fusion epoch {epoch + 1}/{cfg.epochs} loss {meta['history'][-1]['loss']:.3f} "
            f"val CCC V {val_scores['ccc_valence']:.3f} A {val_scores['ccc_arousal']:.3f} ({time.time() - t0:.0f} s)")
        save_checkpoint(ckpt, model, opt, meta)
    if best_path.exists():
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(best_path)))
    model.eval()
    return model, {"history": meta["history"], "best_val_mean_ccc": meta["best"], "recipe": asdict(cfg)}
