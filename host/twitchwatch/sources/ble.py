"""Bluetooth Low Energy source: the sensor's protocol byte stream over GATT notifications (bleak).

The sensor advertises the twitchwatch service; its stream characteristic notifies the protocol's
byte stream (the same framed bytes as over USB serial), cut at arbitrary points: a frame may span
several notifications and one notification may hold several frames. :class:`BleSource` finds the
sensor (by address, by advertised name, or by service UUID), connects, subscribes, and feeds every
notification, in order, into the shared :class:`~twitchwatch.sources.device_stream.DeviceStream`,
which turns bytes into DeviceInfo, Chunk, Fault, Mark and Status items.

:class:`BleLink` is the byte link (as in bleak's notification examples: the callback only queues
bytes, bounded); :class:`BleSource` is the :class:`~twitchwatch.sources.link.LinkSession` over it,
which owns HELLO, the announce gate, reconnect with backoff and the link-loss items, the same as
for USB serial (see :mod:`twitchwatch.sources.link`). A dropped link is data, not an error:
bleak's disconnect callback wakes the reader, which reports the link as lost.

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
from collections import deque
from typing import Any, NamedTuple

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError

from twitchwatch.errors import DeviceError
from twitchwatch.sources.link import LinkLost, LinkSession

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


class BleDevice(NamedTuple):
    """One advertiser seen by :func:`scan`: address, advertised name ("" if none), RSSI in dBm."""

    address: str
    name: str
    rssi: int


def _describe_unavailable(exc: BaseException) -> str | None:
    """One line for the ways a machine can lack usable Bluetooth, or None if ``exc`` is not one."""
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


class BleLink:
    """The sensor's stream and command characteristics as a byte link.

    Parameters: see :class:`BleSource`. Each open after the first scans for the device again
    (BlueZ may have dropped the old device object meanwhile).
    """

    def __init__(self, address: str | None, name: str | None, service_uuid: str, stream_uuid: str,
                 command_uuid: str | None, scan_timeout_s: float, connect_timeout_s: float,
                 max_pending_notifications: int):
        self.address = address
        self.target_name = name
        self.service_uuid = service_uuid.lower()
        self.stream_uuid = stream_uuid.lower()
        self.command_uuid = command_uuid.lower() if command_uuid else None
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_pending_notifications = max_pending_notifications
        #: negotiated ATT MTU of the current link, bytes (23 until connected)
        self.mtu = 23
        #: link statistics
        self.connects = 0
        self.notifications = 0
        self.bytes_received = 0
        self.dropped_notifications = 0
        self._client: Any = None
        self._ble_device: Any = None
        self._found_address: str | None = None
        self._pending: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self._link_down = asyncio.Event()

    @property
    def name(self) -> str:
        """"ble:ADDRESS" once the sensor has been found, until then what was asked for."""
        address = self._found_address or self.address
        if address:
            return f"ble:{address.upper()}"
        if self.target_name:
            return f"ble:{self.target_name}"
        return f"ble:{DEFAULT_NAME} sensor (service {self.service_uuid})"

    async def _find(self, timeout_s: float) -> Any:
        """The BLEDevice to connect to, or None if it did not advertise within ``timeout_s``."""
        want_name = self.target_name
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

    async def open(self) -> None:
        """Find, connect and subscribe; DeviceError naming the device and the problem."""
        try:
            await self._connect()
        except Exception as exc:  # noqa: BLE001 - bleak raises D-Bus, OS and its own errors
            raise _device_error(self.name, exc) from None

    async def _connect(self) -> None:
        if self.connects:
            self._ble_device = None  # scan again: BlueZ may have dropped the old device object
        if self._ble_device is None:
            self._ble_device = await self._find(self.scan_timeout_s)
            if self._ble_device is None:
                raise LookupError(f"not found within {self.scan_timeout_s:g} s of scanning")
            self._found_address = self._ble_device.address
        self._link_down.clear()
        self._pending.clear()

        def on_disconnect(_client: Any) -> None:
            self._link_down.set()
            self._wakeup.set()

        client = BleakClient(self._ble_device, disconnected_callback=on_disconnect, timeout=self.connect_timeout_s)
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
            log.info("%s: connected, ATT MTU %d", self.name, self.mtu)
        except BaseException:
            self._client = None
            await _disconnect_quietly(self.name, client)
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

    async def read(self) -> bytes:
        while True:
            if self._pending:
                data = b"".join(self._pending)
                self._pending.clear()
                return data
            if self._link_down.is_set() or self._client is None:
                raise LinkLost("BLE link lost")
            self._wakeup.clear()
            await self._wakeup.wait()

    async def write(self, data: bytes) -> None:
        """Write to the command characteristic in pieces of the link's payload size (nothing
        when the device has none: it then streams on its own)."""
        if self.command_uuid is None or self._client is None:
            return
        char = self._client.services.get_characteristic(self.command_uuid)
        if char is None:
            log.info("%s: no command characteristic; not sending a command", self.name)
            return
        with_response = "write" in char.properties
        step = max(1, self.mtu - 3)
        for i in range(0, len(data), step):
            await self._client.write_gatt_char(char, data[i : i + step], response=with_response)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and not self._link_down.is_set():
            await _disconnect_quietly(self.name, client)
        self._link_down.set()
        self._wakeup.set()


async def _disconnect_quietly(name: str, client: Any) -> None:
    try:
        await asyncio.wait_for(client.disconnect(), 5.0)
    except Exception as exc:  # noqa: BLE001 - tearing down: the link may already be gone
        log.debug("%s: disconnect: %r", name, exc)


class BleSource(LinkSession):
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
        if max_pending_notifications < 1:
            raise ValueError("max_pending_notifications must be >= 1")
        link = BleLink(address, name, service_uuid, stream_uuid, command_uuid, scan_timeout_s,
                       connect_timeout_s, max_pending_notifications)
        super().__init__(link, backoff_s=backoff_s, hello_timeout_s=hello_timeout_s,
                         give_up_after_s=give_up_after_s)

    @classmethod
    def for_target(cls, target: str | None, **kwargs: Any) -> "BleSource":
        """The source for a command-line target: an address ("AA:BB:CC:DD:EE:FF"), an advertised
        name, or None/"" for the first sensor advertising the twitchwatch service."""
        if target and _is_address(target):
            return cls(address=target, **kwargs)
        return cls(name=target or None, **kwargs)

    @property
    def label(self) -> str:
        return self.link.name

    @property
    def mtu(self) -> int:
        return self.link.mtu

    @property
    def connects(self) -> int:
        return self.link.connects

    @property
    def notifications(self) -> int:
        return self.link.notifications

    @property
    def dropped_notifications(self) -> int:
        return self.link.dropped_notifications


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
