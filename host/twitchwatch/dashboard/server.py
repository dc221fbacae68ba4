"""The dashboard's web server: FastAPI on uvicorn, inside the caller's asyncio event loop.

Why these: FastAPI/Starlette give typed routes, WebSockets and static files with little code and
are widely maintained; uvicorn runs in the same event loop as the live pipeline, so the Hub's
items reach the browser without threads or copies. The charts are a small canvas renderer of our
own (static/chart.js): a scrolling min/max trace is ~200 lines of plain JS, needs no build step,
and keeps the package free of vendored third-party JS.

Routes (all JSON unless said): ``/`` (the app, HTML), ``/static/*`` (package files only),
``/report`` (printable HTML), ``/api/sessions``, ``/api/sessions/{id}/timeline``,
``/api/alerts``, ``/api/alerts/lookup``, ``/api/alerts/{id}``, ``/api/alerts/{id}/signal``,
``PUT|DELETE /api/alerts/{id}/label``, ``/api/history``, ``/api/labels/export``,
``GET|PUT /api/settings``, ``/api/live/state``, ``POST /api/live/ack``, WebSocket ``/ws/live``;
one router per concern in :mod:`twitchwatch.dashboard.routes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from twitchwatch.dashboard.livefeed import LiveFeed
from twitchwatch.dashboard.routes.history import history_router
from twitchwatch.dashboard.routes.labels import labels_router
from twitchwatch.dashboard.routes.live import live_router
from twitchwatch.dashboard.routes.review import review_router
from twitchwatch.dashboard.routes.static import mount_static
from twitchwatch.dashboard.security import Guard, check_bind
from twitchwatch.errors import ConfigError, StoreError
from twitchwatch.hub import Hub
from twitchwatch.store import InvalidInput, Store


def create_app(store: Store, feed: LiveFeed) -> FastAPI:
    """The ASGI app (without the security guard; :func:`guarded_app` adds it)."""
    app = FastAPI(title="twitchwatch dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.feed = feed

    @app.exception_handler(InvalidInput)
    async def _invalid(_request, exc: InvalidInput):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(StoreError)
    async def _store_error(_request, exc: StoreError):
        return JSONResponse({"detail": str(exc)}, status_code=500)

    mount_static(app)
    app.include_router(review_router(store))
    app.include_router(labels_router(store))
    app.include_router(history_router(store))
    app.include_router(live_router(store, feed))
    return app


def guarded_app(store: Store, feed: LiveFeed, token: str | None):
    return Guard(create_app(store, feed), token)


class _Server:
    """uvicorn.Server that leaves signal handling to the host program (record/demo own Ctrl-C)."""

    def __new__(cls, config):
        import uvicorn

        class Quiet(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self):
                yield

        return Quiet(config)


@dataclass
class DashboardHandle:
    """A running dashboard: ``url`` to open (includes ?token= when one is set), ``await stop()``."""

    url: str
    host: str
    port: int
    token: str | None
    feed: LiveFeed
    _server: object
    _task: asyncio.Task

    @property
    def base_url(self) -> str:
        return self.url.split("?", 1)[0]

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop serving: open connections get ``grace_s`` seconds, then are cut."""
        self._server.should_exit = True
        await self.feed.stop()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace_s)
        except asyncio.TimeoutError:
            self._server.force_exit = True
            try:
                await asyncio.wait_for(self._task, timeout=grace_s)
            except asyncio.TimeoutError:
                pass  # the task was cancelled by wait_for: nothing is left serving


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OverflowError:
        sock.close()
        raise ConfigError(f"dashboard: port {port} is not a port number (0..65535)") from None
    except OSError as exc:
        sock.close()
        raise ConfigError(f"dashboard: cannot listen on {host}:{port}: {exc.strerror or exc}; try another --port") from None
    sock.listen(64)
    sock.setblocking(False)
    return sock


async def start_dashboard(
    store: Store,
    hub: Hub | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
) -> DashboardHandle:
    """Serve the dashboard in the running event loop; returns once it accepts connections.

    ``port=0`` picks a free port (see ``handle.port``). Raises ConfigError for a non-loopback
    ``host`` without a token, a short token, or a port that is taken.
    """
    import uvicorn

    check_bind(host, token)
    sock = _bind(host, port)
    real_port = sock.getsockname()[1]
    feed = LiveFeed(hub, store)
    feed.start()
    config = uvicorn.Config(
        guarded_app(store, feed, token),
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="websockets-sansio",
        ws_ping_interval=5.0,
        ws_ping_timeout=10.0,
        timeout_graceful_shutdown=2,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="dashboard-server")
    while not server.started:
        if task.done():
            await feed.stop()
            exc = task.exception() if not task.cancelled() else None
            raise ConfigError(f"dashboard: server did not start on {host}:{real_port} ({exc!r})")
        await asyncio.sleep(0.01)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{real_port}/" + (f"?token={token}" if token else "")
    return DashboardHandle(url, host, real_port, token, feed, server, task)
