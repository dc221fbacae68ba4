"""USB serial as a byte link: pyserial in a reader thread (as in pyserial's ``threaded``), bytes
into an asyncio queue.

:class:`SerialLink` opens ``port`` (or finds the sensor by its USB VID/PID, again at each reopen:
it may come back under another name) and moves bytes; :class:`SerialSource` is the
:class:`~twitchwatch.sources.link.LinkSession` over it, which owns HELLO, the announce gate,
reconnect with backoff and the link-loss items (see :mod:`twitchwatch.sources.link`).

Sensor identification: the Seeed Studio XIAO nRF52840 (Sense) enumerates with USB vendor ID
0x2886 (Seeed) and product ID 0x8045 (XIAO nRF52840 Sense, application) or 0x8044 (XIAO
nRF52840 / Sense Plus, application); 0x0045 / 0x0044 are the same boards in their UF2
bootloader, which do not stream (reported by ``twitchwatch devices``, never opened). Source:
the Adafruit nRF52 core board definitions for these boards (``hwids``).
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from dataclasses import dataclass

import serial
from serial.tools import list_ports as serial_list_ports

from twitchwatch.errors import DeviceError
from twitchwatch.sources.link import LinkLost, LinkSession

SEEED_VID = 0x2886
#: (vid, pid) -> what it is. Application PIDs stream; bootloader PIDs are listed, not opened.
SENSOR_USB_IDS: dict[tuple[int, int], str] = {
    (SEEED_VID, 0x8045): "Seeed XIAO nRF52840 Sense",
    (SEEED_VID, 0x8044): "Seeed XIAO nRF52840",
}
BOOTLOADER_USB_IDS: dict[tuple[int, int], str] = {
    (SEEED_VID, 0x0045): "Seeed XIAO nRF52840 Sense (UF2 bootloader)",
    (SEEED_VID, 0x0044): "Seeed XIAO nRF52840 (UF2 bootloader)",
}
#: Baud rate is ignored by USB CDC and by a pty; set to the usual value for UART bridges.
BAUDRATE = 115200
#: Bytes per read call at most, and how many reads may wait in the queue before the reader
#: thread blocks (then the OS buffer and the device's own buffer absorb the rest).
READ_SIZE = 65536
QUEUE_BLOCKS = 1024


@dataclass(frozen=True)
class PortInfo:
    """A serial port and whether it looks like our sensor."""

    device: str
    vid: int | None
    pid: int | None
    description: str
    kind: str  # "sensor", "bootloader" or "other"

    @property
    def usb_id(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}" if self.vid is not None and self.pid is not None else "-"


def list_ports() -> list[PortInfo]:
    """Every serial port the OS reports, classified by USB VID/PID."""
    out = []
    for p in sorted(serial_list_ports.comports(), key=lambda p: p.device):
        key = (p.vid, p.pid)
        if key in SENSOR_USB_IDS:
            kind, desc = "sensor", SENSOR_USB_IDS[key]
        elif key in BOOTLOADER_USB_IDS:
            kind, desc = "bootloader", BOOTLOADER_USB_IDS[key]
        else:
            kind, desc = "other", p.description or ""
        out.append(PortInfo(p.device, p.vid, p.pid, desc, kind))
    return out


def find_sensor_port() -> str:
    """The one port that is our sensor.

    Raises
    ------
    DeviceError : no sensor found (saying if one is in its bootloader) or more than one.
    """
    ports = list_ports()
    sensors = [p for p in ports if p.kind == "sensor"]
    if len(sensors) == 1:
        return sensors[0].device
    if len(sensors) > 1:
        names = ", ".join(p.device for p in sensors)
        raise DeviceError(f"serial: {len(sensors)} sensors found ({names}); choose one with --serial PORT")
    boot = [p for p in ports if p.kind == "bootloader"]
    if boot:
        raise DeviceError(f"{boot[0].device}: the sensor is in its bootloader (USB {boot[0].usb_id}); "
                          "reset it to run the firmware")
    ids = ", ".join(f"{v:04x}:{p:04x}" for v, p in SENSOR_USB_IDS)
    raise DeviceError(f"serial: no sensor found (looked for USB {ids}); plug it in or use --serial PORT")


def open_port(port: str):
    """Open ``port`` exclusively, raw, non-blocking-ish (short read timeout).

    Raises
    ------
    DeviceError : missing, busy, or not a serial port - one line naming the port.
    """
    try:
        return serial.Serial(port, BAUDRATE, timeout=0.05, write_timeout=1.0, exclusive=True)
    except serial.SerialException as exc:
        err = exc.errno
        text = str(exc)
        if err == errno.ENOENT or "No such file" in text or "could not open port" in text and "[Errno 2]" in text:
            raise DeviceError(f"{port}: no such serial port") from None
        if err in (errno.EBUSY, errno.EAGAIN) or "exclusively lock" in text or "busy" in text.lower():
            raise DeviceError(f"{port}: port is busy (another program has it open)") from None
        if err == errno.EACCES or "Permission denied" in text:
            raise DeviceError(f"{port}: permission denied (add yourself to the 'dialout' group)") from None
        if err == errno.ENOTTY or "Inappropriate ioctl" in text:
            raise DeviceError(f"{port}: not a serial port") from None
        raise DeviceError(f"{port}: cannot open serial port: {text.splitlines()[0] if text else exc!r}") from None
    except (OSError, ValueError) as exc:
        raise DeviceError(f"{port}: cannot open serial port: {exc}") from None


class _Reader(threading.Thread):
    """Moves bytes from the port into an asyncio queue; ends with ("closed", reason)."""

    def __init__(self, ser, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue):
        super().__init__(name=f"serial-reader:{ser.port}", daemon=True)
        self.ser = ser
        self.loop = loop
        self.queue = queue
        self.stopping = threading.Event()

    def _put(self, item) -> bool:
        if self.loop.is_closed():
            return False
        fut = asyncio.run_coroutine_threadsafe(self.queue.put(item), self.loop)
        while not self.stopping.is_set():
            try:
                fut.result(timeout=0.2)
                return True
            except TimeoutError:
                continue
            except Exception:
                return False
        fut.cancel()
        return False

    def run(self) -> None:
        reason = ""
        try:
            while not self.stopping.is_set():
                data = self.ser.read(max(1, min(self.ser.in_waiting, READ_SIZE)))
                if data and not self._put(("data", data)):
                    return
        except Exception as exc:  # SerialException, OSError, TypeError from a closed port
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if not self.stopping.is_set():
            self._put(("closed", reason))


class SerialLink:
    """A serial port as a byte link (see :class:`~twitchwatch.sources.base.ByteLink`).

    ``port`` None: find the sensor by USB VID/PID at each open. Reopening a named port that has
    vanished raises DeviceError ("not present"), which the session retries with backoff.
    """

    def __init__(self, port: str | None = None):
        self.port = port
        self._auto = port is None
        self._opened = False
        self._ser = None
        self._reader: _Reader | None = None
        self._queue: asyncio.Queue | None = None

    @property
    def name(self) -> str:
        return self.port or "serial"

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        port = self.port
        if self._auto:
            port = await loop.run_in_executor(None, find_sensor_port)
        elif self._opened and not os.path.exists(port):
            raise DeviceError(f"{port}: not present")
        ser = await loop.run_in_executor(None, open_port, port)
        self.port, self._opened, self._ser = port, True, ser
        self._queue = asyncio.Queue(QUEUE_BLOCKS)  # a fresh one: nothing of the old link is read
        self._reader = _Reader(ser, loop, self._queue)
        self._reader.start()

    async def read(self) -> bytes:
        queue = self._queue
        if queue is None:
            raise LinkLost("not open")
        kind, payload = await queue.get()
        if kind == "data":
            return payload
        raise LinkLost(payload)

    async def write(self, data: bytes) -> None:
        ser = self._ser
        if ser is None:
            raise LinkLost("not open")
        ser.write(data)

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        ser, self._ser = self._ser, None
        if reader is not None:
            reader.stopping.set()
        if ser is not None:
            try:
                ser.close()
            except Exception:  # noqa: BLE001 - closing a port that is already gone
                pass
        if reader is not None and reader is not threading.current_thread():
            await asyncio.get_running_loop().run_in_executor(None, reader.join, 1.0)
        if self._queue is not None:
            try:
                self._queue.put_nowait(("closed", "closed by the host"))  # wakes a waiting read()
            except asyncio.QueueFull:
                pass


class SerialSource(LinkSession):
    """Items from a sensor on a serial port (USB CDC or a pty).

    Parameters
    ----------
    port : path of the port; None to find the sensor by USB VID/PID.
    reconnect : after a disconnect, reopen the port with backoff (default) or end the stream.
    backoff_s : first wait before reopening, doubled up to ``max_backoff_s``.
    hello_timeout_s : how long to wait for the device's HELLO after opening before saying the
        port has no twitchwatch device on it.
    """

    def __init__(self, port: str | None = None, reconnect: bool = True, backoff_s: float = 0.05,
                 max_backoff_s: float = 2.0, hello_timeout_s: float = 5.0):
        super().__init__(SerialLink(port), reconnect=reconnect, backoff_s=(backoff_s, max(backoff_s, max_backoff_s)),
                         hello_timeout_s=hello_timeout_s)

    @property
    def port(self) -> str | None:
        return self.link.port

    @property
    def name(self) -> str:
        return self.link.name
