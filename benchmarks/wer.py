"""Word error rate of emoannot's speech path against faster-whisper alone (its default settings), on
real speech with known transcripts from ../shared:

- English, whisper tiny.en: the CREMA-D clips ("Don't forget a jacket"; actor 1001 audio-visual and
  actor 1002 audio) and jfk.flac; the RAVDESS actor-01 files are listed but skipped when the voice activity
  detector finds no speech in them (the copies in ../shared hold pure musical tones, 220-784 Hz, not speech);
- German, whisper base: one EmoDB recording of each of its ten sentences.

    python benchmarks/wer.py                  # prints the table, writes benchmarks/wer.json
    python benchmarks/wer.py --beam-size 5    # emoannot's path with another beam (default: SpeechConfig's)

WER is computed here (word-level Levenshtein distance over lower-cased words without punctuation; a
dozen lines, not worth a dependency for a benchmark).
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EMOANNOT_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"
JFK = ("And so my fellow Americans, ask not what your country can do for you, ask what you can do for your "
       "country.")
RAVDESS = {"01": "Kids are talking by the door.", "02": "Dogs are sitting by the door."}
EMODB = {  # the ten sentences of the Berlin Emotional Speech database (text code = characters 3-5 of a name)
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}


def words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).replace("'", "").split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def items() -> dict[str, list[tuple[Path, str]]]:
    english = [(p, "Don't forget a jacket.") for p in sorted((DATA / "av" / "crema-d").glob("*_DFA_*.flv"))]
    english += [(p, "Don't forget a jacket.") for p in sorted((DATA / "speech" / "crema-d").glob("*_DFA_*.mp3"))]
    english += [(p, RAVDESS[p.stem.split("-")[4]]) for p in sorted((DATA / "speech" / "ravdess").glob("*.wav"))]
    english.append((SHARED / "media" / "jfk.flac", JFK))
    german = []
    for code, text in EMODB.items():
        first = sorted((DATA / "speech" / "emodb").glob(f"??{code}*.wav"))[:1]
        german += [(p, text) for p in first]
    return {"en": english, "de": german}


def wer(pairs: list[tuple[str, str]]) -> float:
    errors = sum(edit_distance(words(ref), words(hyp)) for ref, hyp in pairs)
    return errors / max(1, sum(len(words(ref)) for ref, _ in pairs))


def main() -> int:
    import argparse
    import time

    from faster_whisper import WhisperModel

    from emoannot.config import AsrModel, SpeechConfig
    from emoannot.speech import SpeechModels, detect_speech, transcribe
    from emoannot.speech.weights import asr_model_dir
    from emoannot.video import load_audio

    ap = argparse.ArgumentParser()
    ap.add_argument("--beam-size", type=int, default=SpeechConfig().beam_size)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "wer.json")
    args = ap.parse_args()
    result = {"beam_size_emoannot": args.beam_size}
    for lang, model in (("en", AsrModel.tiny_en), ("de", AsrModel.base)):
        ours = SpeechModels(SpeechConfig(asr_model=model, language=None if model == AsrModel.tiny_en else lang,
                                         check_language=False, beam_size=args.beam_size), "cpu")
        alone = WhisperModel(str(asr_model_dir(model)), device="cpu", compute_type="int8")
        rows, skipped, ours_s = [], [], 0.0
        for path, ref in items()[lang]:
            audio = load_audio(path)
            if not detect_speech(audio, ours.vad):
                skipped.append(path.name)
                continue
            t0 = time.perf_counter()
            ours_text = transcribe(audio, ours).text
            ours_s += time.perf_counter() - t0
            segments, _ = alone.transcribe(audio, language=lang)
            alone_text = "".join(s.text for s in segments)
            rows.append({"file": path.name, "reference": ref, "emoannot": ours_text, "faster_whisper": alone_text})
        result[lang] = {"model": model.value, "clips": len(rows), "skipped_no_speech": skipped,
                        "emoannot_seconds": ours_s,
                        "wer_emoannot": wer([(r["reference"], r["emoannot"]) for r in rows]),
                        "wer_faster_whisper_defaults": wer([(r["reference"], r["faster_whisper"]) for r in rows]),
                        "rows": rows}
        print(f"{lang} ({model.value}, {len(rows)} clips): WER emoannot {result[lang]['wer_emoannot']:.3f}, "
              f"faster-whisper alone {result[lang]['wer_faster_whisper_defaults']:.3f}; emoannot's speech path "
              f"{ours_s:.1f} s (beam {args.beam_size}); skipped without speech: {len(skipped)}")
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
