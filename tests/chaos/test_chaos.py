"""The chaos runner (tests/chaos/run.py) as tests: a few seeds, OVHSNAPFS_CHAOS_SECONDS each.

CI runs them for a short while; a soak is the same with a larger OVHSNAPFS_CHAOS_SECONDS
(and OVHSNAPFS_CHAOS_SEEDS, e.g. "1-10"). A failing seed's report names the command that
replays it.
"""

import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from run import run_chaos  # noqa: E402

SECONDS = int(os.environ.get("OVHSNAPFS_CHAOS_SECONDS", "20"))


def seeds():
    text = os.environ.get("OVHSNAPFS_CHAOS_SEEDS", "1-3")
    out = []
    for part in text.replace(",", " ").split():
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out


@pytest.mark.parametrize("seed", seeds())
def test_chaos_seed(seed):
    ok, report = run_chaos(seed, SECONDS)
    print(report)
    assert ok, report
