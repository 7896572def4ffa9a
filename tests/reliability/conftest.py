"""Fixtures for the reliability checks (issue #5): each check has a short form that runs in
`make test` and a full form that `make soak` selects with `RIPPLE_SOAK=1`.

`form` is the one switch the checks read; the full forms get a longer per-test timeout.
`RIPPLE_CHAOS_SEED` replays the random kill schedule of a failed run (every check that
draws one prints its seed).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

FULL = os.environ.get("RIPPLE_SOAK", "") not in ("", "0")
FULL_TIMEOUT = 1800


@dataclass(frozen=True)
class Form:
    full: bool

    def pick(self, ci: float, full: float) -> float:
        return full if self.full else ci

    @property
    def name(self) -> str:
        return "full" if self.full else "ci"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not FULL:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.timeout(FULL_TIMEOUT), append=False)  # over the CI one


@pytest.fixture
def form() -> Form:
    return Form(FULL)


@pytest.fixture
def seed() -> int:
    """The seed of the check's random choices: `RIPPLE_CHAOS_SEED`, else a fresh one."""
    return int(os.environ.get("RIPPLE_CHAOS_SEED") or time.time_ns() % 2**32)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
