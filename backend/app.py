"""The app factory: `create_app(settings)` mounts the /v1 routers and the cross-cutting layers (body limit, token,
problem-details errors), so each test builds its own app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from backend import meta
from backend.settings import ServerSettings
from engine.errors import LudoforgeError

PROBLEM = "application/problem+json"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def problem(status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None) -> JSONResponse:
    """An RFC 9457 problem-details answer; `errors` name each field at fault and what was expected."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


class BodyLimit:
    """Refuses a body over `limit` bytes with 413 before it is read into memory: at once when Content-Length says
    so, or as soon as a streamed body passes the limit."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int) -> None:
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


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The ludoforge content API under /v1, configured by `settings` (loopback, no token, by default)."""
    settings = settings or ServerSettings()
    state = meta.ServerState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.load_generators:
            state.load()  # once, before the first request: /v1/health says ready only after this
        yield

    app = FastAPI(
        title="ludoforge content API",
        version=_version(),
        description="Playable levels, dungeons, tilesets and sprites from ludoforge's generators.",
        lifespan=lifespan,
        dependencies=[Depends(_token_check(settings))],
    )
    app.state.ludoforge = state
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    _add_error_handlers(app)
    app.include_router(meta.router, prefix="/v1")
    return app


def _token_check(settings: ServerSettings) -> Callable[[Request], None]:
    expected = None if settings.token is None else f"Bearer {settings.token}"

    def check(request: Request) -> None:
        if expected is not None and request.headers.get("authorization") != expected:
            raise HTTPException(401, "a valid `Authorization: Bearer <token>` header is required")

    return check


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": str(e.get("msg"))}
            for e in exc.errors()
        ]
        return problem(422, "Invalid request", errors[0]["message"] if errors else "invalid request", errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        titles = {401: "Unauthorized", 404: "Not found", 405: "Method not allowed"}
        return problem(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))

    @app.exception_handler(LudoforgeError)
    async def project_error(request: Request, exc: LudoforgeError) -> JSONResponse:
        field = getattr(exc, "field", "")
        return problem(
            422, "Invalid request", str(exc), [{"field": field, "message": str(exc)}] if field else None
        )

    # Starlette answers unknown paths and methods before the app's handlers; keep those as problem details too.
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return await http_error(request, HTTPException(exc.status_code, str(exc.detail)))


def _version() -> str:
    try:
        return version("ludoforge")
    except PackageNotFoundError:
        return "0+unknown"


def openapi_json(app: FastAPI) -> str:
    """The app's OpenAPI document as committed in docs/openapi.json (sorted keys, so diffs are stable)."""
    return json.dumps(app.openapi(), indent=1, sort_keys=True) + "\n"
