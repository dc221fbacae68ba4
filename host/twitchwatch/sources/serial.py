"""USB serial source: pyserial in a reader thread, bytes -> asyncio queue -> DeviceStream -> items.

``SerialSource(port)`` opens ``port`` (or finds the sensor by its USB VID/PID), asks the device to
start and to announce itself (COMMAND START, COMMAND SEND_HELLO), and yields the items of
:mod:`twitchwatch.sources.base`. When the cable is pulled (the read fails or the port vanishes) it
yields a ``{"type": "connection", "state": "disconnected"}`` event and reopens the port with
exponential backoff (auto-detecting again if no port was given); when data resumes, the
:class:`~twitchwatch.sources.device_stream.DeviceStream` reports the hole as ``Fault("gap")`` from
the device's own sequence numbers and timestamps, and the same session continues.

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
from typing import AsyncIterator

from twitchwatch.errors import DeviceError
from twitchwatch.model import DeviceInfo
from twitchwatch.protocol import Command, CommandCode, encode
from twitchwatch.sources.base import connection_event
from twitchwatch.sources.device_stream import DeviceStream

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
#: While no HELLO has arrived, SEND_HELLO is repeated this often, seconds.
HELLO_RETRY_S = 1.0
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
    from serial.tools import list_ports as lp

    out = []
    for p in sorted(lp.comports(), key=lambda p: p.device):
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
    import serial

    try:
        return serial.Serial(port, BAUDRATE, timeout=0.05, write_timeout=1.0, exclusive=True)
    except serial.SerialException as exc:
        err = getattr(exc, "errno", None)
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


class SerialSource:
    """Items from a sensor on a serial port (USB CDC or a pty).

    Parameters
    ----------
    port : path of the port; None to find the sensor by USB VID/PID.
    reconnect : after a disconnect, reopen the port with backoff (default) or end the stream.
    backoff_s : first wait before reopening, doubled up to ``max_backoff_s``.
    hello_timeout_s : how long to wait for the device's HELLO after opening before saying the
        port has no twitchwatch device on it.

    Attributes
    ----------
    stream : the DeviceStream (decoder and gap counters)
    device_info : the last DeviceInfo announced
    reconnects : how many times the link came back
    """

    def __init__(
        self,
        port: str | None = None,
        reconnect: bool = True,
        backoff_s: float = 0.05,
        max_backoff_s: float = 2.0,
        hello_timeout_s: float = 5.0,
    ):
        self.port = port
        self._auto = port is None
        self.reconnect = reconnect
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.hello_timeout_s = hello_timeout_s
        self.stream: DeviceStream | None = None
        self.reconnects = 0
        self._ser = None
        self._reader: _Reader | None = None
        self._closed = False
        self._cmd_seq = 0

    @property
    def device_info(self) -> DeviceInfo | None:
        return self.stream.device_info if self.stream else None

    @property
    def name(self) -> str:
        return self.port or "serial"

    # ---- async iteration ----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator:
        return self._items()

    async def _items(self):
        loop = asyncio.get_running_loop()
        port = self.port or await loop.run_in_executor(None, find_sensor_port)
        self.port = port
        self.stream = DeviceStream(port)
        queue: asyncio.Queue = asyncio.Queue(QUEUE_BLOCKS)
        self._queue = queue
        await self._open(port, loop, queue)  # first open: errors are the user's to fix
        announced = False
        hello_deadline = loop.time() + self.hello_timeout_s
        try:
            while not self._closed:
                left = hello_deadline - loop.time()
                timeout = None if announced else max(0.05, min(HELLO_RETRY_S, left))
                try:
                    kind, payload = await asyncio.wait_for(queue.get(), timeout)
                except asyncio.TimeoutError:
                    if self.stream.device_info is None and loop.time() >= hello_deadline:
                        raise DeviceError(f"{port}: no twitchwatch device answered (no HELLO within "
                                          f"{self.hello_timeout_s:g} s); is this the sensor?") from None
                    if self.stream.device_info is None:  # it may have been booting: ask again
                        self.send(Command(self._next_seq(), CommandCode.SEND_HELLO))
                    continue
                if kind == "data":
                    for item in self.stream.feed(payload):
                        if isinstance(item, DeviceInfo):
                            announced = True
                        elif not announced:
                            continue  # nothing before the device has said what it is
                        yield item
                    continue
                # the link is gone
                self._close_port()
                if self._closed:
                    break
                yield connection_event("disconnected", port, payload)
                if not self.reconnect:
                    break
                port = await self._reopen(loop, queue)
                if port is None:
                    break
                self.reconnects += 1
                self.stream.reset_link()
                yield connection_event("connected", port, f"reconnected (#{self.reconnects})")
        finally:
            self._close_port()

    async def _open(self, port: str, loop, queue) -> None:
        ser = await loop.run_in_executor(None, open_port, port)
        self._ser = ser
        self._reader = _Reader(ser, loop, queue)
        self._reader.start()
        self.send(Command(self._next_seq(), CommandCode.START))
        self.send(Command(self._next_seq(), CommandCode.SEND_HELLO))

    async def _reopen(self, loop, queue) -> str | None:
        delay = self.backoff_s
        while not self._closed:
            await asyncio.sleep(delay)
            try:
                if self._auto:  # found by VID/PID: it may come back under another name
                    port = await loop.run_in_executor(None, find_sensor_port)
                elif os.path.exists(self.port):
                    port = self.port
                else:
                    raise DeviceError(f"{self.port}: not present")
                await self._open(port, loop, queue)
                self.port = port
                return port
            except DeviceError:
                delay = min(self.max_backoff_s, delay * 2)
        return None

    def send(self, frame) -> bool:
        """Write one protocol frame to the device; False if the port is not open."""
        ser = self._ser
        if ser is None:
            return False
        try:
            ser.write(encode(frame))
            return True
        except Exception:
            return False

    def _next_seq(self) -> int:
        self._cmd_seq = (self._cmd_seq + 1) & 0xFFFFFFFF
        return self._cmd_seq

    def _close_port(self) -> None:
        reader, self._reader = self._reader, None
        ser, self._ser = self._ser, None
        if reader is not None:
            reader.stopping.set()
        if ser is not None:
            try:
                ser.close()
            except Exception:
                pass
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=1.0)

    async def aclose(self) -> None:
        """Stop reading and release the port."""
        self._closed = True
        self._close_port()
        queue = getattr(self, "_queue", None)
        if queue is not None:
            try:
                queue.put_nowait(("closed", "closed by the host"))
            except asyncio.QueueFull:
                pass
