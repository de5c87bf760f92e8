"""Writing a benchmark's section into a model card (markdown), shared by fusions.py and lag.py."""
from __future__ import annotations

from pathlib import Path


def write_section(card: Path, title: str, section: str) -> None:
    """Put `section` (starting with the `title` line) into the card: replacing an older one, else before the
    real-video section (benchmarks/realdev.py's section stays last: it rewrites from there on), else at the end."""
    text = card.read_text()
    if title in text:
        head, rest = text.split(title, 1)
        tail = rest[rest.find("\n## "):] if "\n## " in rest else ""
        text = head + section + tail
    elif "\n## Real video" in text:
        head, tail = text.split("\n## Real video", 1)
        text = head.rstrip() + "\n\n" + section + "\n## Real video" + tail
    else:
        text = text.rstrip() + "\n\n" + section
    card.write_text(text)


def main(run, card_section, title: str, default_out: Path, card_help: str) -> int:
    """The command line both benchmarks share: --weights, --out (JSON), --card (write the section there)."""
    import argparse
    import json

    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="default")
    ap.add_argument("--out", type=Path, default=default_out)
    ap.add_argument("--card", type=Path, help=card_help)
    args = ap.parse_args()
    result = run(args.weights)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.card:
        write_section(args.card, title, card_section(result))
    print(card_section(result))
    return 0
