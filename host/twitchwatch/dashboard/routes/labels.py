"""Labels on alerts (set, remove, export as training labels) and the dashboard's settings."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from twitchwatch.dashboard.routes.params import json_body
from twitchwatch.store import Store


def labels_router(store: Store) -> APIRouter:
    """``PUT|DELETE /api/alerts/{id}/label``, ``/api/labels/export``, ``GET|PUT /api/settings``."""
    router = APIRouter()

    @router.put("/api/alerts/{alert_id}/label")
    async def put_label(alert_id: int, request: Request):
        data = await json_body(request)
        unknown = set(data) - {"label", "note", "by"}
        if unknown:
            raise HTTPException(400, f"unknown fields: {', '.join(sorted(unknown))}")
        if "label" not in data:
            raise HTTPException(400, "field 'label' is required (confirmed, false_alarm or unsure)")
        return await run_in_threadpool(
            store.labels.set, alert_id, data["label"], data.get("note", ""), data.get("by", "")
        )

    @router.delete("/api/alerts/{alert_id}/label")
    def delete_label(alert_id: int):
        if store.sessions.get_alert(alert_id) is None:
            raise HTTPException(404, f"no alert with id {alert_id}")
        return {"removed": store.labels.clear(alert_id)}

    @router.get("/api/labels/export")
    def export_labels(format: str = "json"):
        if format not in ("json", "csv"):
            raise HTTPException(400, "format must be json or csv")
        text = store.labels.export(format=format)
        media = "application/json" if format == "json" else "text/csv"
        return Response(
            text, media_type=media, headers={"content-disposition": f'attachment; filename="twitchwatch-labels.{format}"'}
        )

    @router.get("/api/settings")
    def get_settings():
        return store.settings.get()

    @router.put("/api/settings")
    async def put_settings(request: Request):
        data = await json_body(request)
        return await run_in_threadpool(store.settings.update, data)

    return router
