"""The layers every request passes before a route, outermost first: the access log, CORS, the body limit, the
token, the rate limit and the cache front. Each is a plain ASGI middleware, so it costs little per request."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi.responses import JSONResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROBLEM = "application/problem+json"
access_log = logging.getLogger("ludoforge.access")


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem-details answer; `errors` name each field at fault and what was expected."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class AccessLog:
    """One JSON line per request on the `ludoforge.access` logger: method, path, status, milliseconds, cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                line = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round((time.perf_counter() - start) * 1000, 2),
                    "cache": scope.get("ludoforge.cache", "-"),
                }
                access_log.info(json.dumps(line))


class BodyLimit:
    """Refuses a body over `limit` bytes with 413 before it is read into memory: at once when Content-Length says
    so, or as soon as a streamed body passes the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, "Request body too large", f"the body may be at most {self.limit:,} bytes")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class TokenCheck:
    """With a token set, every request but a CORS preflight needs `Authorization: Bearer <token>` (401)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.expected = None if token is None else token.encode()

    def _valid(self, given: bytes | None) -> bool:
        scheme, _, token = (given or b"").partition(b" ")
        # the scheme is case-insensitive (RFC 9110); the token is compared in constant time
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.expected or b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.expected is not None:
            given = dict(scope.get("headers") or []).get(b"authorization")
            if not self._valid(given):
                answer = problem(
                    401,
                    "Unauthorized",
                    "a valid `Authorization: Bearer <token>` header is required",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RateLimit:
    """A token bucket per client (its token, else its address): `rate` requests a second, bursts of twice
    that; past it, 429 with Retry-After. Buckets of clients not seen for a while are dropped (bounded table)."""

    MAX_CLIENTS = 65_536

    def __init__(self, app: ASGIApp, rate: float | None) -> None:
        self.app, self.rate = app, rate
        self.burst = 2 * rate if rate else 0.0
        self.buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.rate:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        client = headers.get(b"authorization") or str((scope.get("client") or ("?",))[0]).encode()
        now = time.monotonic()
        level, then = self.buckets.pop(client, (self.burst, now))
        level = min(self.burst, level + (now - then) * self.rate)
        if level < 1:
            self.buckets[client] = (level, now)
            wait = math.ceil((1 - level) / self.rate)
            answer = problem(
                429,
                "Too many requests",
                f"at most {self.rate:g} requests a second",
                headers={"Retry-After": str(wait)},
            )
            await answer(scope, receive, send)
            return
        self.buckets[client] = (level - 1, now)
        if len(self.buckets) > self.MAX_CLIENTS:
            self.buckets.popitem(last=False)
        await self.app(scope, receive, send)


CACHED_PATHS = (
    "/v1/levels",
    "/v1/dungeons",
    "/v1/textures",
    "/v1/tilesets",
    "/v1/sprites",
    "/v1/levels/check",
)


class CacheFront:
    """Answers a content request from the cache by its raw bytes (path, Accept, Content-Type, body), before any parsing: a body
    the server has answered before maps straight to its cached answer. A miss goes on to the route with the body
    replayed and the raw key in the scope, so the route can remember which answer it gave."""

    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in CACHED_PATHS:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left before its body arrived
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = dict(scope.get("headers") or [])
        raw_key = hashlib.sha256(
            # everything the route reads: the content type decides whether the body parses at all
            b"\0".join(
                (scope["path"].encode(), headers.get(b"accept", b""), headers.get(b"content-type", b""), body)
            )
        ).hexdigest()
        key = self.state.known_raw(raw_key)
        stored = self.state.answers.get(key) if key is not None else None
        if stored is not None:
            from backend.content import Answer

            scope["ludoforge.cache"] = "hit"
            inm = headers.get(b"if-none-match")
            response = Answer.from_bytes(stored).response(inm.decode("latin-1") if inm else None, "hit")
            await response(scope, receive, send)
            return
        scope["ludoforge.raw_key"] = raw_key
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then hands over to the server's (which waits for the
    client to disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


_PREFLIGHT_FIELDS = {
    "origin": ("Origin", "an origin the server allows (--cors-origin)"),
    "method": ("Access-Control-Request-Method", "GET, POST or DELETE"),
    "headers": (
        "Access-Control-Request-Headers",
        "among Authorization, Content-Type, If-None-Match (and the CORS-safelisted ones)",
    ),
    "private-network": ("Access-Control-Request-Private-Network", "no private-network request"),
}


def cors_middleware() -> type:
    """Starlette's CORSMiddleware, whose refused preflight is problem details naming each header at fault
    (Starlette answers it in plain text)."""
    from starlette.middleware.cors import CORSMiddleware

    class ProblemCORS(CORSMiddleware):
        def preflight_response(self, request_headers: Any) -> Any:
            answer = super().preflight_response(request_headers)
            if answer.status_code != 400:
                return answer
            failures = bytes(answer.body).decode().removeprefix("Disallowed CORS ").split(", ")
            errors = [
                {"field": _PREFLIGHT_FIELDS[f][0], "message": f"expected {_PREFLIGHT_FIELDS[f][1]}"}
                for f in failures
                if f in _PREFLIGHT_FIELDS
            ]
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "CORS preflight refused"
            refused = problem(400, "CORS preflight refused", detail, errors)
            for name, value in answer.headers.items():
                if name.lower().startswith("access-control") or name.lower() == "vary":
                    refused.headers[name] = value
            return refused

    return ProblemCORS
