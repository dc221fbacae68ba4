"""Bounded fan-out from the live pipeline to its subscribers (dashboard, printers, hooks).

The pipeline calls :meth:`Hub.publish`, which never blocks and never fails: each subscriber has
its own bounded queue, and a subscriber that falls behind loses its *oldest* items, counted in its
``dropped`` attribute. The detector's input is never touched by a slow subscriber.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any


class Subscription:
    """One subscriber's bounded queue. Iterate it with ``async for item in sub``."""

    def __init__(self, hub: "Hub", maxsize: int, name: str):
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self._hub = hub
        self._items: deque[Any] = deque()
        self._maxsize = maxsize
        self._ready = asyncio.Event()
        self._closed = False
        self.name = name
        self.dropped = 0
        self.delivered = 0

    def _put(self, item: Any) -> None:
        if len(self._items) >= self._maxsize:
            self._items.popleft()
            self.dropped += 1
        self._items.append(item)
        self._ready.set()

    def _close(self) -> None:
        self._closed = True
        self._ready.set()

    def __len__(self) -> int:
        return len(self._items)

    async def get(self) -> Any:
        """Next item; raises StopAsyncIteration once the hub is closed and the queue is empty."""
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        self.delivered += 1
        return self._items.popleft()

    def get_nowait(self) -> list[Any]:
        """Everything queued now, oldest first (possibly nothing)."""
        items = list(self._items)
        self._items.clear()
        self.delivered += len(items)
        return items

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> Any:
        return await self.get()

    def unsubscribe(self) -> None:
        self._hub._subs.discard(self)
        self._close()


class Hub:
    """Publish to every subscriber without ever blocking the publisher."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self.closed = False

    def subscribe(self, maxsize: int = 1024, name: str = "") -> Subscription:
        sub = Subscription(self, maxsize, name)
        if self.closed:
            sub._close()
        else:
            self._subs.add(sub)
        return sub

    def publish(self, item: Any) -> None:
        for sub in tuple(self._subs):
            sub._put(item)

    def close(self) -> None:
        """End of stream: subscribers drain what they have, then their iteration stops."""
        self.closed = True
        for sub in tuple(self._subs):
            sub._close()
        self._subs.clear()

    @property
    def subscribers(self) -> tuple[Subscription, ...]:
        return tuple(self._subs)
