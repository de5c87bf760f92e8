"""The behavioural checks of the default weights, measured through `emoannot predict`:

- the six CREMA-D clips of actor 1001: mean valence HAP > NEU > each of ANG, DIS, FEA, SAD;
  mean arousal ANG > SAD and ANG > NEU;
- WolfgangLanger_Pexels.mp4 (sad, then laughing): valence over the last quarter > first quarter;
each "A > B" by more than MARGIN (0.02).

    python benchmarks/checks.py [--weights FOLDER]   # prints a table; exits 1 if a check does not give what
                                                      # is recorded for the shipped weights (KNOWN_MISSES)

KNOWN_MISSES are the checks the shipped weights fail, measured and said in the README ("The shipped
weights"): actor 1001's angry, disgusted, fearful and sad faces are subtle, and the visual head (calibrated so
that neutral faces read neutral) reads them -0.03, -0.03, +0.08 and +0.16 against NEU +0.11 (the head fitted
on the product's own crops too, 2026-12-07 night; the head before read each 0.10-0.15 lower, in the same
order), while the voice head reads the angry and fearful voices as pleasant (+0.30, +0.28): fused (three RJCMA
seeds averaged), ANG +0.020, DIS +0.047 and FEA +0.264 read above NEU -0.021, and SAD -0.016 is within MARGIN
of it. The release before (the same voice, the face head on direct crops only) missed ANG (+0.035) and FEA
(+0.065) against NEU +0.024 and passed DIS (-0.011) and SAD (-0.018); the fusion before that kept ANG and DIS
below NEU and missed SAD: with the same face and voice columns, those differences are the fusion's training.
The weights before issue 23 passed them by reading every face of that actor as negative, the neutral one too
(NEU -0.53). A known miss that starts to pass is
reported too (exit 1), so that this list is kept true.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EMOANNOT_SHARED", ROOT.parent / "shared"))
CREMA = SHARED / "data" / "av" / "crema-d"
PEXELS = SHARED / "media" / "WolfgangLanger_Pexels.mp4"
EMOTIONS = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")
KNOWN_MISSES = ("valence NEU > ANG", "valence NEU > DIS", "valence NEU > FEA", "valence NEU > SAD")
#: "A > B" holds when A exceeds B by more than this: a smaller difference is about what the frame sampling
#: alone moves a clip's mean valence (faces at the tick rate against every frame: mean |valence difference|
#: 0.011 on the talking heads, 0.016 on the MEAD clips, on average; benchmarks/tick_rate.json)
MARGIN = 0.02


def run_checks(out: Path, weights: str = "default") -> tuple[dict, list[tuple[str, bool]]]:
    videos = [CREMA / f"1001_DFA_{e}_XX.flv" for e in EMOTIONS] + [PEXELS]
    subprocess.run([sys.executable, "-m", "emoannot.cli", "predict", *map(str, videos), "--out", str(out),
                    "--no-plot", "--quiet", "--weights", weights], check=True)
    means = {}
    for e, v in zip(EMOTIONS, videos):
        df = pd.read_csv(out / f"{v.name}.emoannot" / f"{v.stem}.csv")
        means[e] = (df["valence"].mean(), df["arousal"].mean())
    df = pd.read_csv(out / f"{PEXELS.name}.emoannot" / f"{PEXELS.stem}.csv")
    q = len(df) // 4
    means["pexels first quarter"] = (df["valence"][:q].mean(), df["arousal"][:q].mean())
    means["pexels last quarter"] = (df["valence"][-q:].mean(), df["arousal"][-q:].mean())
    v = {k: m[0] for k, m in means.items()}
    a = {k: m[1] for k, m in means.items()}
    above = lambda x, y: x - y > MARGIN  # noqa: E731
    checks = [("valence HAP > NEU", above(v["HAP"], v["NEU"]))]
    checks += [(f"valence NEU > {e}", above(v["NEU"], v[e])) for e in ("ANG", "DIS", "FEA", "SAD")]
    checks += [("arousal ANG > SAD", above(a["ANG"], a["SAD"])), ("arousal ANG > NEU", above(a["ANG"], a["NEU"])),
               ("pexels valence last quarter > first quarter",
                above(v["pexels last quarter"], v["pexels first quarter"]))]
    return means, checks


def main() -> int:
    weights = sys.argv[sys.argv.index("--weights") + 1] if "--weights" in sys.argv else "default"
    with tempfile.TemporaryDirectory() as tmp:
        means, checks = run_checks(Path(tmp), weights)
    print(f"{'clip':<24} {'valence':>8} {'arousal':>8}")
    for k, (v, a) in means.items():
        print(f"{k:<24} {v:+8.3f} {a:+8.3f}")
    for name, ok in checks:
        known = " (known miss of the shipped weights)" if name in KNOWN_MISSES and weights == "default" else ""
        print(f"{'PASS' if ok else 'FAIL'}  {name}{known}")
    expected = {name: not (name in KNOWN_MISSES and weights == "default") for name, _ in checks}
    return 0 if all(ok == expected[name] for name, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
