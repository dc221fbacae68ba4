"""The live view: state, acknowledgements, and the ``/ws/live`` WebSocket fed by the live feed."""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect

from twitchwatch.dashboard.livefeed import LiveFeed
from twitchwatch.dashboard.routes.params import json_body
from twitchwatch.store import Store

#: Longest accepted message from a browser, characters; longer ones are ignored.
MAX_MESSAGE = 1024


def live_router(store: Store, feed: LiveFeed) -> APIRouter:
    """``/api/live/state``, ``POST /api/live/ack``, WebSocket ``/ws/live``."""
    router = APIRouter()

    @router.get("/api/live/state")
    async def live_state():
        return {"live": feed.hub is not None, "state": feed._derive_state(), "unacked": list(feed.unacked)}

    @router.post("/api/live/ack")
    async def live_ack(request: Request):
        data = await json_body(request)
        key = data.get("key")
        if isinstance(key, bool) or not isinstance(key, int):
            raise HTTPException(400, "key must be an integer")
        if not feed.ack(key):
            raise HTTPException(404, f"no unacknowledged alert {key}")
        return {"acked": key}

    @router.websocket("/ws/live")
    async def ws_live(ws: WebSocket):
        await serve_socket(ws, store, feed)

    return router


async def serve_socket(ws: WebSocket, store: Store, feed: LiveFeed) -> None:
    """One browser's live connection: the feed's messages out, acks and view changes in."""
    await ws.accept()
    client = feed.attach()
    try:
        await ws.send_text(feed.hello(store.settings.get()))

        async def pump():
            while True:
                text = await client.get()
                if text is None:
                    return
                await ws.send_text(text)

        async def listen():
            while True:
                _handle_message(await ws.receive_text(), feed, client)

        tasks = [asyncio.create_task(pump()), asyncio.create_task(listen())]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        for t in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for t in done:
            t.exception()  # retrieved: a closed socket ends this connection, nothing more
    except WebSocketDisconnect:
        pass
    finally:
        feed.detach(client)
        with contextlib.suppress(Exception):
            await ws.close()


def _handle_message(raw: str, feed: LiveFeed, client) -> None:
    """An ack (``{"type": "ack", "key": n}``) or a view change (``{"type": "view", "raw": bool}``);
    anything else, too long or not JSON, is ignored."""
    if len(raw) > MAX_MESSAGE:
        return
    try:
        msg = json.loads(raw)
    except ValueError:
        return
    if not isinstance(msg, dict):
        return
    if msg.get("type") == "ack" and isinstance(msg.get("key"), int):
        feed.ack(msg["key"])
    elif msg.get("type") == "view":
        client.raw = bool(msg.get("raw"))
