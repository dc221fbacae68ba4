"""Bluetooth Low Energy source: the sensor's protocol byte stream over GATT notifications (bleak).

The sensor advertises the twitchwatch service; its stream characteristic notifies the protocol's
byte stream (the same framed bytes as over USB serial), cut at arbitrary points: a frame may span
several notifications and one notification may hold several frames. :class:`BleSource` finds the
sensor (by address, by advertised name, or by service UUID), connects, subscribes, and feeds every
notification, in order, into the shared :class:`~twitchwatch.sources.device_stream.DeviceStream`,
which turns bytes into DeviceInfo, Chunk, Fault, Mark and Status items.

Items follow :mod:`twitchwatch.sources.base`: the DeviceInfo of the device's HELLO first (after
connecting the source writes COMMAND START, which makes the device announce itself and stream),
then Chunk, Fault, Mark and Status. A dropped link is data, not an error (bleak's disconnect
callback sets an event the item loop waits on): the source yields the connection event
``disconnected``, ``Fault("signal_lost")`` at the device time reached (so a detector can raise
the fault alert at once), ``reconnecting``, and reconnects with exponential backoff for as long
as it is iterated; on success it yields ``connected`` and the same session continues, the samples
lost meanwhile showing up as ``Fault("gap")`` from the device's sequence numbers and timestamps.

Only a sensor that cannot be found, reached or understood at the *start*, or a machine without
usable Bluetooth (no system D-Bus, no BlueZ, no adapter), raises
:class:`~twitchwatch.errors.DeviceError` with one line naming the device and the problem (so does a
link that stays down longer than ``give_up_after_s``, if one is given); a device speaking another
protocol version raises :class:`~twitchwatch.errors.ProtocolVersionError`.

Limits: on Linux (BlueZ) the ATT MTU is negotiated by the kernel, not requested by the host; the
source reads the negotiated value from BlueZ (``mtu``) and sizes its command writes by it. The
automated tests run the unmodified bleak BlueZ backend against a fake BlueZ service on a private
D-Bus (no radio, no kernel Bluetooth); real sensors are tested only with ``--ble-address``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

from twitchwatch import protocol
from twitchwatch.errors import DeviceError
from twitchwatch.model import Chunk, DeviceInfo, Fault, Mark, Status
from twitchwatch.protocol import Command, CommandCode
from twitchwatch.sources.base import Item, connection_event
from twitchwatch.sources.device_stream import DeviceStream

log = logging.getLogger(__name__)

# The GATT layout is normative in firmware/PROTOCOL.md section 4 ("BLE GATT"); these are its
# values (tests/host/sources/test_ble.py checks them against that table).
#: The sensor's primary service, advertised.
PROTOCOL_SERVICE_UUID = "74770001-5c4e-4b8a-9d2e-6f1c0a1e2b3c"
#: The data characteristic: the sensor notifies the protocol byte stream on it.
STREAM_CHAR_UUID = "74770002-5c4e-4b8a-9d2e-6f1c0a1e2b3c"
#: The command characteristic: the host writes COMMAND frames to it.
COMMAND_CHAR_UUID = "74770003-5c4e-4b8a-9d2e-6f1c0a1e2b3c"
#: The sensor's advertised local name.
DEFAULT_NAME = "twitchwatch"
#: At most one SEND_HELLO request per this many seconds while samples arrive without a HELLO.
HELLO_REQUEST_INTERVAL_S = 1.0


class BleDevice(NamedTuple):
    """One advertiser seen by :func:`scan`: address, advertised name ("" if none), RSSI in dBm."""

    address: str
    name: str
    rssi: int


def _describe_unavailable(exc: BaseException) -> str | None:
    """One line for the ways a machine can lack usable Bluetooth, or None if ``exc`` is not one."""
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError

    if isinstance(exc, BleakBluetoothNotAvailableError):
        return f"Bluetooth unavailable: {exc.args[0] if exc.args else exc}"
    if isinstance(exc, BleakDBusError):
        if exc.dbus_error in (
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "org.freedesktop.DBus.Error.NameHasNoOwner",
        ):
            return "Bluetooth unavailable: BlueZ (bluetoothd) is not running on the system D-Bus"
        if exc.dbus_error == "org.freedesktop.DBus.Error.AccessDenied":
            return "Bluetooth unavailable: access to BlueZ denied by D-Bus policy"
        return None
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return "Bluetooth unavailable: no system D-Bus to reach BlueZ (is bluetoothd running?)"
    if isinstance(exc, PermissionError):
        return "Bluetooth unavailable: permission denied on the system D-Bus"
    if type(exc).__name__ == "AuthError":  # dbus_fast.AuthError
        return "Bluetooth unavailable: the system D-Bus refused authentication"
    return None


def _device_error(what: str, exc: BaseException) -> DeviceError:
    reason = _describe_unavailable(exc)
    if reason is None:
        detail = str(exc) or type(exc).__name__
        reason = detail.splitlines()[0] if detail else type(exc).__name__
    return DeviceError(f"{what}: {reason}")


async def ascan(
    timeout_s: float = 5.0, service_uuid: str | None = PROTOCOL_SERVICE_UUID
) -> list[BleDevice]:
    """Scan for BLE advertisers for ``timeout_s`` seconds.

    Parameters
    ----------
    timeout_s : scanning time, seconds
    service_uuid : only devices advertising this service (the twitchwatch sensor by default);
        None lists every advertiser

    Returns
    -------
    list of BleDevice (address, name, rssi), strongest signal first

    Raises
    ------
    DeviceError
        Bluetooth is unavailable on this machine (no D-Bus, no BlueZ, no adapter).
    """
    from bleak import BleakScanner

    try:
        found = await BleakScanner.discover(
            timeout=timeout_s,
            return_adv=True,
            service_uuids=[service_uuid] if service_uuid else None,
        )
    except Exception as exc:  # bleak raises D-Bus, OS and its own errors here
        raise _device_error("BLE scan", exc) from None
    devices = [BleDevice(d.address, d.name or adv.local_name or "", int(adv.rssi)) for d, adv in found.values()]
    return sorted(devices, key=lambda d: -d.rssi)


def scan(timeout_s: float = 5.0, service_uuid: str | None = PROTOCOL_SERVICE_UUID) -> list[BleDevice]:
    """Blocking :func:`ascan` for command-line use (not from inside a running event loop)."""
    return asyncio.run(ascan(timeout_s, service_uuid))


class BleSource:
    """The sensor over BLE, as an async iterator of DeviceInfo, Chunk, Fault, Mark, Status.

    Parameters
    ----------
    address : Bluetooth address ("AA:BB:CC:DD:EE:FF") to connect to; if None, scan
    name : advertised name to look for (exact match), used when ``address`` is None
    service_uuid : advertised service to look for when neither address nor name is given; also
        the GATT service holding the stream and command characteristics
    stream_uuid, command_uuid : characteristic UUIDs (``command_uuid=None``: never write)
    scan_timeout_s : how long to scan for the sensor before giving up, seconds
    connect_timeout_s : how long one connection attempt may take, seconds
    backoff_s : (first, longest) wait between reconnection attempts, seconds; doubles each time
    hello_timeout_s : how long the device may take to announce itself (HELLO) after the first
        connection before it is declared not a twitchwatch sensor, seconds
    give_up_after_s : stop reconnecting and raise DeviceError after the link has been down this
        long, seconds; None (the default) keeps trying for as long as the source is iterated
    max_pending_notifications : bound of the notification buffer between bleak's callback and
        the consumer; notifications beyond it are dropped and counted (``dropped_notifications``)
        and show up as a gap

    Notes
    -----
    Iterate it once. Leaving the ``async for`` (or ``aclose()``) disconnects cleanly.
    """

    def __init__(
        self,
        address: str | None = None,
        name: str | None = None,
        service_uuid: str = PROTOCOL_SERVICE_UUID,
        *,
        stream_uuid: str = STREAM_CHAR_UUID,
        command_uuid: str | None = COMMAND_CHAR_UUID,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 20.0,
        backoff_s: tuple[float, float] = (0.5, 15.0),
        hello_timeout_s: float = 5.0,
        give_up_after_s: float | None = None,
        max_pending_notifications: int = 8192,
    ):
        if backoff_s[0] <= 0 or backoff_s[1] < backoff_s[0]:
            raise ValueError("backoff_s must be (first > 0, longest >= first)")
        if max_pending_notifications < 1:
            raise ValueError("max_pending_notifications must be >= 1")
        self.address = address
        self.name = name
        self.service_uuid = service_uuid.lower()
        self.stream_uuid = stream_uuid.lower()
        self.command_uuid = command_uuid.lower() if command_uuid else None
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.backoff_s = backoff_s
        self.give_up_after_s = give_up_after_s
        self.hello_timeout_s = hello_timeout_s
        #: the DeviceStream of the session (decoder and gap counters), once iterating
        self.stream: DeviceStream | None = None
        self.max_pending_notifications = max_pending_notifications
        #: negotiated ATT MTU of the current link, bytes (23 until connected)
        self.mtu = 23
        #: link statistics
        self.connects = 0
        self.disconnects = 0
        self.notifications = 0
        self.bytes_received = 0
        self.dropped_notifications = 0
        self.failed_reconnects = 0
        self._command_seq = 0
        self._client: Any = None
        self._ble_device: Any = None
        self._found_address: str | None = None
        self._pending: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self._link_down = asyncio.Event()
        self._started = False
        self._gen: Any = None

    @classmethod
    def for_target(cls, target: str | None, **kwargs: Any) -> "BleSource":
        """The source for a command-line target: an address ("AA:BB:CC:DD:EE:FF"), an advertised
        name, or None/"" for the first sensor advertising the twitchwatch service."""
        if target and _is_address(target):
            return cls(address=target, **kwargs)
        return cls(name=target or None, **kwargs)

    @property
    def label(self) -> str:
        """How the device is named in messages and in DeviceInfo.source: "ble:ADDRESS" once the
        sensor has been found, until then what was asked for."""
        address = self._found_address or self.address
        if address:
            return f"ble:{address.upper()}"
        if self.name:
            return f"ble:{self.name}"
        return f"ble:{DEFAULT_NAME} sensor (service {self.service_uuid})"

    def __aiter__(self) -> AsyncIterator[Item]:
        if self._started:
            raise RuntimeError("a BleSource can be iterated only once")
        self._started = True
        self._gen = self._items()
        return self._gen

    # ------------------------------------------------------------------ finding and connecting
    async def _find(self, timeout_s: float) -> Any:
        """The BLEDevice to connect to, or None if it did not advertise within ``timeout_s``."""
        from bleak import BleakScanner

        want_name = self.name
        want_address = self.address.upper() if self.address else None

        def match(device: Any, adv: Any) -> bool:
            if want_address is not None:
                return device.address.upper() == want_address
            if want_name is not None:
                return (device.name or adv.local_name) == want_name
            return self.service_uuid in {u.lower() for u in adv.service_uuids}

        return await BleakScanner.find_device_by_filter(
            match,
            timeout=timeout_s,
            service_uuids=None if (want_address or want_name) else [self.service_uuid],
        )

    async def _connect_once(self) -> None:
        """Connect, subscribe and send START, or raise (the caller decides what it means)."""
        from bleak import BleakClient

        if self._ble_device is None:
            self._ble_device = await self._find(self.scan_timeout_s)
            if self._ble_device is None:
                raise LookupError(f"not found within {self.scan_timeout_s:g} s of scanning")
            self._found_address = self._ble_device.address
        self._link_down.clear()

        def on_disconnect(_client: Any) -> None:
            self._link_down.set()
            self._wakeup.set()

        client = BleakClient(
            self._ble_device, disconnected_callback=on_disconnect, timeout=self.connect_timeout_s
        )
        try:
            await asyncio.wait_for(client.connect(), self.connect_timeout_s)
            stream_char = client.services.get_characteristic(self.stream_uuid)
            if stream_char is None:
                raise LookupError(f"has no data characteristic {self.stream_uuid}")
            # BlueZ negotiates the MTU itself and reports it per characteristic (payload = MTU - 3)
            self.mtu = int(stream_char.max_write_without_response_size) + 3
            await client.start_notify(stream_char, self._on_notify)
            self._client = client
            self.connects += 1
            log.info("%s: connected, ATT MTU %d", self.label, self.mtu)
            await self._command(CommandCode.START)
        except BaseException:
            self._client = None
            await self._disconnect_quietly(client)
            raise

    def _on_notify(self, _char: Any, data: bytearray) -> None:
        """bleak's notification callback: queue the bytes (never blocks, never raises)."""
        if len(self._pending) >= self.max_pending_notifications:
            self.dropped_notifications += 1
        else:
            self._pending.append(bytes(data))
        self.notifications += 1
        self.bytes_received += len(data)
        self._wakeup.set()

    async def _command(self, code: CommandCode) -> bool:
        """Write one COMMAND frame to the command characteristic, split to the link's payload
        size; False when the device has no command characteristic (it then streams on its own)."""
        if self.command_uuid is None or self._client is None:
            return False
        char = self._client.services.get_characteristic(self.command_uuid)
        if char is None:
            log.info("%s: no command characteristic; not sending %s", self.label, code.name)
            return False
        frame = protocol.encode(Command(self._command_seq, code))
        self._command_seq = (self._command_seq + 1) & 0xFFFFFFFF
        with_response = "write" in char.properties
        step = max(1, self.mtu - 3)
        for i in range(0, len(frame), step):
            await self._client.write_gatt_char(char, frame[i : i + step], response=with_response)
        return True

    async def _disconnect_quietly(self, client: Any) -> None:
        try:
            await asyncio.wait_for(client.disconnect(), 5.0)
        except Exception as exc:  # tearing down: the link may already be gone
            log.debug("%s: disconnect: %r", self.label, exc)

    async def _reconnect(self) -> None:
        """Reconnect with exponential backoff until it works (or ``give_up_after_s``)."""
        delay, longest = self.backoff_s
        down_since = time.monotonic()
        while True:
            await asyncio.sleep(delay)
            try:
                # scan for it again: BlueZ may have dropped the old device object meanwhile
                self._ble_device = None
                await self._connect_once()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failed_reconnects += 1
                log.info("%s: reconnect failed: %s", self.label, _describe_unavailable(exc) or repr(exc))
            if self.give_up_after_s is not None and time.monotonic() - down_since > self.give_up_after_s:
                raise DeviceError(f"{self.label}: link lost and not back after {self.give_up_after_s:g} s")
            delay = min(delay * 2, longest)

    # ------------------------------------------------------------------ the item stream
    async def _items(self) -> AsyncIterator[Item]:
        try:
            await self._connect_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise _device_error(self.label, exc) from None
        stream = DeviceStream(self.label)
        self.stream = stream
        last_t = 0.0  # device time reached by the items so far, seconds
        hello_asked = time.monotonic()  # START makes the device send HELLO
        hello_deadline = hello_asked + self.hello_timeout_s
        announced = False  # a DeviceInfo has been yielded: nothing goes out before it
        try:
            while True:
                if announced:
                    await self._wakeup.wait()
                else:
                    remaining = hello_deadline - time.monotonic()
                    if remaining <= 0:
                        raise DeviceError(
                            f"{self.label}: no twitchwatch device answered (no HELLO within "
                            f"{self.hello_timeout_s:g} s of connecting); is this the sensor?"
                        )
                    try:
                        await asyncio.wait_for(self._wakeup.wait(), remaining)
                    except asyncio.TimeoutError:
                        continue
                self._wakeup.clear()
                while self._pending:
                    for item in stream.feed(self._pending.popleft()):
                        if not announced:
                            if not isinstance(item, DeviceInfo):
                                continue  # nothing before the device has said what it is
                            announced = True
                        last_t = _item_end_s(item, last_t)
                        yield item
                if not announced and not self._link_down.is_set():
                    # bytes but no HELLO (we joined mid-stream?): ask again, now and then
                    now = time.monotonic()
                    if now - hello_asked >= HELLO_REQUEST_INTERVAL_S:
                        hello_asked = now
                        await self._command_quietly(CommandCode.SEND_HELLO)
                if not self._link_down.is_set():
                    continue
                # the link dropped: an event, not an error. Say so now, then come back.
                self.disconnects += 1
                self._client = None
                stream.reset_link()
                if not announced:
                    raise DeviceError(f"{self.label}: disconnected before the device announced itself")
                yield connection_event("disconnected", self.label, "BLE link lost")
                yield Fault("signal_lost", last_t, last_t, detail=f"{self.label}: BLE link lost, reconnecting")
                yield connection_event("reconnecting", self.label)
                await self._reconnect()
                yield connection_event("connected", self.label, f"reconnected (#{self.connects - 1}), ATT MTU {self.mtu}")
        finally:
            client, self._client = self._client, None
            if client is not None:
                await self._disconnect_quietly(client)

    async def _command_quietly(self, code: CommandCode) -> None:
        try:
            await self._command(code)
        except Exception as exc:  # the link may be dropping; the disconnect event says so
            log.info("%s: %s not sent: %r", self.label, code.name, exc)

    async def aclose(self) -> None:
        """Stop iterating and disconnect (also done when the ``async for`` ends normally)."""
        if self._gen is not None:
            try:
                await self._gen.aclose()
            except RuntimeError:  # the generator is running in another task: just drop the link
                pass
        client, self._client = self._client, None
        if client is not None:
            await self._disconnect_quietly(client)


def _is_address(text: str) -> bool:
    """True for a Bluetooth address "AA:BB:CC:DD:EE:FF" (or a CoreBluetooth UUID on macOS)."""
    parts = text.split(":")
    if len(parts) == 6 and all(len(p) == 2 for p in parts):
        try:
            bytes.fromhex("".join(parts))
            return True
        except ValueError:
            return False
    return len(text) == 36 and text.count("-") == 4 and all(c in "0123456789abcdefABCDEF-" for c in text)


def _item_end_s(item: Any, default: float) -> float:
    """Device time an item reaches, seconds (``default`` for items without one)."""
    if isinstance(item, Chunk):
        return max(default, item.t_end_s)
    if isinstance(item, (Status, Mark)):
        return max(default, item.t_s)
    return default
