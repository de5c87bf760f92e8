"""CPython quirk behind exit_code_after_interrupt: under `python -m`, a KeyboardInterrupt that ended a string
eval (as mediapipe's per-frame namedtuple does) turns a handled interrupt into death by SIGINT at exit."""
import subprocess
import sys

SCRIPT = """
import sys
from emoannot.interrupt import exit_code_after_interrupt
try:
    exec("raise KeyboardInterrupt", {})  # where a signal lands inside a string eval
except KeyboardInterrupt:
    pass
sys.exit(exit_code_after_interrupt() if sys.argv[1] == "cleared" else 130)
"""


def test_a_handled_interrupt_exits_130_under_python_m(tmp_path):
    (tmp_path / "interrupted_run.py").write_text(SCRIPT)
    run = lambda how: subprocess.run([sys.executable, "-m", "interrupted_run", how], cwd=tmp_path).returncode  # noqa: E731
    assert run("plain") == -2  # the quirk: the process kills itself with SIGINT
    assert run("cleared") == 130
