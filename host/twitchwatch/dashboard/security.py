"""Who may talk to the dashboard.

Rules
-----
- The server binds 127.0.0.1 by default. Any other address is refused unless a token is set
  (:func:`check_bind`).
- With a token, every HTTP request and WebSocket must carry it: ``Authorization: Bearer T``, the
  ``tw_token`` cookie, or ``?token=T`` in the URL. A page fetched with ``?token=T`` is redirected
  to the same URL without it and sets the cookie (HttpOnly, SameSite=Strict), so the token does not
  stay in the address bar or history. Anything else gets 401.
- Without a token (loopback only), the ``Host`` header must name the loopback address: a web page
  elsewhere cannot reach the dashboard through DNS rebinding.
- A WebSocket or a state-changing request (POST/PUT/DELETE) whose ``Origin`` is another site is
  refused (403): a page on the internet cannot open the live feed or label alerts in your name.
  State-changing requests must send JSON (``Content-Type: application/json``), which a plain
  cross-site form cannot.
- Every response carries a strict Content-Security-Policy (only this server's own scripts).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

from twitchwatch.errors import ConfigError

COOKIE = "tw_token"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


TOKEN_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-")


def check_bind(host: str, token: str | None) -> None:
    """Raise ConfigError if binding ``host`` without a token would expose the dashboard, or if
    the token is too short or has characters that cannot travel in a URL or cookie as they are."""
    if token is not None and (not isinstance(token, str) or len(token) < 8):
        raise ConfigError("dashboard: --token must be at least 8 characters")
    if token is not None and not set(token) <= TOKEN_CHARS:
        raise ConfigError("dashboard: --token may only use letters, digits and . _ ~ -")
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"dashboard: refusing to listen on {host} without a token; "
            "use --token T (at least 8 characters) or keep the default 127.0.0.1"
        )


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[: host_header.find("]") + 1]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class Guard:
    """ASGI middleware enforcing the rules above for HTTP and WebSocket scopes."""

    def __init__(self, app, token: str | None):
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        host = headers.get("host", "")
        if not self.token and _host_name(host) not in LOOPBACK_HOSTS:
            return await self._deny(scope, send, 400, f"Host {host!r} is not this computer; open http://127.0.0.1:<port>/")
        origin = headers.get("origin")
        method = scope.get("method", "GET")
        if origin and (scope["type"] == "websocket" or method not in ("GET", "HEAD")):
            o = urlsplit(origin)
            if o.netloc.lower() != host.lower():
                return await self._deny(scope, send, 403, f"requests from {origin} are not allowed")
        if scope["type"] == "http" and method not in ("GET", "HEAD"):
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if method in ("POST", "PUT", "PATCH") and ctype != "application/json":
                return await self._deny(scope, send, 415, "send JSON (Content-Type: application/json)")
        if self.token:
            given = None
            auth = headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            from_query = query.get("token")
            if given is None and from_query is not None:
                given = from_query
            if given is None and "cookie" in headers:
                c = SimpleCookie()
                try:
                    c.load(headers["cookie"])
                except Exception:
                    c = SimpleCookie()
                if COOKIE in c:
                    given = c[COOKIE].value
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                return await self._deny(scope, send, 401, "missing or wrong token (Authorization: Bearer T, or ?token=T)")
            if from_query is not None and scope["type"] == "http" and method == "GET" and not scope["path"].startswith("/api/"):
                rest = urlencode([(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k != "token"])
                location = scope["path"] + ("?" + rest if rest else "")
                cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
                return await self._respond(send, 303, b"", [(b"location", location.encode()), (b"set-cookie", cookie.encode())])

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        return await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)

    async def _deny(self, scope, send, status: int, detail: str):
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json")]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        if scope["type"] == "websocket":
            if "websocket.http.response" in scope.get("extensions", {}):
                await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
                await send({"type": "websocket.http.response.body", "body": body})
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        await self._respond(send, status, body, headers)

    @staticmethod
    async def _respond(send, status: int, body: bytes, headers):
        await send({"type": "http.response.start", "status": status, "headers": list(headers) + SECURITY_HEADERS})
        await send({"type": "http.response.body", "body": body})
