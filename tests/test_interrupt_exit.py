"""CPython quirk behind exit_code_after_interrupt: under `python -m`, a KeyboardInterrupt that ended a string
eval (as mediapipe's per-frame namedtuple does) turns a handled interrupt into death by SIGINT at exit."""
import subprocess
import sys

import pytest

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


@pytest.mark.parametrize("argv, code", [(["models"], 0), (["train", "x", "--epochs", "0"], 2),
                                        (["predict", "/nonexistent.mp4"], 2)])
def test_the_command_exits_at_once_with_its_code_skipping_the_interpreters_teardown(tmp_path, argv, code):
    """Issue 28.15: once a command has finished and flushed, `emoannot` ends the process directly (CPython's
    final garbage collection over a long video's objects took tens of seconds). The exit code is the
    command's; an atexit hook (part of the teardown that is skipped) never runs; what was printed arrives."""
    marker = tmp_path / "teardown-ran"
    script = ("import atexit, sys; import emoannot.cli as c; "
              f"atexit.register(lambda: open({str(marker)!r}, 'w').write('x')); "
              f"sys.argv = ['emoannot', *{argv!r}]; c.main()")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert not marker.exists()
    assert (proc.stdout + proc.stderr).strip()  # the command's own output was flushed before the exit
