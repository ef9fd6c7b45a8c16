"""Who may call the server and how much they may send: the token policy and the ASGI gatekeeper.

Token policy (`token_for`): on a loopback address a token is optional; on any other address one is
required, and generated (`secrets.token_urlsafe`) when none is given; on a wildcard address
(0.0.0.0, ::) the server refuses to start without an explicit one, so that exposing every interface
is always a deliberate act.

The gatekeeper wraps the app and, per HTTP request, in this order:
1. takes the token from `Authorization: Bearer T`, or from a `/t/T/` path prefix for clients that cannot
   set headers (the SandboxFusion client, verl, ROLL, OpenRLHF send none; the prefix is stripped);
   a missing or wrong token is 401 (`/healthz` needs none);
2. refuses requests while the server drains for shutdown: 503, `Retry-After`, `Connection: close`;
3. reads the body, refusing it past `max_body_bytes`: 413 (from Content-Length before reading a byte,
   or as soon as a chunked body passes the limit);
4. records the answer's code, the latency and the in-flight count (`Metrics`).
Tokens compare in constant time. Uvicorn's access log is off (`server.py`), so a path token is never logged.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from cosmocore.errors import InputError
from cosmocore.serve.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset({"/healthz"})  # answered without a token (load balancers and probes)
TOKEN_PREFIX = "/t/"  # /t/<token>/run_code == /run_code with `Authorization: Bearer <token>`


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:  # a name: every address it resolves to
        try:
            return [ipaddress.ip_address(info[4][0]) for info in socket.getaddrinfo(host, None)]
        except (socket.gaierror, ValueError) as err:
            raise InputError(f"cannot resolve --host {host!r}: {err}") from err


def is_loopback(host: str) -> bool:
    """True when every address `host` stands for is a loopback address (127.0.0.0/8, ::1)."""
    return all(address.is_loopback for address in _addresses(host))


def is_wildcard(host: str) -> bool:
    """True for an address that means every interface (0.0.0.0, ::)."""
    return any(address.is_unspecified for address in _addresses(host))


@dataclass(frozen=True)
class TokenChoice:
    token: str  # "" = no token asked for
    generated: bool  # made up here (print it: the operator has no other way to learn it)


def token_for(host: str, given: str) -> TokenChoice:
    """The token the server on `host` will demand (policy in the module docstring)."""
    if given:
        return TokenChoice(given, False)
    if is_wildcard(host):
        raise InputError(f"--host {host} listens on every interface: give --token (or $COSMOCORE_SERVE_TOKEN)")
    if is_loopback(host):
        return TokenChoice("", False)
    return TokenChoice(secrets.token_urlsafe(32), True)


@dataclass
class Lifecycle:
    """Whether the server still takes requests (set to draining on SIGTERM, before uvicorn stops)."""

    draining: bool = False
    retry_after_s: int = 1
    details: dict[str, Any] = field(default_factory=dict)


async def reply(send: Send, code: int, message: str, headers: dict[str, str] | None = None) -> None:
    """A complete JSON answer `{"detail": message}` (one line), as every refusal of the server is."""
    body = json.dumps({"detail": message}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": code, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


class Disconnected(Exception):
    pass


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; BodyTooLarge as soon as it passes `limit` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then waits for the disconnect."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == name), "")


class Gatekeeper:
    """ASGI middleware: token, draining, body size, metrics (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, token: str, max_body_bytes: int, metrics: Metrics,
                 lifecycle: Lifecycle) -> None:
        self.app, self.token, self.max_body_bytes = app, token, max_body_bytes
        self.metrics, self.lifecycle = metrics, lifecycle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, answered = time.perf_counter(), {"code": 500}

        async def recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["code"] = int(message["status"])
            await send(message)

        self.metrics.started()
        path_token, scope = self._strip_token(scope)
        try:
            await self._admit(scope, path_token, receive, recorded)
        finally:
            self.metrics.finished(scope["path"], answered["code"], time.perf_counter() - start)

    def _strip_token(self, scope: Scope) -> tuple[str | None, Scope]:
        path = str(scope["path"])
        if not path.startswith(TOKEN_PREFIX):
            return None, scope
        token, _, rest = path[len(TOKEN_PREFIX):].partition("/")
        return token, {**scope, "path": "/" + rest, "raw_path": ("/" + rest).encode()}

    def _authorized(self, scope: Scope, path_token: str | None) -> bool:
        if not self.token or (scope["path"] in OPEN_PATHS and path_token is None):
            return True
        scheme, _, credentials = _header(scope, b"authorization").partition(" ")
        offered = path_token if path_token is not None else credentials.strip() if scheme.lower() == "bearer" else ""
        return bool(offered) and secrets.compare_digest(offered.encode(), self.token.encode())

    async def _admit(self, scope: Scope, path_token: str | None, receive: Receive, send: Send) -> None:
        if not self._authorized(scope, path_token):
            await reply(send, 401, "missing or wrong token: send `Authorization: Bearer <token>` or use the "
                        "/t/<token>/ path prefix", {"www-authenticate": "Bearer"})
            return
        if self.lifecycle.draining:
            self.metrics.rejected("draining")
            await reply(send, 503, "the server is shutting down", {"retry-after": str(self.lifecycle.retry_after_s),
                                                                    "connection": "close"})
            return
        await self._with_body(scope, receive, send)

    async def _with_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        too_large = f"request body over the {self.max_body_bytes // 1024} KiB limit (--max-body-kb)"
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await reply(send, 413, too_large, {"connection": "close"})
            return
        try:
            body = await read_body(receive, self.max_body_bytes)
        except BodyTooLarge:
            await reply(send, 413, too_large, {"connection": "close"})
            return
        except Disconnected:
            return
        await self.app(scope, _replay(body, receive), send)
