"""Shared fixtures. Tests mirror host/ and firmware/ (tests/host/..., tests/firmware/...)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The public recordings beside the repo; tests that need them skip with a reason if absent."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real recordings not found at {REAL_DATA} (see README: evaluation data)")
    return REAL_DATA


def pytest_addoption(parser):
    """Opt-in hardware tests: without these options they skip with a reason."""
    parser.addoption("--ble-address", default=None, help="BLE hardware tests: address of a real sensor")
    parser.addoption("--serial-port", default=None, help="serial hardware tests: port of a real sensor")
