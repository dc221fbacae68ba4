"""One session over a byte link: HELLO, the announce gate, reconnect with backoff, link events.

A *byte link* (:class:`~twitchwatch.sources.base.ByteLink`) only moves bytes: ``open()``,
``read()`` (the next bytes received; :class:`LinkLost` when the link is gone), ``write(bytes)``
and ``close()``. USB serial (:mod:`twitchwatch.sources.serial`), BLE
(:mod:`twitchwatch.sources.ble`) and an in-memory link in the tests are byte links, in the manner
of pyserial's ``threaded`` protocol and bleak's notification examples.

:class:`LinkSession` is everything above the bytes, written once:

- after opening it writes COMMAND START (the device streams and announces itself) and, while no
  HELLO has come, COMMAND SEND_HELLO every :data:`HELLO_RETRY_S`; no HELLO within
  ``hello_timeout_s`` is a :class:`~twitchwatch.errors.DeviceError` ("is this the sensor?");
- nothing is yielded before the device's :class:`~twitchwatch.model.DeviceInfo` (samples before
  it cannot be scaled; :class:`~twitchwatch.sources.device_stream.DeviceStream` counts them);
- a lost link is data, not an error: ``ConnectionChange("disconnected")``, then
  ``Fault("signal_lost")`` at the device time the data had reached (so a detector raises the fault
  alert at once), ``ConnectionChange("reconnecting")``; the link is reopened with exponential
  backoff for as long as the session is iterated (or until ``give_up_after_s``), then
  ``ConnectionChange("connected")``, and the samples lost meanwhile show up as ``Fault("gap")``
  from the device's sequence numbers and timestamps: the same session continues.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from twitchwatch.errors import DeviceError
from twitchwatch.model import Chunk, ConnectionChange, DeviceInfo, Fault, Mark, SourceItem, Status
from twitchwatch.protocol import Command, CommandCode, encode
from twitchwatch.sources.base import ByteLink
from twitchwatch.sources.device_stream import DeviceStream

log = logging.getLogger(__name__)

#: While no HELLO has arrived, SEND_HELLO is repeated this often, seconds.
HELLO_RETRY_S = 1.0


class LinkLost(Exception):
    """Raised by a byte link's ``read()`` when the link is gone (the text says why)."""


class LinkSession:
    """The items of a device behind ``link``, across disconnects.

    Parameters
    ----------
    link : the byte link (serial port, BLE characteristic pair, memory)
    reconnect : after a disconnect, reopen with backoff (default) or end the stream
    backoff_s : (first, longest) wait between reopening attempts, seconds; doubles each time
    hello_timeout_s : how long the device may take to announce itself after the first open
    give_up_after_s : stop reconnecting and raise DeviceError once the link has been down this
        long; None keeps trying for as long as the session is iterated

    Attributes
    ----------
    stream : the DeviceStream (decoder and gap counters), once iterating
    reconnects, disconnects, failed_reconnects : link statistics
    """

    def __init__(self, link: ByteLink, *, reconnect: bool = True, backoff_s: tuple[float, float] = (0.05, 2.0),
                 hello_timeout_s: float = 5.0, give_up_after_s: float | None = None):
        if backoff_s[0] <= 0 or backoff_s[1] < backoff_s[0]:
            raise ValueError("backoff_s must be (first > 0, longest >= first)")
        self.link = link
        self.reconnect = reconnect
        self.backoff_s = backoff_s
        self.hello_timeout_s = hello_timeout_s
        self.give_up_after_s = give_up_after_s
        self.stream: DeviceStream | None = None
        self.reconnects = 0
        self.disconnects = 0
        self.failed_reconnects = 0
        self._command_seq = 0
        self._closed = False
        self._gen: AsyncIterator[SourceItem] | None = None

    @property
    def device_info(self) -> DeviceInfo | None:
        return self.stream.device_info if self.stream else None

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        if self._gen is not None:
            raise RuntimeError(f"{type(self).__name__} can be iterated only once")
        self._gen = self._items()
        return self._gen

    async def aclose(self) -> None:
        """Stop iterating and release the link (also done when the ``async for`` ends)."""
        self._closed = True
        await self.link.close()
        if self._gen is not None:
            try:
                await self._gen.aclose()
            except RuntimeError:  # running in another task: closing the link ends it
                pass

    # ---- the item stream ------------------------------------------------------------------

    async def _items(self) -> AsyncIterator[SourceItem]:
        await self.link.open()  # the first open: its errors are the user's to fix
        self.stream = stream = DeviceStream(self.link.name)
        loop = asyncio.get_running_loop()
        await self._command(CommandCode.START)
        asked = loop.time()
        deadline = asked + self.hello_timeout_s
        announced = False  # nothing goes out before the device has said what it is
        last_t = 0.0  # device time reached by the items so far, seconds
        try:
            while not self._closed:
                wait = None if announced else max(0.0, min(asked + HELLO_RETRY_S, deadline) - loop.time())
                try:
                    data = await asyncio.wait_for(self.link.read(), wait)
                except asyncio.TimeoutError:
                    data = b""
                except LinkLost as lost:
                    if self._closed:
                        return
                    async for item in self._after_loss(str(lost), announced, last_t):
                        yield item
                    continue
                for item in stream.feed(data):
                    if not announced:
                        if not isinstance(item, DeviceInfo):
                            continue
                        announced = True
                    last_t = _item_end_s(item, last_t)
                    yield item
                if not announced and loop.time() >= asked + HELLO_RETRY_S:
                    if loop.time() >= deadline:
                        raise DeviceError(f"{self.link.name}: no twitchwatch device answered (no HELLO within "
                                          f"{self.hello_timeout_s:g} s of connecting); is this the sensor?")
                    asked = loop.time()  # it may have been booting, or we joined mid-stream: ask again
                    await self._command(CommandCode.SEND_HELLO)
        finally:
            await self.link.close()

    async def _after_loss(self, reason: str, announced: bool, last_t: float) -> AsyncIterator[SourceItem]:
        """The link went: say so, then bring it back (the one link-loss policy)."""
        name = self.link.name
        self.disconnects += 1
        self.stream.reset_link()
        await self.link.close()
        if not announced:
            raise DeviceError(f"{name}: disconnected before the device announced itself")
        yield ConnectionChange("disconnected", name, reason)
        yield Fault("signal_lost", last_t, last_t, detail=f"{name}: link lost, reconnecting")
        if not self.reconnect:
            self._closed = True
            return
        yield ConnectionChange("reconnecting", name)
        if not await self._reopen():
            return
        self.reconnects += 1
        await self._command(CommandCode.START)
        yield ConnectionChange("connected", self.link.name, f"reconnected (#{self.reconnects})")

    async def _reopen(self) -> bool:
        """Reopen the link with exponential backoff until it works (or ``give_up_after_s``);
        False when the session was closed meanwhile."""
        delay, longest = self.backoff_s
        down_since = time.monotonic()
        while not self._closed:
            await asyncio.sleep(delay)
            try:
                await self.link.open()
                return True
            except Exception as exc:  # noqa: BLE001 - any failure to reopen means "try again later"
                self.failed_reconnects += 1
                log.info("%s: reconnect failed: %s", self.link.name, exc)
            if self.give_up_after_s is not None and time.monotonic() - down_since > self.give_up_after_s:
                raise DeviceError(f"{self.link.name}: link lost and not back after {self.give_up_after_s:g} s")
            delay = min(delay * 2, longest)
        return False

    async def _command(self, code: CommandCode) -> None:
        """Write one COMMAND frame; a failure is logged (a dropping link says so by itself)."""
        frame = encode(Command(self._command_seq, code))
        self._command_seq = (self._command_seq + 1) & 0xFFFFFFFF
        try:
            await self.link.write(frame)
        except Exception as exc:  # noqa: BLE001 - the link may be dropping; read() reports it
            log.info("%s: %s not sent: %r", self.link.name, code.name, exc)


def _item_end_s(item: object, default: float) -> float:
    """Device time an item reaches, seconds (``default`` for items without one)."""
    if isinstance(item, Chunk):
        return max(default, item.t_end_s)
    if isinstance(item, (Status, Mark)):
        return max(default, item.t_s)
    return default
