"""A fake ``org.bluez`` service (BlueZ 5 D-Bus API) with virtual BLE peripherals, for tests.

It serves the part of the BlueZ object tree that bleak's BlueZ backend uses, on a real D-Bus
(see :mod:`dbus_daemon`), so that the *unmodified* bleak code path - ``BleakScanner`` and
``BleakClient`` with their D-Bus manager, match rules, ``GetManagedObjects``, ``InterfacesAdded``,
``PropertiesChanged`` handling and service resolution - runs against it:

* ``/org/bluez/hciN``: ``org.bluez.Adapter1`` (StartDiscovery, StopDiscovery,
  SetDiscoveryFilter, RemoveDevice; Address, Powered, Discovering, Roles, ...)
* ``/org/bluez/hciN/dev_XX_..``: ``org.bluez.Device1`` (Connect, Disconnect, Pair; Address,
  Name, Alias, UUIDs, RSSI, Connected, ServicesResolved, ...), created when discovery sees the
  peripheral advertise, as BlueZ does
* ``.../serviceXXXX`` ``org.bluez.GattService1`` and ``.../serviceXXXX/charYYYY``
  ``org.bluez.GattCharacteristic1`` (StartNotify, StopNotify, WriteValue, ReadValue; UUID,
  Flags, Value, Notifying, MTU), exported on connect and removed on disconnect (an unbonded
  device, as BlueZ does). Notifications are ``PropertiesChanged`` signals of ``Value``.

What it does not model: the radio (no packet loss inside a connection, no timing of connection
intervals), pairing/bonding, AcquireNotify/AcquireWrite file descriptors, descriptors.

A peripheral runs a :class:`PeripheralApp` (the "firmware"): the fake polls it on a clock,
splits what it wants to send into notifications of random sizes up to MTU-3 bytes (so frames
straddle notification boundaries and notifications hold several frames), and hands it the bytes
the host writes.
"""

# no ``from __future__ import annotations``: dbus-fast reads D-Bus signatures from annotations
import asyncio
import random
from typing import Protocol

from dbus_fast import BusType, DBusError
from dbus_fast.aio import MessageBus
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method

BLUEZ = "org.bluez"
ERR_FAILED = "org.bluez.Error.Failed"
ERR_IN_PROGRESS = "org.bluez.Error.InProgress"
ERR_NOT_CONNECTED = "org.bluez.Error.NotConnected"
ERR_NOT_READY = "org.bluez.Error.NotReady"
ERR_NOT_SUPPORTED = "org.bluez.Error.NotSupported"
ERR_DOES_NOT_EXIST = "org.bluez.Error.DoesNotExist"


class PeripheralApp(Protocol):
    """The firmware side of a fake peripheral."""

    def on_connect(self) -> None:
        """A central connected."""

    def on_disconnect(self) -> None:
        """The link is gone (either side)."""

    def on_subscribe(self) -> None:
        """The central enabled notifications on the stream characteristic."""

    def on_write(self, data: bytes) -> None:
        """The central wrote ``data`` to the command characteristic."""

    def pending(self, now_s: float) -> bytes:
        """Bytes the device has produced up to ``now_s`` (seconds since power-on) and not yet
        handed out. Called whether or not anyone is subscribed: what is produced while nobody
        listens is lost, as on a real device with a small buffer."""


class _Adapter1(ServiceInterface):
    def __init__(self, fake: "FakeBlueZ", name: str, address: str):
        super().__init__("org.bluez.Adapter1")
        self.fake = fake
        self.path = f"/org/bluez/{name}"
        self._address = address
        self._name = name
        self.discovering = False
        self.filter_uuids: set[str] = set()
        self.calls: list[str] = []

    @method()
    def StartDiscovery(self):  # noqa: N802 (D-Bus names)
        self.calls.append("StartDiscovery")
        if self.discovering:
            raise DBusError(ERR_IN_PROGRESS, "Operation already in progress")
        self.discovering = True
        self.emit_properties_changed({"Discovering": True})
        self.fake._discovery_changed(self)

    @method()
    def StopDiscovery(self):  # noqa: N802
        self.calls.append("StopDiscovery")
        if not self.discovering:
            raise DBusError(ERR_FAILED, "No discovery started")
        self.discovering = False
        self.emit_properties_changed({"Discovering": False})
        self.fake._discovery_changed(self)

    @method()
    def SetDiscoveryFilter(self, properties: "a{sv}"):  # noqa: N802, F821
        self.calls.append("SetDiscoveryFilter")
        uuids = properties.get("UUIDs")
        self.filter_uuids = {u.lower() for u in uuids.value} if uuids is not None else set()

    @method()
    def RemoveDevice(self, device: "o"):  # noqa: N802, F821
        self.calls.append("RemoveDevice")
        if not self.fake._remove_device(device):
            raise DBusError(ERR_DOES_NOT_EXIST, "Does Not Exist")

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> "s":  # noqa: N802, F821
        return self._address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> "s":  # noqa: N802, F821
        return "public"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> "s":  # noqa: N802, F821
        return f"fake-{self._name}"

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> "s":  # noqa: N802, F821
        return f"fake-{self._name}"

    @dbus_property(access=PropertyAccess.READ)
    def Powered(self) -> "b":  # noqa: N802, F821
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Discovering(self) -> "b":  # noqa: N802, F821
        return self.discovering

    @dbus_property(access=PropertyAccess.READ)
    def Roles(self) -> "as":  # noqa: N802, F821
        return ["central", "peripheral"]

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> "as":  # noqa: N802, F821
        return []


class _Device1(ServiceInterface):
    def __init__(self, peripheral: "FakePeripheral", adapter: _Adapter1, rssi: int):
        super().__init__("org.bluez.Device1")
        self.peripheral = peripheral
        self.adapter = adapter
        self.path = f"{adapter.path}/dev_{peripheral.address.upper().replace(':', '_')}"
        self.connected = False
        self.services_resolved = False
        self.rssi = rssi
        self.trusted = False

    @method()
    async def Connect(self):  # noqa: N802
        await self.peripheral._connect(self)

    @method()
    async def Disconnect(self):  # noqa: N802
        self.peripheral.calls.append("Disconnect")
        await self.peripheral._drop(self)

    @method()
    def Pair(self):  # noqa: N802
        raise DBusError(ERR_NOT_SUPPORTED, "pairing is not modelled by the fake")

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> "s":  # noqa: N802, F821
        return self.peripheral.address.upper()

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> "s":  # noqa: N802, F821
        return "random"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> "s":  # noqa: N802, F821
        return self.peripheral.name

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> "s":  # noqa: N802, F821
        return self.peripheral.name

    @dbus_property(access=PropertyAccess.READ)
    def Adapter(self) -> "o":  # noqa: N802, F821
        return self.adapter.path

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> "as":  # noqa: N802, F821
        return list(self.peripheral.advertised_uuids)

    @dbus_property(access=PropertyAccess.READ)
    def RSSI(self) -> "n":  # noqa: N802, F821
        return self.rssi

    @dbus_property(access=PropertyAccess.READ)
    def Connected(self) -> "b":  # noqa: N802, F821
        return self.connected

    @dbus_property(access=PropertyAccess.READ)
    def ServicesResolved(self) -> "b":  # noqa: N802, F821
        return self.services_resolved

    @dbus_property(access=PropertyAccess.READ)
    def Paired(self) -> "b":  # noqa: N802, F821
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Bonded(self) -> "b":  # noqa: N802, F821
        return False

    @dbus_property()
    def Trusted(self) -> "b":  # noqa: N802, F821
        return self.trusted

    @Trusted.setter
    def Trusted(self, value: "b"):  # noqa: N802, F821
        self.trusted = value

    @dbus_property(access=PropertyAccess.READ)
    def Blocked(self) -> "b":  # noqa: N802, F821
        return False

    @dbus_property(access=PropertyAccess.READ)
    def LegacyPairing(self) -> "b":  # noqa: N802, F821
        return False


class _GattService1(ServiceInterface):
    def __init__(self, device_path: str, handle: int, uuid: str):
        super().__init__("org.bluez.GattService1")
        self.path = f"{device_path}/service{handle:04x}"
        self._device_path = device_path
        self._uuid = uuid

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":  # noqa: N802, F821
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Device(self) -> "o":  # noqa: N802, F821
        return self._device_path

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> "b":  # noqa: N802, F821
        return True


class _GattCharacteristic1(ServiceInterface):
    def __init__(
        self, peripheral: "FakePeripheral", service: _GattService1, handle: int, uuid: str,
        flags: list[str], mtu: int,
    ):
        super().__init__("org.bluez.GattCharacteristic1")
        self.peripheral = peripheral
        self.path = f"{service.path}/char{handle:04x}"
        self._service_path = service.path
        self._uuid = uuid
        self._flags = flags
        self._mtu = mtu
        self.value = b""
        self.notifying = False

    @method()
    def ReadValue(self, options: "a{sv}") -> "ay":  # noqa: N802, F821
        if "read" not in self._flags:
            raise DBusError("org.bluez.Error.NotPermitted", "Read not permitted")
        return self.value

    @method()
    def WriteValue(self, value: "ay", options: "a{sv}"):  # noqa: N802, F821
        if not ({"write", "write-without-response"} & set(self._flags)):
            raise DBusError("org.bluez.Error.NotPermitted", "Write not permitted")
        if not self.peripheral.connected:
            raise DBusError(ERR_NOT_CONNECTED, "Not connected")
        self.peripheral._on_write(bytes(value))

    @method()
    def StartNotify(self):  # noqa: N802
        if "notify" not in self._flags:
            raise DBusError(ERR_NOT_SUPPORTED, "Operation is not supported")
        if self.notifying:
            return
        self.notifying = True
        self.emit_properties_changed({"Notifying": True})
        self.peripheral._on_subscribe(self)

    @method()
    def StopNotify(self):  # noqa: N802
        if self.notifying:
            self.notifying = False
            self.emit_properties_changed({"Notifying": False})
            self.peripheral._on_unsubscribe(self)

    def notify(self, data: bytes) -> None:
        """Send one notification (a ``PropertiesChanged`` signal of ``Value``)."""
        self.value = data
        self.emit_properties_changed({"Value": data})

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":  # noqa: N802, F821
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> "o":  # noqa: N802, F821
        return self._service_path

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> "ay":  # noqa: N802, F821
        return self.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> "b":  # noqa: N802, F821
        return self.notifying

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> "as":  # noqa: N802, F821
        return list(self._flags)

    @dbus_property(access=PropertyAccess.READ)
    def MTU(self) -> "q":  # noqa: N802, F821
        return self._mtu


class FakePeripheral:
    """A virtual BLE peripheral with one primary service, a notify and an optional write
    characteristic.

    Parameters
    ----------
    address : "AA:BB:CC:DD:EE:FF"
    name : advertised local name
    service_uuid : primary service, also advertised
    notify_uuid : characteristic the stream is notified on
    write_uuid : characteristic the host writes commands to, or None
    app : the firmware (:class:`PeripheralApp`)
    mtu : ATT MTU the link negotiates; notifications carry at most ``mtu - 3`` bytes
    tick_s : seconds between polls of the app (pacing)
    seed : seed for the notification-size RNG
    """

    def __init__(
        self, address: str, name: str, service_uuid: str, notify_uuid: str,
        write_uuid: str | None, app: PeripheralApp, mtu: int = 247, tick_s: float = 0.01,
        seed: int = 0, rssi: int = -60,
    ):
        self.address = address
        self.name = name
        self.service_uuid = service_uuid.lower()
        self.notify_uuid = notify_uuid.lower()
        self.write_uuid = write_uuid.lower() if write_uuid else None
        self.advertised_uuids = [self.service_uuid]
        self.app = app
        self.mtu = mtu
        self.tick_s = tick_s
        self.rssi = rssi
        self.in_range = True
        self.refuse_connections = False
        self.connected = False
        self.connect_count = 0
        self.notifications_sent = 0
        self.bytes_notified = 0
        self.bytes_lost = 0
        self.writes: list[bytes] = []
        self.calls: list[str] = []
        self._rng = random.Random(seed)
        self._fake: FakeBlueZ | None = None
        self._device: _Device1 | None = None
        self._gatt: list[ServiceInterface] = []
        self._notify_char: _GattCharacteristic1 | None = None
        self._clock_task: asyncio.Task | None = None
        self._t0 = 0.0
        self.link_dropped = asyncio.Event()
        self.subscribed = asyncio.Event()

    # ------------------------------------------------------------------ test controls
    async def drop_link(self, out_of_range_s: float = 0.0) -> None:
        """Break the link from the peripheral side (supervision timeout, walked out of range).

        The peripheral stops advertising for ``out_of_range_s`` seconds and refuses
        connections meanwhile."""
        if out_of_range_s > 0:
            self.in_range = False
            asyncio.get_running_loop().call_later(out_of_range_s, self._back_in_range)
        if self._device is not None:
            await self._drop(self._device)

    def _back_in_range(self) -> None:
        self.in_range = True

    # ------------------------------------------------------------------ internals
    def _attach(self, fake: "FakeBlueZ") -> None:
        self._fake = fake
        self._t0 = asyncio.get_running_loop().time()
        self._clock_task = asyncio.create_task(self._clock())

    async def _detach(self) -> None:
        if self._clock_task is not None:
            self._clock_task.cancel()
            try:
                await self._clock_task
            except asyncio.CancelledError:
                pass
            self._clock_task = None

    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        payload = self.mtu - 3
        backlog = bytearray()
        while True:
            data = self.app.pending(loop.time() - self._t0)
            char = self._notify_char
            if char is None or not char.notifying:
                self.bytes_lost += len(data) + len(backlog)
                backlog.clear()
            else:
                backlog += data
                while backlog:
                    n = min(len(backlog), self._rng.randint(1, payload))
                    char.notify(bytes(backlog[:n]))
                    del backlog[:n]
                    self.notifications_sent += 1
                    self.bytes_notified += n
            await asyncio.sleep(self.tick_s)

    async def _connect(self, device: _Device1) -> None:
        self.calls.append("Connect")
        if device.connected:
            return
        if not self.in_range or self.refuse_connections:
            await asyncio.sleep(0.05)
            raise DBusError(ERR_FAILED, "Software caused connection abort")
        assert self._fake is not None
        bus = self._fake.bus
        device.connected = True
        self.connected = True
        self.connect_count += 1
        self.link_dropped.clear()
        device.emit_properties_changed({"Connected": True})
        self.app.on_connect()
        service = _GattService1(device.path, 0x000C, self.service_uuid)
        notify = _GattCharacteristic1(self, service, 0x000D, self.notify_uuid, ["notify"], self.mtu)
        self._gatt = [service, notify]
        if self.write_uuid:
            write = _GattCharacteristic1(
                self, service, 0x0010, self.write_uuid, ["write", "write-without-response"], self.mtu
            )
            self._gatt.append(write)
        for obj in self._gatt:
            bus.export(obj.path, obj)
        self._notify_char = notify
        await asyncio.sleep(0.01)
        device.services_resolved = True
        device.emit_properties_changed({"ServicesResolved": True})

    async def _drop(self, device: _Device1) -> None:
        if not device.connected:
            return
        assert self._fake is not None
        for obj in self._gatt:
            if isinstance(obj, _GattCharacteristic1):
                obj.notifying = False
        self._notify_char = None
        self.subscribed.clear()
        device.services_resolved = False
        device.emit_properties_changed({"ServicesResolved": False})
        device.connected = False
        self.connected = False
        device.emit_properties_changed({"Connected": False})
        for obj in reversed(self._gatt):
            self._fake.bus.unexport(obj.path, obj)
        self._gatt = []
        self.app.on_disconnect()
        self.link_dropped.set()

    def _on_subscribe(self, char: _GattCharacteristic1) -> None:
        if char is self._notify_char:
            self.app.on_subscribe()
            self.subscribed.set()

    def _on_unsubscribe(self, char: _GattCharacteristic1) -> None:
        if char is self._notify_char:
            self.subscribed.clear()

    def _on_write(self, data: bytes) -> None:
        self.writes.append(data)
        self.app.on_write(data)


class FakeBlueZ:
    """The fake ``org.bluez`` service on a D-Bus connection of its own.

    Use :meth:`start` (a coroutine) to connect to the bus at ``DBUS_SYSTEM_BUS_ADDRESS`` and own
    the name ``org.bluez``; :meth:`stop` releases everything.
    """

    def __init__(self, bus: MessageBus):
        self.bus = bus
        self.adapters: dict[str, _Adapter1] = {}
        self.peripherals: list[FakePeripheral] = []
        self.devices: dict[str, _Device1] = {}
        self._advert_task: asyncio.Task | None = None
        self.advert_interval_s = 0.05

    @classmethod
    async def start(cls, bus_address: str | None = None) -> "FakeBlueZ":
        if bus_address is None:
            bus = MessageBus(bus_type=BusType.SYSTEM)
        else:
            bus = MessageBus(bus_address=bus_address)
        await bus.connect()
        await bus.request_name(BLUEZ)
        return cls(bus)

    def add_adapter(self, name: str = "hci0", address: str = "00:11:22:33:44:55") -> _Adapter1:
        adapter = _Adapter1(self, name, address)
        self.adapters[adapter.path] = adapter
        self.bus.export(adapter.path, adapter)
        return adapter

    def add_peripheral(self, peripheral: FakePeripheral) -> FakePeripheral:
        self.peripherals.append(peripheral)
        peripheral._attach(self)
        return peripheral

    async def stop(self) -> None:
        if self._advert_task is not None:
            self._advert_task.cancel()
            try:
                await self._advert_task
            except asyncio.CancelledError:
                pass
        for p in self.peripherals:
            await p._detach()
        self.bus.disconnect()
        try:
            await asyncio.wait_for(self.bus.wait_for_disconnect(), 5)
        except Exception:  # the bus is going away either way
            pass

    # ------------------------------------------------------------------ discovery
    def _discovery_changed(self, adapter: _Adapter1) -> None:
        any_discovering = any(a.discovering for a in self.adapters.values())
        if any_discovering and self._advert_task is None:
            self._advert_task = asyncio.create_task(self._advertise())
        elif not any_discovering and self._advert_task is not None:
            self._advert_task.cancel()
            self._advert_task = None

    async def _advertise(self) -> None:
        """While an adapter discovers, report each advertising peripheral: create its Device1
        object the first time (``InterfacesAdded``), then update its RSSI (``PropertiesChanged``),
        as BlueZ does for every advertisement it receives."""
        while True:
            for adapter in self.adapters.values():
                if not adapter.discovering:
                    continue
                for p in self.peripherals:
                    if not p.in_range or p.connected:
                        continue
                    if adapter.filter_uuids and not (adapter.filter_uuids & set(p.advertised_uuids)):
                        continue
                    rssi = p.rssi + p._rng.randint(-3, 3)
                    device = self._device_for(p, adapter)
                    if device is None:
                        device = _Device1(p, adapter, rssi)
                        p._device = device
                        self.devices[device.path] = device
                        self.bus.export(device.path, device)
                    else:
                        device.rssi = rssi
                        device.emit_properties_changed({"RSSI": rssi})
            await asyncio.sleep(self.advert_interval_s)

    def _device_for(self, p: FakePeripheral, adapter: _Adapter1) -> _Device1 | None:
        d = p._device
        return d if d is not None and d.adapter is adapter and d.path in self.devices else None

    def _remove_device(self, path: str) -> bool:
        device = self.devices.pop(path, None)
        if device is None:
            return False
        if device.connected:
            asyncio.ensure_future(device.peripheral._drop(device))
        self.bus.unexport(path, device)
        if device.peripheral._device is device:
            device.peripheral._device = None
        return True

