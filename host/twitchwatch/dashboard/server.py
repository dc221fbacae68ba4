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
``GET|PUT /api/settings``, ``/api/live/state``, ``POST /api/live/ack``, WebSocket ``/ws/live``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from twitchwatch.dashboard.livefeed import LiveFeed
from twitchwatch.dashboard.history import history_view, whole_days
from twitchwatch.dashboard.report import render_report
from twitchwatch.dashboard.security import Guard, check_bind
from twitchwatch.dashboard.snippet import SnippetError, alert_signal
from twitchwatch.errors import ConfigError, StoreError
from twitchwatch.hub import Hub
from twitchwatch.store import InvalidInput, Store

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Longest accepted JSON body, bytes (a label note is at most 2000 characters).
MAX_BODY = 16 * 1024


def _float_param(value: str | None, name: str, default: float | None = None) -> float | None:
    if value is None or value == "":
        return default
    try:
        v = float(value)
    except ValueError:
        raise HTTPException(400, f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise HTTPException(400, f"{name} must be finite")
    return v


async def _json_body(request: Request) -> dict:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"request body larger than {MAX_BODY} bytes")
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "body must be a JSON object")
    return data


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

    app.mount("/static", StaticFiles(directory=STATIC_DIR, follow_symlink=False), name="static")

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return Response(status_code=204)

    # ------------------------------------------------------------ sessions and alerts
    @app.get("/api/sessions")
    def sessions(limit: int = 200, offset: int = 0):
        if not 1 <= limit <= 5000 or offset < 0:
            raise HTTPException(400, "limit must be 1..5000 and offset >= 0")
        return {"sessions": store.sessions.list_sessions(limit=limit, offset=offset)}

    @app.get("/api/sessions/{session_id}/timeline")
    def timeline(session_id: int):
        tl = store.sessions.timeline(session_id)
        if tl is None:
            raise HTTPException(404, f"no session with id {session_id}")
        return tl

    @app.get("/api/alerts")
    def alerts(session: int | None = None):
        return {"alerts": store.sessions.alerts(session_id=session)}

    @app.get("/api/alerts/lookup")
    def lookup(t_s: str, kind: str, session: int | None = None):
        t = _float_param(t_s, "t_s")
        sid = session
        if sid is None:
            rows = store.sessions.list_sessions(limit=1)
            if not rows:
                raise HTTPException(404, "no sessions")
            sid = rows[0]["id"]
        for a in store.sessions.alerts(session_id=sid):
            if a["kind"] == kind and abs(a["t_s"] - t) < 1e-3:
                return {"id": a["id"], "session_id": sid}
        raise HTTPException(404, "that alert is not in the store (yet)")

    @app.get("/api/alerts/{alert_id}")
    def alert(alert_id: int):
        a = store.sessions.get_alert(alert_id)
        if a is None:
            raise HTTPException(404, f"no alert with id {alert_id}")
        return a

    @app.get("/api/alerts/{alert_id}/signal")
    def alert_sig(alert_id: int):
        a = store.sessions.get_alert(alert_id)
        if a is None:
            raise HTTPException(404, f"no alert with id {alert_id}")
        end = a["episode_end_s"] if a["episode_end_s"] is not None else a["t_s"]
        try:
            return alert_signal(a["session"]["recording_path"], store.data_dir, a["episode_start_s"], max(end, a["t_s"]))
        except SnippetError as exc:
            raise HTTPException(404, str(exc)) from None

    @app.put("/api/alerts/{alert_id}/label")
    async def put_label(alert_id: int, request: Request):
        data = await _json_body(request)
        unknown = set(data) - {"label", "note", "by"}
        if unknown:
            raise HTTPException(400, f"unknown fields: {', '.join(sorted(unknown))}")
        if "label" not in data:
            raise HTTPException(400, "field 'label' is required (confirmed, false_alarm or unsure)")
        return await run_in_threadpool(
            store.labels.set, alert_id, data["label"], data.get("note", ""), data.get("by", "")
        )

    @app.delete("/api/alerts/{alert_id}/label")
    def delete_label(alert_id: int):
        if store.sessions.get_alert(alert_id) is None:
            raise HTTPException(404, f"no alert with id {alert_id}")
        return {"removed": store.labels.clear(alert_id)}

    @app.get("/api/labels/export")
    def export_labels(format: str = "json"):
        if format not in ("json", "csv"):
            raise HTTPException(400, "format must be json or csv")
        text = store.labels.export(format=format)
        media = "application/json" if format == "json" else "text/csv"
        return Response(
            text, media_type=media, headers={"content-disposition": f'attachment; filename="twitchwatch-labels.{format}"'}
        )

    # ------------------------------------------------------------ history and report
    def _period(days: str | None, until: str | None, tz_offset_min: str | None) -> tuple[float, float, float]:
        off = _float_param(tz_offset_min, "tz_offset_min", None)
        if off is None:
            off = time.localtime().tm_gmtoff / 60.0
        if not -16 * 60 <= off <= 16 * 60:
            raise HTTPException(400, "tz_offset_min must be within +-16 h")
        d = _float_param(days, "days", None)
        span = store.sessions.span_unix()
        end = _float_param(until, "until", None)
        if end is None:
            end = (span[1] if span else time.time()) + 1.0
        # whole local days: `days=7` is the seven days ending with the day that holds `until`
        end = whole_days(end - 1.0, end, off * 60.0)[1]
        if d is None:
            start = whole_days(span[0], span[0] + 1.0, off * 60.0)[0] if span else end - 86400.0
        else:
            if not 1 <= d <= 3660 or d != int(d):
                raise HTTPException(400, "days must be a whole number 1..3660")
            start = end - d * 86400.0
        return start, end, off * 60.0

    @app.get("/api/history")
    def history(days: str | None = None, until: str | None = None, tz_offset_min: str | None = None):
        start, end, off = _period(days, until, tz_offset_min)
        return history_view(store, start, end, off)

    @app.get("/report", response_class=HTMLResponse)
    def report(days: str | None = None, until: str | None = None, tz_offset_min: str | None = None):
        start, end, off = _period(days if days is not None else "30", until, tz_offset_min)
        return HTMLResponse(render_report(store, start, end, off))

    # ------------------------------------------------------------ settings
    @app.get("/api/settings")
    def get_settings():
        return store.settings.get()

    @app.put("/api/settings")
    async def put_settings(request: Request):
        data = await _json_body(request)
        return await run_in_threadpool(store.settings.update, data)

    # ------------------------------------------------------------ live
    @app.get("/api/live/state")
    async def live_state():
        return {"live": feed.hub is not None, "state": feed._derive_state(), "unacked": list(feed.unacked)}

    @app.post("/api/live/ack")
    async def live_ack(request: Request):
        data = await _json_body(request)
        key = data.get("key")
        if isinstance(key, bool) or not isinstance(key, int):
            raise HTTPException(400, "key must be an integer")
        if not feed.ack(key):
            raise HTTPException(404, f"no unacknowledged alert {key}")
        return {"acked": key}

    @app.websocket("/ws/live")
    async def ws_live(ws: WebSocket):
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
                    raw = await ws.receive_text()
                    if len(raw) > 1024:
                        continue
                    try:
                        msg = json.loads(raw)
                    except ValueError:
                        continue
                    if not isinstance(msg, dict):
                        continue
                    if msg.get("type") == "ack" and isinstance(msg.get("key"), int):
                        feed.ack(msg["key"])
                    elif msg.get("type") == "view":
                        client.raw = bool(msg.get("raw"))

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
