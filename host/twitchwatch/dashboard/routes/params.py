"""Request parsing shared by the routes: bounded JSON bodies and finite number parameters."""

from __future__ import annotations

import json
import math

from fastapi import HTTPException, Request

#: Longest accepted JSON body, bytes (a label note is at most 2000 characters).
MAX_BODY = 16 * 1024


def float_param(value: str | None, name: str, default: float | None = None) -> float | None:
    """A query parameter as a finite float (``default`` when absent); 400 otherwise."""
    if value is None or value == "":
        return default
    try:
        v = float(value)
    except ValueError:
        raise HTTPException(400, f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise HTTPException(400, f"{name} must be finite")
    return v


async def json_body(request: Request) -> dict:
    """The request body as a JSON object of at most :data:`MAX_BODY` bytes; 400/413 otherwise."""
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
