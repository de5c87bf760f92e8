"""Ctrl-C and SIGTERM stop long work cleanly: the partial outputs are removed on the way out."""
from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Callable, Iterator


class _StopRequest:
    """SIGINT and SIGTERM raise KeyboardInterrupt and also leave a flag: native code (mediapipe calls back
    into Python from C++) can swallow the exception, so the batch checks the flag at every progress step
    and between videos."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def check(self) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt(f"signal {self.signum}")


@contextmanager
def stop_on_signals() -> Iterator[_StopRequest]:
    stop = _StopRequest()

    def handler(signum, frame):  # noqa: ARG001
        stop.signum = signum
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield stop
        return
    try:
        yield stop
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def checked(hook: Callable[..., None] | None, stop: _StopRequest) -> Callable[..., None]:
    """A progress hook that also checks for a stop request at every progress step."""
    def checked_hook(stage: str, completed: int = 0, total: int | None = None) -> None:
        stop.check()
        if hook is not None:
            hook(stage, completed=completed, total=total)

    return checked_hook


def exit_code_after_interrupt() -> int:
    """130, the exit code of a run stopped by Ctrl-C or SIGTERM once its partial outputs are removed; and
    clears a flag CPython may have left: under `python -m emoannot.cli`, a KeyboardInterrupt that ended a
    string eval (mediapipe builds a namedtuple with eval() on every frame, so a signal often lands there)
    makes the interpreter kill itself with SIGINT at exit even though the program handled it (exit status
    -2 instead of 130). Any later string eval clears it (CPython's run_eval_code_obj)."""
    eval("None")
    return 130
