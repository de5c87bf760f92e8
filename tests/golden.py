"""Golden outputs: what emoannot writes, with the shipped weights, for two fixed inputs: the CREMA-D example
(one face, `--format all`) and a two-person clip (a real talking head beside a MEAD actor, `--people all
--format all`). tests/test_golden.py checks that today's code writes the same bytes; a change that means
to change the numbers (new weights, a new method) regenerates them, and its commit shows the difference:

    .venv/bin/python tests/golden.py          # rewrites tests/golden/<case>/

Compared: every text output (CSV, people.csv, Aff-Wild2 txt, ELAN, VTT, SRT, frames JSON, HTML report);
not compared: the manifest (dates, seconds, paths), the plot and the annotated video (binary, drawn by
matplotlib and libx264). The ELAN file's DATE and MEDIA_URL (an absolute path) are set to the golden ones;
columns people.csv has gained since the golden files were written are left out of the comparison.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import EXAMPLE, SHARED, ffmpeg  # noqa: E402 - run as a script too

GOLDEN = Path(__file__).resolve().parent / "golden"
TEXT_SUFFIXES = (".csv", ".txt", ".eaf", ".vtt", ".srt", ".json", ".html")
TALKING, MEAD = "face1.mp4", "W009_front_happy_level3_001.mp4"


def two_people(out: Path) -> Path:
    """A real talking head (left, with its voice) beside a MEAD actor mouthing words (right), 6 s at 25 fps."""
    real = SHARED / "data" / "real"
    if not out.exists():
        ffmpeg("-i", str(real / "talking" / TALKING), "-stream_loop", "2", "-i", str(real / "mead" / MEAD),
               "-filter_complex", "[0:v]scale=360:360,setsar=1,fps=25[a];[1:v]scale=360:360,setsar=1,fps=25[b];"
               "[a][b]hstack=inputs=2:shortest=1[v]", "-map", "[v]", "-map", "0:a", "-c:v", "libx264", "-preset",
               "ultrafast", "-threads", "1", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", "6", "-fflags", "+bitexact",
               str(out))
    return out


def cases(work: Path) -> dict[str, tuple[Path, dict]]:
    """name -> (input video in work/in/, emoannot.load settings). The outputs go to work/out/ (write_case),
    so that the links the report and the ELAN file hold (../../in/<video>) are the same wherever work is."""
    import shutil

    from emoannot.config import FaceConfig, PeopleMode, SpeechConfig

    inputs = work / "in"
    inputs.mkdir(parents=True, exist_ok=True)
    example = inputs / EXAMPLE.name
    if not example.exists():
        shutil.copy(EXAMPLE, example)
    speech = SpeechConfig(check_language=False)
    return {
        "example": (example, dict(device="cpu", formats=("all",), extra_columns=True, speech=speech)),
        "two_people": (two_people(inputs / "two_people.mp4"),
                       dict(device="cpu", formats=("all",), faces=FaceConfig(people=PeopleMode.all), speech=speech)),
    }


def write_case(video: Path, settings: dict) -> Path:
    """The result folder of `video` (in work/in/) annotated with `settings`, in work/out/."""
    import emoannot
    from emoannot.api import predict

    with emoannot.load(**settings) as engine:
        _, paths = predict(video=video, engine=engine, out_root=video.parent.parent / "out")
    return paths.folder


def texts(folder: Path) -> dict[str, str]:
    """The compared outputs of a result folder: file name -> text."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())
            if p.suffix in TEXT_SUFFIXES and p.name != "manifest.json"}


def same_date(eaf: str, like: str) -> str:
    """`eaf` with the DATE and MEDIA_URL attributes of `like`: when it was written and the absolute path of
    the video are not outputs (the relative link, RELATIVE_MEDIA_URL, is compared)."""
    for attribute in ("DATE", "MEDIA_URL"):
        pattern = rf' {attribute}="[^"]*"'
        found = re.search(pattern, like)
        eaf = re.sub(pattern, found.group(0), eaf, count=1) if found else eaf
    return eaf


def main() -> None:
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, (video, settings) in cases(Path(tmp)).items():
            folder = write_case(video, settings)
            target = GOLDEN / name
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for file_name, text in texts(folder).items():
                (target / file_name).write_text(text, encoding="utf-8")
            print(name, sorted(p.name for p in target.iterdir()))


if __name__ == "__main__":
    main()
