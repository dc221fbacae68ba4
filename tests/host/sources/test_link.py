"""One link session, three byte links: the same behaviour over a real pty (pyserial), the fake
BlueZ (unmodified bleak) and an in-memory link."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent))  # for the blefake helpers

from blefake.ble_sensor_app import SensorFirmware  # noqa: E402
from blefake.fake_bluez import FakePeripheral  # noqa: E402
from blefake.fixtures import bluez, private_bus, system_bus  # noqa: E402, F401 (fixtures)

from twitchwatch.errors import DeviceError  # noqa: E402
from twitchwatch.model import Chunk, ConnectionChange, DeviceInfo, Fault  # noqa: E402
from twitchwatch.protocol import Command, CommandCode, FrameDecoder  # noqa: E402
from twitchwatch.sources import ble  # noqa: E402
from twitchwatch.sources.link import LinkLost, LinkSession  # noqa: E402
from twitchwatch.sources.serial import SerialSource  # noqa: E402
from twitchwatch.virtual import VirtualDevice, VirtualSerialPort, wire_bytes  # noqa: E402

SCENARIO = "quiet:30"
STEP_TIMEOUT_S = 10.0


class MemoryLink:
    """The virtual device's bytes, handed out from memory; ``drop()`` loses the link once and
    skips ``lost_s`` seconds of device time (the bytes sent while nobody listened)."""

    def __init__(self, silent: bool = False):
        self.name = "memory"
        self.silent = silent
        self.commands: list[Command] = []
        self.opens = 0
        self._bytes = wire_bytes(SCENARIO, seed=2)
        self._decoder = FrameDecoder()
        self._lost: str | None = None
        self._skip_until_s = 0.0

    async def open(self) -> None:
        self.opens += 1
        self._lost = None

    async def read(self) -> bytes:
        await asyncio.sleep(0)
        if self._lost is not None:
            raise LinkLost(self._lost)
        if self.silent:
            await asyncio.sleep(3600)
        for t, data in self._bytes:
            if t >= self._skip_until_s:
                return data
        raise LinkLost("the device ran out of scenario")

    async def write(self, data: bytes) -> None:
        self.commands.extend(f for f in self._decoder.feed(data) if isinstance(f, Command))

    async def close(self) -> None:
        if self._lost is None:
            self._lost = "closed"

    async def drop(self, reached_s: float, lost_s: float = 1.0) -> None:
        self._lost = "unplugged"
        self._skip_until_s = reached_s + lost_s


class Rig:
    """A session over one kind of link and a way to break that link from the device's side."""

    def __init__(self, session, drop, power_on=lambda: None):
        self.session = session
        self.drop = drop
        self.power_on = power_on


@pytest.fixture(params=["memory", "serial", "ble"])
def rig(request):
    if request.param == "memory":
        link = MemoryLink()
        yield Rig(LinkSession(link, backoff_s=(0.01, 0.05)), link.drop)
    elif request.param == "serial":
        with VirtualSerialPort(VirtualDevice(SCENARIO, seed=2), speed=20) as port:
            async def unplug(reached_s: float) -> None:
                port.unplug()
                while port.device_time_s < reached_s + 1.0:
                    await asyncio.sleep(0.01)
                port.replug()
            yield Rig(SerialSource(port.path, backoff_s=0.02), unplug)
    else:
        fake = request.getfixturevalue("bluez")
        peripheral = []

        async def out_of_range(reached_s: float) -> None:
            await peripheral[0].drop_link(out_of_range_s=0.6)

        def power_on() -> None:  # the fake peripheral runs on the test's event loop
            peripheral.append(fake.add_peripheral(FakePeripheral(
                "F0:0D:BE:EF:00:02", ble.DEFAULT_NAME, ble.PROTOCOL_SERVICE_UUID, ble.STREAM_CHAR_UUID,
                ble.COMMAND_CHAR_UUID, SensorFirmware(speed=4.0, seed=2), seed=2)))
        yield Rig(ble.BleSource(name=ble.DEFAULT_NAME, scan_timeout_s=3.0, backoff_s=(0.1, 0.4)), out_of_range,
                  power_on)


async def take_until(agen, done, items):
    while not done(items):
        items.append(await asyncio.wait_for(anext(agen), STEP_TIMEOUT_S))
    return items


def chunks(items):
    return [i for i in items if isinstance(i, Chunk)]


async def test_a_lost_link_reads_the_same_on_every_transport(rig):
    rig.power_on()
    agen = aiter(rig.session)
    try:
        items = await take_until(agen, lambda it: len(chunks(it)) >= 8, [])
        assert isinstance(items[0], DeviceInfo)  # nothing before the device said what it is
        reached = max(c.t_end_s for c in chunks(items))
        n_before = len(items)
        drop = asyncio.create_task(rig.drop(reached))
        await take_until(agen, lambda it: any(isinstance(i, Fault) and i.kind == "gap" for i in it[n_before:])
                         and len(chunks(it[n_before:])) >= 4, items)
        await drop
    finally:
        await rig.session.aclose()
    after = items[n_before:]
    changes = [i.state for i in after if isinstance(i, ConnectionChange)]
    assert changes == ["disconnected", "reconnecting", "connected"]
    lost = [i for i in after if isinstance(i, Fault) and i.kind == "signal_lost"]
    assert len(lost) == 1 and lost[0].start_s == lost[0].end_s
    last_before = max(c.t_end_s for c in chunks(items[:items.index(lost[0])]))
    assert lost[0].start_s == last_before  # stamped with the device time the data had reached
    first_gap = next(i for i in after if isinstance(i, Fault) and i.kind == "gap")
    assert after.index(lost[0]) < after.index(first_gap)
    assert not [i for i in after if isinstance(i, DeviceInfo)]  # the same session goes on
    assert rig.session.reconnects == 1 and rig.session.disconnects == 1


async def test_start_first_then_hello_requests_until_a_device_answers():
    link = MemoryLink(silent=True)
    with pytest.raises(DeviceError, match=r"^memory: no twitchwatch device answered \(no HELLO within 2.5 s"):
        async for _ in LinkSession(link, hello_timeout_s=2.5):
            pass
    codes = [c.code for c in link.commands]
    assert codes[0] == CommandCode.START and codes[1:] == [CommandCode.SEND_HELLO] * (len(codes) - 1)
    assert 2 <= len(codes) - 1 <= 3  # asked about once a second


async def test_a_session_without_reconnect_ends_after_reporting_the_loss():
    link = MemoryLink()
    session = LinkSession(link, reconnect=False)
    items = []
    async for item in session:
        items.append(item)
        if isinstance(item, Chunk) and len(chunks(items)) == 4:
            await link.drop(items[-1].t_end_s)
    tail = [type(i).__name__ for i in items[-2:]]
    assert tail == ["ConnectionChange", "Fault"] and items[-1].kind == "signal_lost"
    assert link.opens == 1
