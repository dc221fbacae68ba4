"""The whole source contract, as :class:`typing.Protocol` s.

A :class:`Source` (serial, BLE, BrainFlow, LSL, a file) is an async iterator of
:data:`~twitchwatch.model.SourceItem`, in this order:

1. a :class:`~twitchwatch.model.DeviceInfo` (again after a reconnect, if the device re-announces);
2. then :class:`~twitchwatch.model.Chunk`, :class:`~twitchwatch.model.Fault`,
   :class:`~twitchwatch.model.Mark` and :class:`~twitchwatch.model.Status` items, in time order
   per stream;
3. live sources also yield :class:`~twitchwatch.model.ConnectionChange` when their link changes;
   the live pipeline publishes them to the hub.

A disconnect is an item (a ConnectionChange, a ``Fault("signal_lost")``, then a ``Fault("gap")``
once data resumes), never an exception that ends the session. Only errors the user must act on (a
port that does not exist, another protocol version) raise a
:class:`~twitchwatch.errors.TwitchwatchError`.

A :class:`FileSource` is a Source over a recorded file that can also be read synchronously, in
blocks (``items``), per case, and says how much of it was readable. A :class:`ByteLink` is what
the serial and BLE transports are below :class:`~twitchwatch.sources.link.LinkSession`: bytes in,
bytes out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from twitchwatch.model import Annotation, Chunk, DeviceInfo, Fault, Mark, SourceItem, Status

if TYPE_CHECKING:  # only for annotations: files.base imports this module
    from twitchwatch.sources.files.base import Case

#: What a file yields after its DeviceInfo (native sessions also hold Status and DeviceInfo).
FileItem = Chunk | Fault | Mark | Status | DeviceInfo


@runtime_checkable
class Source(Protocol):
    """An async iterator of source items; ``aclose()`` stops it and releases the device."""

    def __aiter__(self) -> AsyncIterator[SourceItem]: ...

    async def aclose(self) -> None: ...


class FileSource(Protocol):
    """A recorded file (or one case of it) as a source.

    Attributes
    ----------
    path : the file
    format : its format name ("native", "csv", "edf", "daphnet", ...)
    device_info : the device the file describes (rates, channels, placement)
    annotations : the file's own labels
    t_start_s : the file clock's origin for reports (None: the first sample's time)
    progress : fraction of the file read so far (None: estimate from ``duration_s``)
    lost_bytes : bytes that could not be read (a truncated or corrupt recording)
    problem : one line saying what was wrong with the file, or None
    """

    path: Path
    format: str
    device_info: DeviceInfo
    annotations: tuple[Annotation, ...]

    @property
    def t_start_s(self) -> float | None: ...

    @property
    def progress(self) -> float | None: ...

    @property
    def lost_bytes(self) -> int: ...

    @property
    def problem(self) -> str | None: ...

    @property
    def duration_s(self) -> float: ...

    def items(self, block_s: float = 10.0) -> Iterator[FileItem]: ...

    def cases(self) -> tuple["Case", ...]: ...

    def __aiter__(self) -> AsyncIterator[SourceItem]: ...


class ByteLink(Protocol):
    """A transport that moves protocol bytes (serial port, BLE characteristics, memory).

    ``name`` names the device in messages (it may become precise once opened: "ble:ADDRESS").
    ``open()`` raises :class:`~twitchwatch.errors.DeviceError` when the device cannot be reached;
    ``read()`` returns the next bytes received and raises
    :class:`~twitchwatch.sources.link.LinkLost` when the link is gone (also after ``close()``);
    ``close()`` may be called more than once.
    """

    @property
    def name(self) -> str: ...

    async def open(self) -> None: ...

    async def read(self) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...
