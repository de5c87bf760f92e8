"""The behavioural checks of the shipped weights (benchmarks/checks.py), through `emoannot predict`."""
import subprocess
import sys

import pytest

from conftest import CREMA, MEDIA, ROOT, need

pytestmark = pytest.mark.slow  # loads the full model set (whisper, MiniLM) or trains


def test_default_weights_order_the_crema_emotions_and_the_pexels_laugh():
    need(CREMA / "1001_DFA_ANG_XX.flv"), need(MEDIA / "WolfgangLanger_Pexels.mp4")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "checks.py")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASS") == 8
