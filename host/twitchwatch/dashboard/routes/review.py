"""Review: sessions, one session's timeline, alerts, and the recorded signal around an alert.

The signal is read only from recordings under the store's data folder (``alert_signal`` confines
the path).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from twitchwatch.dashboard.routes.params import float_param
from twitchwatch.dashboard.snippet import SnippetError, alert_signal
from twitchwatch.store import Store


def review_router(store: Store) -> APIRouter:
    """``/api/sessions``, ``/api/sessions/{id}/timeline``, ``/api/alerts``, ``/api/alerts/lookup``,
    ``/api/alerts/{id}``, ``/api/alerts/{id}/signal``."""
    router = APIRouter()

    @router.get("/api/sessions")
    def sessions(limit: int = 200, offset: int = 0):
        if not 1 <= limit <= 5000 or offset < 0:
            raise HTTPException(400, "limit must be 1..5000 and offset >= 0")
        return {"sessions": store.sessions.list_sessions(limit=limit, offset=offset)}

    @router.get("/api/sessions/{session_id}/timeline")
    def timeline(session_id: int):
        tl = store.sessions.timeline(session_id)
        if tl is None:
            raise HTTPException(404, f"no session with id {session_id}")
        return tl

    @router.get("/api/alerts")
    def alerts(session: int | None = None):
        return {"alerts": store.sessions.alerts(session_id=session)}

    @router.get("/api/alerts/lookup")
    def lookup(t_s: str, kind: str, session: int | None = None):
        t = float_param(t_s, "t_s")
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

    @router.get("/api/alerts/{alert_id}")
    def alert(alert_id: int):
        a = store.sessions.get_alert(alert_id)
        if a is None:
            raise HTTPException(404, f"no alert with id {alert_id}")
        return a

    @router.get("/api/alerts/{alert_id}/signal")
    def alert_sig(alert_id: int):
        a = store.sessions.get_alert(alert_id)
        if a is None:
            raise HTTPException(404, f"no alert with id {alert_id}")
        end = a["episode_end_s"] if a["episode_end_s"] is not None else a["t_s"]
        try:
            return alert_signal(a["session"]["recording_path"], store.data_dir, a["episode_start_s"], max(end, a["t_s"]))
        except SnippetError as exc:
            raise HTTPException(404, str(exc)) from None

    return router
