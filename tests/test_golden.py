"""Today's outputs against the golden ones (tests/golden.py says what is compared and how to regenerate):
a refactor must not change a byte of what users get."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from golden import GOLDEN, cases, same_date, texts, write_case
from helpers import SHARED, need


@pytest.mark.slow
@pytest.mark.parametrize("name", ("example", "two_people"))
def test_outputs_are_the_golden_bytes(name, tmp_path):
    need(SHARED / "data" / "real" / "talking")
    golden = texts(need(GOLDEN / name))
    video, settings = cases(tmp_path)[name]
    written = texts(write_case(video, settings))
    assert sorted(written) == sorted(golden)
    for file_name, want in golden.items():
        got = written[file_name]
        if file_name.endswith(".eaf"):
            got = same_date(got, want)
        if file_name.endswith(".people.csv"):  # columns added since the golden files: left out
            old = pd.read_csv(io.StringIO(want), keep_default_na=False, dtype=str).columns
            new = pd.read_csv(io.StringIO(got), keep_default_na=False, dtype=str)
            assert list(new.columns[: len(old)]) == list(old)
            got = new[list(old)].to_csv(index=False, lineterminator="\n")
            want = pd.read_csv(io.StringIO(want), keep_default_na=False, dtype=str).to_csv(index=False,
                                                                                          lineterminator="\n")
        assert got == want, f"{name}/{file_name} differs from tests/golden/{name}/{file_name}"
