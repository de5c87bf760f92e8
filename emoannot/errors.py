"""Errors whose messages say what went wrong and what to do about it."""
from __future__ import annotations


class EmoannotError(Exception):
    """Base class. `stage` names the pipeline stage that failed (for batch failure logs)."""

    exit_code = 1

    def __init__(self, message: str, *, stage: str = "") -> None:
        super().__init__(message)
        self.stage = stage


class InputError(EmoannotError):
    """The input file cannot be used (missing, empty, not a video, truncated)."""

    exit_code = 2


class OutputError(EmoannotError):
    """The output folder cannot be written."""

    exit_code = 3


class WeightsError(EmoannotError):
    """A weights file is missing, untrained, of the wrong format or fails its sha256 check."""

    exit_code = 4


class DeviceError(EmoannotError):
    """The asked-for device (e.g. cuda) is not available."""

    exit_code = 5


class DataError(EmoannotError):
    """Training or evaluation data is missing or malformed."""

    exit_code = 6


class MissingExtraError(EmoannotError):
    """An option needs an optional extra that is not installed (e.g. --ray needs emoannot[ray])."""

    exit_code = 2
