"""Train the expression CNN on FER2013 (+ CK+48) and write weights/expression_cnn.safetensors.

Recipe: random 40x40 crop of the 48x48 face + horizontal flip + brightness/contrast jitter;
AdamW with a one-cycle schedule; label smoothing 0.1. Evaluation: centre crop, FER2013 test split.
Resumes from runs/visual/checkpoint.safetensors.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from emoannot.errors import DataError
from emoannot.labels import FACE_CLASSES
from emoannot.model.expression import CROP_SIZE, INPUT_SIZE, ExpressionCNN, centre_crop
from emoannot.train import CNN_EPOCHS
from emoannot.train.checkpoint import load_checkpoint, save_checkpoint

#: CK+ class name -> FER2013 class name (contempt has no FER2013 class and is left out)
CKPLUS_TO_FER = {"anger": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy",
                 "sadness": "sad", "surprise": "surprise"}


@dataclass(frozen=True)
class VisualTrainConfig:
    epochs: int = CNN_EPOCHS
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    seed: int = 0
    use_ckplus: bool = True
    threads: int = 0  #: 0 = torch default


@dataclass(frozen=True)
class FaceSplits:
    """uint8 images [N, 48, 48] and int64 labels [N] per split (FER2013 class order); the test faces' FER+
    majority where the corpus folder has the FER+ votes (-1 where FER+ has no FER2013 class)."""
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    test_plus: np.ndarray | None = None


def load_faces(data: Path, use_ckplus: bool = True) -> FaceSplits:
    fer_path = data / "faces" / "fer2013_48.npz"
    if not fer_path.exists():
        raise DataError(f"FER2013 not found at {fer_path}; pass the folder that holds faces/ as DATA.")
    fer = np.load(fer_path, allow_pickle=False)
    classes = [str(c) for c in fer["classes"]]
    if tuple(classes) != FACE_CLASSES:
        raise DataError(f"unexpected FER2013 classes {classes}")
    split = fer["split"].astype(str)
    x, y = fer["images"], fer["labels"].astype(np.int64)
    tx, ty = x[split == "train"], y[split == "train"]
    if use_ckplus and (data / "faces" / "ckplus48.npz").exists():
        ck = np.load(data / "faces" / "ckplus48.npz", allow_pickle=False)
        ck_classes = [str(c) for c in ck["classes"]]
        keep = np.array([ck_classes[i] in CKPLUS_TO_FER for i in ck["labels"]])
        ck_y = np.array([FACE_CLASSES.index(CKPLUS_TO_FER[ck_classes[i]]) for i in ck["labels"][keep]])
        tx, ty = np.concatenate([tx, ck["images"][keep]]), np.concatenate([ty, ck_y])
    plus = (ferplus_labels(data)[1][split == "test"] if (data / "faces" / "ferplus_votes_for_fer2013_48.npz").exists()
            else None)
    return FaceSplits(tx, ty, x[split == "val"], y[split == "val"], x[split == "test"], y[split == "test"], plus)


#: FER+ column -> FER2013 class (contempt, unknown and NF have no FER2013 class)
FERPLUS_TO_FER = {"anger": "angry", "disgust": "disgust", "fear": "fear", "happiness": "happy", "sadness": "sad",
                  "surprise": "surprise", "neutral": "neutral"}


def ferplus_labels(data: Path) -> tuple[np.ndarray, np.ndarray]:
    """FER+ (10 annotators per FER2013 image), in the rows of fer2013_48.npz -> (soft [N, 7] vote shares
    over the FER2013 classes, NaN rows where no annotator chose one of them; majority [N] the class with the
    most votes of all ten columns, -1 where that is contempt, unknown or no face, or the image is unmatched)."""
    path = data / "faces" / "ferplus_votes_for_fer2013_48.npz"
    if not path.exists():
        raise DataError(f"FER+ votes not found at {path}; pass the folder that holds faces/ as DATA.")
    z = np.load(path, allow_pickle=False)
    columns = [str(c) for c in z["columns"]]
    votes = z["votes"].astype(np.float32) * z["matched"][:, None]
    inv = {fer: plus for plus, fer in FERPLUS_TO_FER.items()}
    seven = np.stack([votes[:, columns.index(inv[c])] for c in FACE_CLASSES], 1)
    total = seven.sum(1, keepdims=True)
    soft = np.where(total > 0, seven / np.maximum(total, 1), np.nan).astype(np.float32)
    top = votes.argmax(1)
    col_to_fer = {columns.index(p): FACE_CLASSES.index(f) for p, f in FERPLUS_TO_FER.items()}
    majority = np.array([col_to_fer.get(int(t), -1) if v.sum() > 0 else -1 for t, v in zip(top, votes)], np.int64)
    return soft, majority


def augment(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """[B, 1, 48, 48] uint8 -> [B, 1, 40, 40] float (still 0-255 range)."""
    b = batch.shape[0]
    off = torch.randint(0, CROP_SIZE - INPUT_SIZE + 1, (2,), generator=gen).tolist()
    out = batch[..., off[0] : off[0] + INPUT_SIZE, off[1] : off[1] + INPUT_SIZE].float()
    flip = torch.rand(b, generator=gen) < 0.5
    out[flip] = out[flip].flip(-1)
    gain = 1 + 0.4 * (torch.rand(b, 1, 1, 1, generator=gen) - 0.5)
    bias = 40 * (torch.rand(b, 1, 1, 1, generator=gen) - 0.5)
    mean = out.mean(dim=(2, 3), keepdim=True)
    return ((out - mean) * gain + mean + bias).clamp(0, 255)


@torch.no_grad()
def predict_logits(model: ExpressionCNN, x: np.ndarray, batch: int = 512) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(x), batch):
        xb = centre_crop(torch.from_numpy(x[i : i + batch]).unsqueeze(1))
        out.append(model(xb))
    return torch.cat(out).numpy()


def train_visual(data: Path, run_dir: Path, out_dir: Path, cfg: VisualTrainConfig = VisualTrainConfig(),
                 log=print) -> dict:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    faces = load_faces(data, cfg.use_ckplus)
    model = ExpressionCNN(len(FACE_CLASSES))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(faces.train_x) // cfg.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch)
    ckpt = run_dir / "checkpoint.safetensors"
    meta = load_checkpoint(ckpt, model, opt) or {"epoch": 0, "history": []}
    with warnings.catch_warnings():  # catching the schedule up on resume, before any optimizer step: expected
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(meta["epoch"] * steps_per_epoch):
            sched.step()
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    x_all = torch.from_numpy(faces.train_x).unsqueeze(1)
    y_all = torch.from_numpy(faces.train_y)
    for epoch in range(meta["epoch"], cfg.epochs):
        gen = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        perm = torch.randperm(len(x_all), generator=gen)
        model.train()
        t0, total = time.time(), 0.0
        for s in range(steps_per_epoch):
            idx = perm[s * cfg.batch_size : (s + 1) * cfg.batch_size]
            loss = loss_fn(model(augment(x_all[idx], gen)), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        val_acc = float((predict_logits(model, faces.val_x).argmax(1) == faces.val_y).mean())
        meta["epoch"] = epoch + 1
        meta["history"].append({"epoch": epoch + 1, "loss": total / steps_per_epoch, "val_acc": val_acc,
                                "seconds": time.time() - t0})
        log(f"epoch {epoch + 1}/{cfg.epochs} loss {total / steps_per_epoch:.3f} val acc {val_acc:.4f} "
            f"({time.time() - t0:.0f} s)")
        save_checkpoint(ckpt, model, opt, meta)
    return finish_visual(model, faces, meta, cfg, out_dir)


def finish_visual(model: ExpressionCNN, faces: FaceSplits, meta: dict, cfg: VisualTrainConfig, out_dir: Path) -> dict:
    """Test the CNN (FER2013 labels; the FER+ majority too where `faces` has it) and write it."""
    from emoannot.model.weights import write_weights

    test_pred = predict_logits(model, faces.test_x).argmax(1)
    val_pred = predict_logits(model, faces.val_x).argmax(1)
    per_class = {c: float((test_pred[faces.test_y == i] == i).mean()) for i, c in enumerate(FACE_CLASSES)}
    metrics = {
        "fer2013_test_accuracy": float((test_pred == faces.test_y).mean()),
        "fer2013_val_accuracy": float((val_pred == faces.val_y).mean()),
        "fer2013_test_per_class_recall": per_class,
        "n_test": int(len(faces.test_y)),
    }
    if faces.test_plus is not None:
        has = faces.test_plus >= 0
        metrics["ferplus_majority_test_accuracy"] = float((test_pred[has] == faces.test_plus[has]).mean())
    card = {
        "name": "expression_cnn",
        "task": "7-class facial expression from aligned 48x48 grey crops (centre 40x40); 256-d embedding",
        "classes": list(FACE_CLASSES),
        "data": {"train": "FER2013 train split" + (" + CK+48 (contempt left out)" if cfg.use_ckplus else ""),
                 "validation": "FER2013 val split", "test": "FER2013 test split",
                 "n_train": int(len(faces.train_y))},
        "licences": ["FER2013: research use, no licence stated", "CK+: non-commercial research"],
        "recipe": {**cfg.__dict__, "augmentation": "random 40x40 crop, flip, brightness/contrast jitter",
                   "optimizer": "AdamW + one-cycle", "epochs_run": meta["epoch"]},
        "history": meta["history"],
        "metrics": metrics,
    }
    write_weights(out_dir, "expression_cnn", model.state_dict(), card)
    return metrics
