"""The live view's data: subscribe to the pipeline's Hub, decimate, and push JSON to browsers.

What a browser receives over ``/ws/live`` (one JSON object per WebSocket text message):

``{"type": "hello", "live": bool, "state": {...}, "traces": {...}, "alerts": [...], "settings": {...}}``
    on connect: the current state, the last ``history_s`` seconds of traces, unacknowledged alerts.
``{"type": "trace", "accel": [seg, ...], "emg": [seg, ...], "raw": [seg, ...], "events": [[t, amp], ...]}``
    every ``flush_s`` (0.1 s) while data flows. A segment is consecutive buckets:
    ``{"t0": s, "dt": s, "min": [...], "max": [...]}`` (accelerometer magnitude in g) or, for EMG,
    per channel lists ``"min": [[...], [...]], "max": ..., "env": ...`` (high-passed EMG in uV, its
    RMS envelope per bucket). ``raw`` (only to clients that asked for it, when zoomed in) is EMG
    min/max at ~250 buckets/s. ``t0`` is device time (s).
``{"type": "state", ...}``
    connection, device, battery, worn, signal quality, the detector's latest window label, counts;
    at least once a second (a heartbeat) and at once when the connection state changes.
``{"type": "alert", "key": k, ...}``  at once when the detector raises an alert.
``{"type": "ack", "key": k}``  an alert was acknowledged (by any browser).

Browsers send ``{"type": "ack", "key": k}`` and ``{"type": "view", "raw": bool}``.

Every browser has its own bounded queue; a slow one loses its oldest *trace* messages (counted),
never an alert, and never slows the pipeline (the Hub subscription is bounded as well).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from twitchwatch.dashboard.traces import Traces
from twitchwatch.hub import Hub
from twitchwatch.model import (Chunk, ConnectionChange, DetectorFailure, DetectorOutput, DeviceInfo, Fault, Mark, Status,
                               is_fault_onset)

#: A fault counts as "now" if it ended less than this long ago (device seconds).
FAULT_RECENT_S = 2.0
#: Per-browser queue length (messages); at 10 trace messages/s this is ~25 s of backlog.
CLIENT_QUEUE = 256


@dataclass(eq=False)
class LiveClient:
    """One browser's outgoing queue."""

    raw: bool = False
    dropped: int = 0
    _items: deque = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def put(self, kind: str, text: str) -> None:
        if len(self._items) >= CLIENT_QUEUE:
            for i, (k, _) in enumerate(self._items):
                if k == "trace":
                    del self._items[i]
                    break
            else:
                self._items.popleft()
            self.dropped += 1
        self._items.append((kind, text))
        self._ready.set()

    async def get(self) -> str | None:
        while not self._items:
            if self.closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()[1]

    def close(self) -> None:
        self.closed = True
        self._ready.set()


class LiveFeed:
    """Turns Hub items into live-view messages. ``hub=None`` gives a feed that says "not live"."""

    def __init__(self, hub: Hub | None, store=None, flush_s: float = 0.1, heartbeat_s: float = 1.0):
        self.hub = hub
        self.store = store
        self.flush_s = flush_s
        self.heartbeat_s = heartbeat_s
        self.clients: set[LiveClient] = set()
        self._sub = hub.subscribe(maxsize=4096, name="dashboard") if hub is not None else None
        self._tasks: list[asyncio.Task] = []
        self._alert_key = 0
        self.unacked: dict[int, dict] = {}
        self.messages_sent = 0
        self.bytes_sent = 0
        self.traces = Traces()
        self.state: dict[str, Any] = {
            "connection": "waiting" if hub is not None else "not_live",
            "device": None,
            "battery_pct": None,
            "battery_mv": None,
            "lead_off": [],
            "worn": "unknown",
            "signal_quality": "unknown",
            "window": None,
            "t_latest_s": None,
            "data_age_s": None,
            "counts": {"twitches": 0, "events": 0, "episodes": 0, "alerts": 0, "faults": 0, "marks": 0},
            "faults_now": [],
            "faults_open": [],
            "episode_ends": [],  # [kind, start_s, end_s] of the episodes closed lately (alert banners' durations)
            "dashboard_dropped": 0,
            "connection_detail": "",
            "detector_error": None,
        }
        self._last_data_wall: float | None = None
        self._faults: deque[Fault] = deque(maxlen=64)
        self._open_faults: dict[tuple, Fault] = {}  # lasting faults begun and not ended (sensor off)
        self._state_dirty = True

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> None:
        if self._sub is not None:
            self._tasks.append(asyncio.create_task(self._consume(), name="dashboard-consume"))
        self._tasks.append(asyncio.create_task(self._ticker(), name="dashboard-flush"))

    async def stop(self) -> None:
        if self._sub is not None:
            self._sub.unsubscribe()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        for c in tuple(self.clients):
            c.close()

    def attach(self) -> LiveClient:
        c = LiveClient()
        self.clients.add(c)
        return c

    def detach(self, c: LiveClient) -> None:
        c.close()
        self.clients.discard(c)

    # ----------------------------------------------------------------- streams
    def _on_chunk(self, c: Chunk) -> None:
        if c.n == 0:
            return
        self._last_data_wall = time.monotonic()
        self.state["t_latest_s"] = max(self.state["t_latest_s"] or -math.inf, c.t_end_s)
        self.traces.push(c, raw=any(cl.raw for cl in self.clients))

    # ----------------------------------------------------------------- items
    def handle(self, item: Any) -> None:
        """Process one Hub item (synchronously; cheap and vectorized)."""
        if isinstance(item, Chunk):
            self._on_chunk(item)
        elif isinstance(item, DetectorOutput):
            self._on_output(item)
        elif isinstance(item, Status):
            self.state["battery_pct"] = int(item.battery_pct)
            self.state["battery_mv"] = int(item.battery_mv)
            self.state["lead_off"] = [bool(v) for v in item.lead_off]
            self._state_dirty = True
        elif isinstance(item, Fault):
            key = (item.kind, item.stream, round(item.start_s, 6))
            if is_fault_onset(item):
                self._open_faults[key] = item
                self.state["counts"]["faults"] += 1
            elif self._open_faults.pop(key, None) is None:
                self.state["counts"]["faults"] += 1
            else:  # a lasting fault ended: its alert banner stops counting
                ends = self.state["episode_ends"]
                ends.append([item.kind, item.start_s, item.end_s])
                del ends[:-20]
            self._faults.append(item)
            self._state_dirty = True
        elif isinstance(item, Mark):
            self.state["counts"]["marks"] += 1
            self._state_dirty = True
        elif isinstance(item, DeviceInfo):
            self.traces.reset()
            self.state["device"] = {
                "device_id": item.device_id,
                "placement": item.placement,
                "firmware_version": item.firmware_version,
                "source": item.source,
                "streams": [{"kind": s.kind, "rate_hz": s.rate_hz, "channels": s.channels, "channel_names": list(s.channel_names)} for s in item.streams],
            }
            if self.state["connection"] in ("waiting", "not_live"):
                self.state["connection"] = "connected"
            self._state_dirty = True
            self._send_state()
        elif isinstance(item, ConnectionChange):
            self.state["connection"] = item.state
            self.state["connection_detail"] = item.detail[:200]
            self._send_state()
        elif isinstance(item, DetectorFailure):
            self.state["detector_error"] = item.detail[:300]
            self._send_state()

    def _on_output(self, out: DetectorOutput) -> None:
        counts = self.state["counts"]
        if out.events:
            counts["events"] += len(out.events)
            counts["twitches"] += sum(1 for e in out.events if e.kind == "twitch")
            self.traces.add_events(out.events)
        if out.windows:
            w = out.windows[-1]
            self.state["window"] = {
                "label": w.label, "confidence": round(float(w.confidence), 3), "dominant_hz": round(float(w.dominant_hz), 2),
                "rhythmicity": round(float(w.rhythmicity), 3), "start_s": w.start_s, "end_s": w.end_s,
            }
            self._state_dirty = True
        if out.episodes:
            counts["episodes"] += len(out.episodes)
            ends = self.state["episode_ends"]
            ends.extend([e.kind, e.start_s, e.end_s] for e in out.episodes)
            del ends[:-20]
            self._state_dirty = True
        for f in out.faults:
            self._faults.append(f)
            counts["faults"] += 1
        if out.faults:
            self._state_dirty = True
        for a in out.alerts:
            counts["alerts"] += 1
            self._alert_key += 1
            msg = {
                "type": "alert",
                "key": self._alert_key,
                "level": a.level,
                "kind": a.kind,
                "t_s": a.t_s,
                "episode_start_s": a.episode_start_s,
                "reasons": [[k, (float(v) if math.isfinite(float(v)) else None)] for k, v in a.reasons],
                "received_unix": time.time(),
                "session_id": self._open_session_id(),
            }
            self.unacked[self._alert_key] = msg
            while len(self.unacked) > 50:
                self.unacked.pop(next(iter(self.unacked)))
            self._flush()  # the trace up to now first, then the alert
            self._broadcast("alert", json.dumps(msg, separators=(",", ":")))
            self._send_state()

    def _open_session_id(self) -> int | None:
        if self.store is None:
            return None
        try:
            rows = self.store.sessions.list_sessions(limit=1)
        except Exception:  # the alert must go out even if the store is unhappy
            return None
        return rows[0]["id"] if rows else None

    def ack(self, key: int) -> bool:
        if self.unacked.pop(int(key), None) is None:
            return False
        self._broadcast("ack", json.dumps({"type": "ack", "key": int(key)}))
        return True

    # ----------------------------------------------------------------- state
    def _derive_state(self) -> dict:
        st = self.state
        t = st["t_latest_s"]
        now_faults = sorted({f.kind for f in self._faults if t is not None and f.end_s >= t - FAULT_RECENT_S}
                            | {f.kind for f in self._open_faults.values()})
        st["faults_now"] = now_faults
        st["faults_open"] = [{"kind": f.kind, "stream": f.stream, "since_s": f.start_s, "detail": f.detail}
                             for f in self._open_faults.values()]
        age = None if self._last_data_wall is None else round(time.monotonic() - self._last_data_wall, 2)
        st["data_age_s"] = age
        if t is None:
            st["worn"], st["signal_quality"] = "unknown", ("unknown" if self.hub is not None else "not_live")
        else:
            st["worn"] = "no" if "not_worn" in now_faults else "yes"
            if "signal_lost" in now_faults:
                st["signal_quality"] = "lost"
            elif any(st["lead_off"]) or set(now_faults) & {"saturated", "lead_off", "invalid_samples", "gap"}:
                st["signal_quality"] = "poor"
            else:
                st["signal_quality"] = "good"
        st["dashboard_dropped"] = self._sub.dropped if self._sub is not None else 0
        return st

    def _send_state(self) -> None:
        self._state_dirty = False
        self._broadcast("state", json.dumps({"type": "state", **self._derive_state()}, separators=(",", ":")))

    def hello(self, settings: dict | None = None) -> str:
        traces = {"accel": list(self.traces.history["accel"]), "emg": list(self.traces.history["emg"])}
        msg = {
            "type": "hello",
            "live": self.hub is not None,
            "state": self._derive_state(),
            "traces": traces,
            "alerts": list(self.unacked.values()),
            "settings": settings or {},
        }
        return json.dumps(msg, separators=(",", ":"))

    # ----------------------------------------------------------------- pushing
    def _broadcast(self, kind: str, text: str) -> None:
        for c in tuple(self.clients):
            c.put(kind, text)
            self.messages_sent += 1
            self.bytes_sent += len(text)

    def _flush(self) -> None:
        p = self.traces.take_pending()
        if not (p["accel"] or p["emg"] or p["events"] or p["raw"]):
            return
        base = {"type": "trace", "accel": p["accel"], "emg": p["emg"], "events": p["events"]}
        text = json.dumps(base, separators=(",", ":"))
        raw_text = json.dumps(base | {"raw": p["raw"]}, separators=(",", ":")) if p["raw"] else text
        for c in tuple(self.clients):
            t = raw_text if c.raw else text
            c.put("trace", t)
            self.messages_sent += 1
            self.bytes_sent += len(t)

    async def _consume(self) -> None:
        assert self._sub is not None
        async for item in self._sub:
            try:
                self.handle(item)
            except Exception as exc:  # one bad item must not end the live view
                self.state["last_error"] = f"{type(exc).__name__}: {exc}"
        self.state["connection"] = "ended"
        self._flush()
        self._send_state()

    async def _ticker(self) -> None:
        last_state = 0.0
        while True:
            await asyncio.sleep(self.flush_s)
            self._flush()
            now = time.monotonic()
            if self._state_dirty and now - last_state >= 0.25 or now - last_state >= self.heartbeat_s:
                self._send_state()
                last_state = now
