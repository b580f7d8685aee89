"""The app factory: `create_app(settings)` mounts the /v1 routers and the layers every request passes (access log,
CORS, body limit, token, rate limit, cache front; see backend.middleware), and turns every error into RFC 9457
problem details. Each test builds its own app."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend import art, levels, meta
from backend.content import Busy, TimedOut
from backend.middleware import AccessLog, BodyLimit, CacheFront, RateLimit, TokenCheck, problem
from backend.settings import ServerSettings
from backend.state import ServerState
from engine.errors import LudoforgeError

log = logging.getLogger("ludoforge.serve")


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The ludoforge content API under /v1, configured by `settings` (loopback, no token, by default)."""
    settings = settings or ServerSettings()
    state = ServerState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.load_generators:
            state.load()  # once, before the first request: /v1/health says ready only after this
        if state.jobs is not None:
            state.jobs.start()
        yield
        # Graceful shutdown: uvicorn has stopped taking requests and let the open ones finish; now the jobs
        # are stopped and marked, and the workers finish what they hold.
        if state.jobs is not None:
            state.jobs.stop()
        state.close()

    app = FastAPI(
        title="ludoforge content API",
        version=_version(),
        description=(
            "Playable levels, dungeons, tilesets and sprites from ludoforge's generators. The same request body "
            "always gives the same bytes, with a strong ETag; `If-None-Match` gives 304. Errors are RFC 9457 "
            "problem details naming the field. A server listening beyond loopback needs "
            "`Authorization: Bearer <token>` on every request."
        ),
        lifespan=lifespan,
    )
    app.state.ludoforge = state
    # Starlette wraps each added middleware around the ones before it: add the innermost first.
    app.add_middleware(CacheFront, state=state)
    app.add_middleware(RateLimit, rate=settings.rate_limit)
    app.add_middleware(TokenCheck, token=settings.token)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "X-Cache", "Retry-After", "Location"],
        )
    app.add_middleware(AccessLog)
    _add_error_handlers(app)
    for router in (meta.router, levels.router, art.router, art.blobs_router):
        app.include_router(router, prefix="/v1")
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": str(e.get("msg"))}
            for e in exc.errors()
        ]
        first = f"{errors[0]['field']}: {errors[0]['message']}" if errors else "invalid request"
        return problem(422, "Invalid request", first, errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        titles = {400: "Bad request", 401: "Unauthorized", 404: "Not found", 405: "Method not allowed"}
        return problem(
            exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail), headers=exc.headers
        )

    # Starlette answers unknown paths and methods before the app's handlers; keep those as problem details too.
    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return await http_error(request, HTTPException(exc.status_code, str(exc.detail), exc.headers))

    @app.exception_handler(LudoforgeError)
    async def project_error(request: Request, exc: LudoforgeError) -> JSONResponse:
        field = getattr(exc, "field", "")
        return problem(
            422, "Invalid request", str(exc), [{"field": field, "message": str(exc)}] if field else None
        )

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return problem(503, "Busy", "every worker is taken: try again shortly", headers={"Retry-After": "1"})

    @app.exception_handler(TimedOut)
    async def timed_out(request: Request, exc: TimedOut) -> JSONResponse:
        limit = request.app.state.ludoforge.settings.timeout_s
        return problem(504, "Generation timed out", f"the work took longer than {limit:g} s: ask for less")

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        # json.loads recurses once per nesting level: a body nested thousands deep is bad input, not a crash.
        return problem(
            422,
            "Invalid request",
            "body: nested too deeply",
            [{"field": "body", "message": "nested too deeply"}],
        )


def _version() -> str:
    try:
        return version("ludoforge")
    except PackageNotFoundError:
        return "0+unknown"


def openapi_json(app: FastAPI) -> str:
    """The app's OpenAPI document as committed in docs/openapi.json (sorted keys, so diffs are stable)."""
    return json.dumps(app.openapi(), indent=1, sort_keys=True) + "\n"
