"""`emoannot evaluate PRED GT`: CCC, Pearson r and RMSE per dimension against Aff-Wild2-format ground truth."""
from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emoannot.errors import DataError
from emoannot.metrics import ccc, pearson, rmse
from emoannot.outputs import MANIFEST, SUFFIX
from emoannot.outputs.csv import AFFWILD2_MISSING
from emoannot.outputs.manifest import read_manifest
from emoannot.outputs.review import HUMAN_SUFFIX, annotator_of, video_of_human_file


@dataclass(frozen=True)
class Scores:
    n_frames: int
    ccc: tuple[float, float]  #: valence, arousal
    pearson: tuple[float, float]
    rmse: tuple[float, float]


def read_va(path: Path) -> np.ndarray:
    """emoannot CSV or Aff-Wild2 txt -> [N, 2] float with nan for unannotated (-5) frames."""
    try:
        df = pd.read_csv(path, skipinitialspace=True)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot read ({exc}).") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    if not {"valence", "arousal"} <= set(df.columns):
        raise DataError(f"{path}: needs 'valence' and 'arousal' columns (emoannot CSV or Aff-Wild2 txt).")
    va = df[["valence", "arousal"]].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64, copy=True)
    bad = np.isnan(va).any(1) & df[["valence", "arousal"]].notna().all(axis=1).to_numpy()
    if bad.any():
        row = int(bad.argmax())
        raise DataError(f"{path}: line {row + 2} ('{df['valence'].iloc[row]},{df['arousal'].iloc[row]}') is not a "
                        "pair of numbers; fix that line (use -5 for an unannotated frame).")
    va[va <= AFFWILD2_MISSING + 0.5] = np.nan  # per dimension: a person may annotate valence only
    return va


def score_pair(pred: np.ndarray, gt: np.ndarray, allow_length_mismatch: bool = False,
               name: str = "", notes: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Drop unannotated frames. Prediction and ground truth must have one line per frame each; with
    `allow_length_mismatch` the prediction is padded with its last value or cut to the ground truth."""
    if len(pred) != len(gt) and not allow_length_mismatch:
        raise DataError(f"{name}: the prediction has {len(pred)} frames and the ground truth {len(gt)}; they must "
                        "match frame for frame (check that both come from the same video), or pass "
                        "--allow-length-mismatch to pad or cut the prediction.")
    if len(pred) != len(gt) and notes is not None:
        notes.append(f"{name}: prediction {len(pred)} frames, ground truth {len(gt)}; the prediction was "
                     f"{'padded with its last value' if len(pred) < len(gt) else 'cut'} to the ground truth.")
    if len(pred) < len(gt):
        pred = np.concatenate([pred, np.repeat(pred[-1:], len(gt) - len(pred), 0)]) if len(pred) else \
            np.full_like(gt, np.nan)
    pred = pred[: len(gt)]
    keep = (np.isfinite(gt) & np.isfinite(pred)).any(1)  # frames scored in at least one dimension
    return pred[keep], gt[keep]


def scores(pred: np.ndarray, gt: np.ndarray) -> Scores:
    """CCC, r and RMSE of each dimension over the frames both have a value for in that dimension (a trace of
    one dimension is scored on it alone); n_frames: frames scored in either."""
    def per_dim(f, d):
        ok = np.isfinite(pred[:, d]) & np.isfinite(gt[:, d])
        return f(pred[ok, d], gt[ok, d]) if ok.sum() >= 2 else float("nan")

    return Scores(len(gt), *(tuple(per_dim(f, d) for d in (0, 1)) for f in (ccc, pearson, rmse)))


def _this_runs_prediction(folder: Path) -> Path | None:
    """The prediction file that the latest run wrote into result folder `folder`, from its manifest's
    `outputs` (the Aff-Wild2 txt, else the CSV). A file the manifest lists under `kept_from_earlier_runs`
    belongs to an older run, maybe with other settings, and is never scored; an incomplete result (a run
    that stopped while writing) is refused."""
    man = folder / MANIFEST
    if not man.is_file():
        return None
    try:
        m = read_manifest(man)
        outputs = m.get("outputs", {})
        complete = bool(m.get("complete", True))
    except (OSError, ValueError, AttributeError) as exc:
        raise DataError(f"{man}: not an emoannot manifest ({exc}); remove that result folder or run predict "
                        "again.") from exc
    if not complete:
        raise DataError(f"{folder}: the result is incomplete (a run stopped while writing it); run predict again "
                        "for that video, or --resume the batch.")
    for kind in ("affwild2", "csv"):
        name = outputs.get(kind)
        if name and (folder / name).is_file():
            return folder / name
    return None


def _prediction_for(pred_root: Path, stem: str) -> Path | None:
    """The prediction for video `stem`: a CSV or txt of that stem directly in `pred_root`, or what the latest
    run wrote into its result folder (`<stem>.<ext>.emoannot/`, read from its manifest)."""
    direct = [pred_root / f"{stem}.csv", pred_root / f"{stem}.txt", pred_root / f"{stem}.affwild2.txt"]
    found = next((c for c in direct if c.is_file()), None)
    if found is not None:
        return found
    for folder in sorted(pred_root.glob(f"{glob.escape(stem)}.*{SUFFIX}")):
        p = _this_runs_prediction(folder)
        if p is not None:
            return p
    return None


def stale_note(pred: Path) -> str | None:
    """A note when the file given as the prediction is one a result folder's manifest keeps from an earlier
    run (the latest run wrote another file of its own: that one holds the current values)."""
    man = pred.parent / MANIFEST
    if not man.is_file():
        return None
    try:
        m = read_manifest(man)
    except (OSError, ValueError):
        return None
    if pred.name in set(m.get("kept_from_earlier_runs", {}).values()):
        current = m.get("outputs", {}).get("affwild2") or m.get("outputs", {}).get("csv")
        return (f"{pred} was written by an earlier run than the latest one in {pred.parent}"
                + (f" (the latest wrote {current})" if current else "") + "; its values may not be the current ones.")
    return None


def evaluate(pred: Path, gt: Path, allow_length_mismatch: bool = False,
             notes: list[str] | None = None) -> tuple[Scores, dict[str, Scores], list[str]]:
    """File vs file, or folder vs folder (matched by name). Returns pooled scores, per-video scores (a video
    without any annotated frame is listed with 0 frames and NaN scores), unmatched ground-truth names."""
    if gt.is_file():
        if pred.is_dir():
            found = _prediction_for(pred, gt.stem)
            if found is None:
                raise DataError(f"no prediction for {gt.stem} in {pred}; give the prediction file itself.")
            pred = found
        elif notes is not None and (note := stale_note(pred)):
            notes.append(note)
        pairs = [(pred, gt, gt.stem)]
    elif gt.is_dir():
        pairs, missing = [], []
        for g in sorted([*gt.glob("*.txt"), *gt.glob(f"*{HUMAN_SUFFIX}")]):
            stem = video_of_human_file(g) if g.name.endswith(HUMAN_SUFFIX) else g.stem
            name = g.name[: -len(HUMAN_SUFFIX)] if g.name.endswith(HUMAN_SUFFIX) else g.stem  # per annotator
            p = _prediction_for(pred, stem) if pred.is_dir() else pred
            if p is None:
                missing.append(name)
            else:
                pairs.append((p, g, name))
        if not pairs:
            raise DataError(f"no prediction in {pred} matches the ground truth files in {gt}.")
    else:
        raise DataError(f"{gt}: no such file or folder.")
    per, all_p, all_g = {}, [], []
    for p, g, stem in pairs:
        pv, gv = score_pair(read_va(p), read_va(g), allow_length_mismatch, f"{p} vs {g}", notes)
        per[stem] = scores(pv, gv)
        if len(gv) < 2:
            continue
        all_p.append(pv)
        all_g.append(gv)
    if not all_g:
        raise DataError("no annotated frames to score (all -5?).")
    return scores(np.concatenate(all_p), np.concatenate(all_g)), per, (missing if gt.is_dir() else [])


def inter_rater(folder: Path) -> tuple[Scores, dict[str, Scores]]:
    """Person against person: every pair of human.csv files of the same video under `folder` (the review
    page's saves, one per annotator), scored like a prediction against its ground truth (CCC is symmetric;
    r too; RMSE as well). Returns the pooled scores and each pair's ("video: anna vs ben")."""
    from itertools import combinations

    by_video: dict[str, list[Path]] = {}
    for f in sorted(folder.rglob(f"*{HUMAN_SUFFIX}")):
        by_video.setdefault(video_of_human_file(f), []).append(f)
    per, all_a, all_b = {}, [], []
    for video, files in sorted(by_video.items()):
        for fa, fb in combinations(files, 2):
            a, b = score_pair(read_va(fa), read_va(fb), name=f"{fa} vs {fb}")
            label = f"{video}: {_annotator(fa)} vs {_annotator(fb)}"
            per[label] = scores(a, b)
            if len(a) >= 2:
                all_a.append(a)
                all_b.append(b)
    if not per:
        raise DataError(f"{folder}: no video has two human.csv files (two annotators' saves of the same video, "
                        "e.g. talk.anna.human.csv and talk.ben.human.csv).")
    if not all_a:
        raise DataError(f"{folder}: the annotators' traces share no annotated frame.")
    return scores(np.concatenate(all_a), np.concatenate(all_b)), per


def _annotator(path: Path) -> str:
    """Who saved a human.csv: its annotator column, else its file name."""
    return annotator_of(path) or path.name
