"""`serve` runs a server until it is stopped, and one test hides textual-serve from a fresh
interpreter: these need the real process boundary."""

from __future__ import annotations

import pytest

from tests.conftest import run_reviewq_process


@pytest.fixture
def cli():
    return run_reviewq_process
