"""History (counts per day and hour over a period) and the printable report."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from twitchwatch.dashboard.history import history_view, whole_days
from twitchwatch.dashboard.report import render_report
from twitchwatch.dashboard.routes.params import float_param
from twitchwatch.store import Store


def period(store: Store, days: str | None, until: str | None, tz_offset_min: str | None) -> tuple[float, float, float]:
    """(start, end, UTC offset in s) of whole local days: ``days=7`` is the seven days ending with
    the day that holds ``until`` (default: the store's last data); no ``days``: all of it."""
    off = float_param(tz_offset_min, "tz_offset_min", None)
    if off is None:
        off = time.localtime().tm_gmtoff / 60.0
    if not -16 * 60 <= off <= 16 * 60:
        raise HTTPException(400, "tz_offset_min must be within +-16 h")
    d = float_param(days, "days", None)
    span = store.sessions.span_unix()
    end = float_param(until, "until", None)
    if end is None:
        end = (span[1] if span else time.time()) + 1.0
    end = whole_days(end - 1.0, end, off * 60.0)[1]
    if d is None:
        start = whole_days(span[0], span[0] + 1.0, off * 60.0)[0] if span else end - 86400.0
    else:
        if not 1 <= d <= 3660 or d != int(d):
            raise HTTPException(400, "days must be a whole number 1..3660")
        start = end - d * 86400.0
    return start, end, off * 60.0


def history_router(store: Store) -> APIRouter:
    """``/api/history`` and ``/report`` (HTML, 30 days unless ``days`` says otherwise)."""
    router = APIRouter()

    @router.get("/api/history")
    def history(days: str | None = None, until: str | None = None, tz_offset_min: str | None = None):
        start, end, off = period(store, days, until, tz_offset_min)
        return history_view(store, start, end, off)

    @router.get("/report", response_class=HTMLResponse)
    def report(days: str | None = None, until: str | None = None, tz_offset_min: str | None = None):
        start, end, off = period(store, days if days is not None else "30", until, tz_offset_min)
        return HTMLResponse(render_report(store, start, end, off))

    return router
