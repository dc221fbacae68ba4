"""What every source is: an async iterator of items, a DeviceInfo first.

A source (serial, BLE, virtual device, file) yields, in this order:

1. a :class:`~twitchwatch.model.DeviceInfo` (again after a reconnect, if the device re-announces);
2. then :class:`~twitchwatch.model.Chunk`, :class:`~twitchwatch.model.Fault`,
   :class:`~twitchwatch.model.Mark` and :class:`~twitchwatch.model.Status` items, in time order
   per stream;
3. live sources may also yield connection events, plain dicts
   ``{"type": "connection", "state": "connected"|"disconnected"|"reconnecting", "device": str,
   "detail": str}`` (see :func:`connection_event`); the live pipeline publishes them to the hub.

Transports (a serial reader thread, a BLE notification callback) only move bytes into a bounded
queue; turning bytes into items is :class:`twitchwatch.sources.device_stream.DeviceStream`'s job.
A disconnect is an event (a connection dict, then a ``Fault("gap")`` once data resumes), never an
exception that ends the session. Only errors the user must act on (a port that does not exist,
another protocol version) raise a :class:`~twitchwatch.errors.TwitchwatchError`.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Protocol, Union, runtime_checkable

from twitchwatch.model import Chunk, DeviceInfo, Fault, Mark, Status

Item = Union[DeviceInfo, Chunk, Fault, Mark, Status, dict]

CONNECTION_STATES = ("connected", "disconnected", "reconnecting")


def connection_event(state: str, device: str, detail: str = "") -> dict[str, Any]:
    """The dict a live source yields (and the pipeline publishes) when its link changes."""
    if state not in CONNECTION_STATES:
        raise ValueError(f"unknown connection state {state!r}")
    return {"type": "connection", "state": state, "device": device, "detail": detail}


def is_connection_event(item: Any) -> bool:
    return isinstance(item, dict) and item.get("type") == "connection"


@runtime_checkable
class Source(Protocol):
    """An async iterator of :data:`Item`; ``aclose()`` stops it and releases the device."""

    def __aiter__(self) -> AsyncIterator[Item]: ...

    async def aclose(self) -> None: ...
