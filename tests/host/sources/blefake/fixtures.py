"""pytest fixtures for the BLE tests: one private D-Bus daemon per test session, the system-bus
address pointed at it per test, and a fresh fake BlueZ (with adapter hci0) per test.

Import them into a test module (``from blefake.fixtures import bluez, system_bus, private_bus``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from .dbus_daemon import PrivateBus
from .fake_bluez import FakeBlueZ


@pytest.fixture(scope="session")
def private_bus():
    """A dbus-daemon for this test session (a short /tmp path: unix socket paths are limited)."""
    workdir = Path(tempfile.mkdtemp(prefix="twble-", dir="/tmp"))
    bus = PrivateBus(workdir)
    try:
        yield bus
    finally:
        bus.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def system_bus(private_bus, monkeypatch) -> str:
    """Point bleak (dbus-fast's system bus) at the private daemon for one test."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)
    return private_bus.address


@pytest.fixture
async def bluez(system_bus):
    """A fake org.bluez with one powered adapter, torn down after the test."""
    fake = await FakeBlueZ.start()
    fake.add_adapter("hci0")
    try:
        yield fake
    finally:
        await fake.stop()
