"""The app page and its static files (package files only; symlinks are not followed)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def mount_static(app: FastAPI) -> None:
    """``/`` (the app, HTML), ``/favicon.ico`` (none) and ``/static/*``."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR, follow_symlink=False), name="static")

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return Response(status_code=204)
