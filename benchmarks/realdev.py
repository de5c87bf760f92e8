"""Dev-set numbers on real media (../shared/data/real; evaluation only, never training):

- mead/: 24 acted face clips (3 people x 8 emotions, no audio). Per clip the mean fused and face-only
  (valence, arousal) over the frames that have a value; per class the means over the three people; the
  8-way nearest-point accuracy (the circumplex point of emoannot.labels closest to a clip's mean); the
  valence orderings happy > neutral > each negative class; the mean neutral valence.
- talking/: 5 real talking heads with calm natural speech: per clip the mean valence of each modality's
  own column and of the fused value, and the mean |delta valence| per frame while the face is found.
- calm speech: the 32 LJSpeech clips (../shared/data/speech/ljspeech, read English) and the 2 talking-head
  recordings (talking/speech1-2.wav): the voice column's mean valence per file, through the product's own
  audio path (VAD, whisper encoder, speaker centring, audio head); and the 32 clips joined into one
  recording, each clip's mean over its own ticks (where an utterance sits in a long recording must not
  change what its voice reads).
- MEAD categories: each clip's most frequent `emotion` (fused) and the face column's nearest point; 7-way
  accuracy on the 21 clips of the seven categories, confusion of the fused column.

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
    from emoannot.outputs.manifest import emotion_share

    classes = list(MEAD_CLASSES.values())
    points = np.array([CIRCUMPLEX[c] for c in classes])
    clips = {}
    for path in sorted((REAL / "mead").glob("*.mp4")):
        cls = MEAD_CLASSES[path.stem.split("_")[2]]
        a = emoannot.annotate(path, engine)
        # the most frequent category, ties alphabetical (as batch's emotion_top); a set's order would change
        # from run to run
        clips[path.stem] = {"class": cls, "emotion": next(iter(emotion_share(a.emotion)), ""),
                            "fused": [_mean(a.valence), _mean(a.arousal)],
                            "face": [_mean(a.per_modality["valence_visual"]), _mean(a.per_modality["arousal_visual"])],
                            "frames": a.n_frames, "face_coverage": a.faces.coverage}
    out = {"clips": clips}
    seven = [v for v in clips.values() if v["class"] != "contempt"]
    out["emotion_7way_accuracy_fused"] = float(np.mean([v["emotion"] == v["class"] for v in seven]))
    out["emotion_confusion_fused"] = {c: dict(sorted({e: sum(1 for v in seven if v["class"] == c and v["emotion"] == e)
                                                      for e in {v["emotion"] for v in seven}}.items()))
                                      for c in classes if c != "contempt"}
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


def _voice_reading(engine, audio: np.ndarray):
    """The voice column of a video holding only this audio: VAD + ASR, encoder ticks, speaker centring, head."""
    from emoannot.features.audio import audio_features

    _, ticks, mask = engine.voice(audio)
    return audio_features(ticks, mask, engine.audio_head), mask


def calm_speech(engine) -> dict:
    """The voice column on calm speech without a picture, as `annotate` computes it for a video's audio: each
    file alone, and the 32 LJSpeech clips read as one recording (in order, 0.4 s of silence between), scored
    per clip over the clip's own ticks."""
    from emoannot.timeline import MODEL_FPS
    from emoannot.video import AUDIO_RATE, load_audio

    lj_files = sorted((SHARED / "data" / "speech" / "ljspeech").glob("*.flac"))
    out = {}
    for path in lj_files + sorted((REAL / "talking").glob("*.wav")):
        f, mask = _voice_reading(engine, load_audio(path))
        out[path.stem] = {"voice_valence": _mean(f.va[:, 0]), "voice_arousal": _mean(f.va[:, 1]),
                          "speech_s": round(float(mask.sum()) / MODEL_FPS, 1)}
    lj = [c["voice_valence"] for n, c in out.items() if n.startswith("LJ") and c["voice_valence"] is not None]
    gap = np.zeros(int(0.4 * AUDIO_RATE), np.float32)
    pieces, spans, at = [], [], 0
    for path in lj_files:
        a = load_audio(path)
        pieces += [a, gap]
        spans.append((at, at + len(a)))
        at += len(a) + len(gap)
    f, _ = _voice_reading(engine, np.concatenate(pieces))
    joined = {p.stem: _mean(f.va[int(a / AUDIO_RATE * MODEL_FPS) : int(b / AUDIO_RATE * MODEL_FPS), 0])
              for p, (a, b) in zip(lj_files, spans)}
    jv = [v for v in joined.values() if v is not None]
    return {"files": out, "ljspeech_mean_voice_valence": float(np.mean(lj)),
            "ljspeech_files_within_0.25": int(sum(abs(v) <= 0.25 for v in lj)), "ljspeech_files": len(lj),
            "ljspeech_as_one_recording": {"per_clip_voice_valence": joined, "mean_voice_valence": _mean(f.va[:, 0]),
                                          "clips_within_0.25": int(sum(abs(v) <= 0.25 for v in jv)), "clips": len(jv),
                                          "min": float(min(jv)), "max": float(max(jv))}}


SECTION = "## Real video (dev set: ../shared/data/real)"


def card_section(r: dict, before: dict | None = None) -> str:
    """The model card's real-video section (with the numbers of `before`, the previous weights, beside)."""
    def fmt(x):
        return "" if x is None else f"{x:+.3f}"

    lines = [SECTION, "", "Measured by `python benchmarks/realdev.py --card weights/MODEL_CARD.md` (evaluation only; these",
             "clips are never trained on). MEAD: 24 acted clips, 3 people x 8 emotions, no audio; talking: 5 real",
             "talking heads with calm natural speech.", "",
             "| MEAD | fused | face column |" + (" fused, previous weights | face, previous |" if before else ""),
             "|---|---|---|" + ("---|---|" if before else "")]
    m, b = r["mead"], (before or {}).get("mead")
    for key, label in (("nearest_point_accuracy_8way", "8-way nearest-point accuracy"),
                       ("neutral_valence", "neutral mean valence"),
                       ("happy_minus_neutral_valence", "happy minus neutral valence")):
        row = f"| {label} | {m['fused'][key]:.3f} | {m['face'][key]:.3f} |"
        if b:
            row += f" {b['fused'][key]:.3f} | {b['face'][key]:.3f} |"
        lines.append(row)
    for key, label in (("happy_gt_neutral", "happy > neutral (valence)"),
                       ("neutral_gt_every_negative", "neutral > every negative class (valence)")):
        row = f"| {label} | {m['fused'][key]} | {m['face'][key]} |"
        if b:
            row += f" {b['fused'][key]} | {b['face'][key]} |"
        lines.append(row)
    if "emotion_confusion_fused" in m:
        conf = m["emotion_confusion_fused"]
        guesses = sorted({g for row in conf.values() for g in row})
        lines += ["", f"MEAD `emotion` column (each clip's most frequent category), 7 categories: accuracy "
                      f"{m['emotion_7way_accuracy_fused']:.3f}" + (f" (previous weights "
                      f"{b['emotion_7way_accuracy_fused']:.3f})" if b and "emotion_7way_accuracy_fused" in b else "")
                  + "; rows: the clip's emotion, columns: the category read.", "",
                  "| clip \\ read | " + " | ".join(guesses) + " |", "|---|" + "---|" * len(guesses)]
        lines += [f"| {c} | " + " | ".join(str(row.get(g, 0)) for g in guesses) + " |" for c, row in conf.items()]
    lines += ["", "Per class, fused (valence, arousal): " + ", ".join(
        f"{c} ({v[0]:+.2f}, {v[1]:+.2f})" for c, v in m["fused"]["per_class"].items()) + ".", "",
        "| talking head | fused V | face V | voice V | words V | mean abs delta V per frame |" +
        (" fused V, previous | voice V, previous |" if before else ""),
        "|---|---|---|---|---|---|" + ("---|---|" if before else "")]
    for name, c in r["talking"]["clips"].items():
        row = (f"| {name} | {fmt(c['fused_valence'])} | {fmt(c['visual_valence'])} | {fmt(c['audio_valence'])} | "
               f"{fmt(c['text_valence'])} | {c['mean_abs_delta_valence_per_frame']:.4f} |")
        if before:
            p = before["talking"]["clips"][name]
            row += f" {fmt(p['fused_valence'])} | {fmt(p['audio_valence'])} |"
        lines.append(row)
    cs = r.get("calm_speech")
    if cs:
        pb = (before or {}).get("calm_speech")
        lines += ["", f"Calm speech without a picture, voice column mean valence: LJSpeech (32 clips of read English) "
                      f"{cs['ljspeech_mean_voice_valence']:+.3f}, {cs['ljspeech_files_within_0.25']} of "
                      f"{cs['ljspeech_files']} files within +-0.25"
                  + (f" (previous weights {pb['ljspeech_mean_voice_valence']:+.3f}, {pb['ljspeech_files_within_0.25']} "
                     "files)" if pb else "") + "; talking-head recordings " + ", ".join(
                      f"{n} {c['voice_valence']:+.2f}" for n, c in cs["files"].items() if not n.startswith("LJ")) + "."]
        one, ob = cs.get("ljspeech_as_one_recording"), (pb or {}).get("ljspeech_as_one_recording")
        if one:
            lines += ["", f"The 32 LJSpeech clips read as one recording (0.4 s apart), voice column per clip: "
                          f"{one['clips_within_0.25']} of {one['clips']} within +-0.25, {one['min']:+.2f} to "
                          f"{one['max']:+.2f}, mean {one['mean_voice_valence']:+.3f}"
                      + (f" (previous weights {ob['clips_within_0.25']} of {ob['clips']}, {ob['min']:+.2f} to "
                         f"{ob['max']:+.2f})" if ob else "") + "."]
    return "\n".join(lines) + "\n"


def write_card(card: Path, r: dict, before: dict | None) -> None:
    text = card.read_text()
    head = text.split(SECTION)[0].rstrip() + "\n\n"
    card.write_text(head + card_section(r, before))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="default")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "realdev.json")
    ap.add_argument("--before", type=Path, help="realdev.json of the previous weights, shown beside")
    ap.add_argument("--card", type=Path, help="write the real-video section into this model card (markdown)")
    ap.add_argument("--only", choices=("mead", "talking", "calm_speech"), help="one set only (no card, nothing written)")
    args = ap.parse_args()
    import emoannot

    with emoannot.load(device="cpu", weights=args.weights) as engine:
        if args.only:
            part = {"mead": mead, "talking": talking, "calm_speech": calm_speech}[args.only](engine)
            print(json.dumps({k: v for k, v in part.items() if k != "clips"}, indent=1))
            for name, c in part.get("clips", part.get("files", {})).items():
                print(name, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in c.items()})
            return 0
        result = {"weights": args.weights, "mead": mead(engine), "talking": talking(engine),
                  "calm_speech": calm_speech(engine)}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.card:
        write_card(args.card, result, json.loads(args.before.read_text()) if args.before else None)
    m, t, cs = result["mead"], result["talking"], result["calm_speech"]
    one = cs["ljspeech_as_one_recording"]
    print(f"MEAD emotion column 7-way accuracy {m['emotion_7way_accuracy_fused']:.3f}; LJSpeech voice valence mean "
          f"{cs['ljspeech_mean_voice_valence']:+.3f} ({cs['ljspeech_files_within_0.25']} of {cs['ljspeech_files']} "
          f"files within +-0.25; as one recording {one['clips_within_0.25']} of {one['clips']}, {one['min']:+.2f} to "
          f"{one['max']:+.2f})")
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
