"""The app factory: `create_app(settings)` mounts the /v1 routers and the layers every request passes (access log,
CORS, body limit, token, rate limit, cache front; see backend.middleware), and turns every error into RFC 9457
problem details. Each test builds its own app."""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend import art, jobs, levels, meta
from backend.content import Busy, TimedOut
from backend.middleware import (
    PROBLEM,
    AccessLog,
    BodyLimit,
    CacheFront,
    RateLimit,
    TokenCheck,
    cors_middleware,
    problem,
)
from backend.settings import ServerSettings
from backend.state import ServerState
from engine.errors import LudoforgeError

log = logging.getLogger("ludoforge.serve")
SWITCH_INTERVAL_S = 0.0005


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The ludoforge content API under /v1, configured by `settings` (loopback, no token, by default)."""
    settings = settings or ServerSettings()
    state = ServerState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The worker threads run Python (the solver, repair); at the default 5 ms switch interval the event loop
        # waits up to that long for the GIL between requests. 0.5 ms gave 30% more fresh rooms a second here.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        if settings.load_generators:
            state.load()  # once, before the first request: /v1/health says ready only after this
            # The loaded nets, corpora and tables live as long as the server: keep them out of every later
            # garbage collection (the HTTP path alone served 16% more requests a second, 943 -> 1,093).
            gc.collect()
            gc.freeze()
        state.jobs.start()
        yield
        # Graceful shutdown: uvicorn has stopped taking requests and let the open ones finish; now the jobs
        # are stopped and marked, and the workers finish what they hold.
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
    state.jobs = jobs.Jobs(state.home, state)
    # Starlette wraps each added middleware around the ones before it: add the innermost first.
    app.add_middleware(CacheFront, state=state)
    app.add_middleware(RateLimit, rate=settings.rate_limit)
    app.add_middleware(TokenCheck, token=settings.token)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            cors_middleware(),
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "X-Cache", "Retry-After", "Location"],
        )
    app.add_middleware(AccessLog)
    _add_error_handlers(app)
    for router in (meta.router, levels.router, art.router, art.blobs_router, jobs.router):
        app.include_router(router, prefix="/v1", responses=ERRORS)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


class Problem(BaseModel):
    """RFC 9457 problem details: every error answer is one."""

    type: str = "about:blank"
    title: str = Field(examples=["Invalid request"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["n: Input should be less than or equal to 64"])
    errors: list[dict[str, str]] | None = Field(
        None, description="each field at fault ('field', dotted) and what was expected ('message')"
    )


_PROBLEM_CONTENT = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": _PROBLEM_CONTENT}
    for code, text in {
        400: "a body that cannot be parsed at all (not UTF-8, too deeply nested), or a refused CORS preflight",
        401: "a token is required and was missing or wrong",
        404: "no such path, job or blob",
        405: "not a method this path takes",
        413: "the body is over the limit",
        422: "a field is out of bounds or cannot be used: `errors` names it",
        429: "over the rate limit: see Retry-After",
        503: "every worker is busy, or the generators are still loading: see Retry-After",
        504: "the work passed the generation timeout",
    }.items()
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with every error answer documented as what it is: problem details."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
        for schemas in (spec["components"]["schemas"],):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        for route, path in spec["paths"].items():
            for operation in path.values():
                for code, answer in operation.get("responses", {}).items():
                    if code[0] in "45" and not (route == "/v1/health" and code == "503"):  # its own model
                        answer["content"] = _PROBLEM_CONTENT
        app.openapi_schema = spec
    return app.openapi_schema


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_named(e) for e in exc.errors()]
        first = f"{errors[0]['field']}: {errors[0]['message']}" if errors else "invalid request"
        return problem(422, "Invalid request", first, errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        titles = {400: "Bad request", 401: "Unauthorized", 404: "Not found", 405: "Method not allowed"}
        if exc.status_code == 400 and str(exc.detail).startswith("There was an error parsing the body"):
            # FastAPI's own answer to a body json cannot read at all (not UTF-8, a number of thousands of
            # digits, nesting past the recursion limit)
            message = (
                "expected a JSON object the server can parse (UTF-8, numbers under 4,300 digits, nesting)"
            )
            return problem(400, "Bad request", f"body: {message}", [{"field": "body", "message": message}])
        return problem(
            exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail), headers=exc.headers
        )

    # Starlette answers unknown paths and methods before the app's handlers; keep those as problem details too.
    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return await http_error(request, HTTPException(exc.status_code, str(exc.detail), exc.headers))

    @app.exception_handler(LudoforgeError)
    async def project_error(request: Request, exc: LudoforgeError) -> JSONResponse:
        text = str(exc)
        head, sep, _ = text.partition(": ")
        # errors without a field attribute (a RepairError) still start with it: "size: 65x64 is more than ..."
        field = getattr(exc, "field", "") or (head if sep and " " not in head else "")
        message = text.split(f"{field}: ", 1)[-1] if field else text  # the field is named once, in `field`
        return problem(
            422, "Invalid request", text, [{"field": field, "message": message}] if field else None
        )

    @app.exception_handler(Busy)  # and GenerationStopped, a kind of Busy
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        detail = str(exc) or "every worker is taken"
        return problem(503, "Busy", f"{detail}: try again shortly", headers={"Retry-After": "1"})

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


def _named(error: dict[str, Any]) -> dict[str, str]:
    """One of pydantic's errors as {field, message}: the dotted field; "body" for the body as a whole (not JSON,
    not an object, or missing)."""
    loc = [str(p) for p in error.get("loc", ())]
    message = str(error.get("msg"))
    if error.get("type") == "json_invalid":  # loc is ("body", <character offset>)
        where = f" at character {loc[1]}" if len(loc) > 1 else ""
        why = (error.get("ctx") or {}).get("error", "")
        return {"field": "body", "message": f"expected JSON{where}" + (f" ({why})" if why else "")}
    field = ".".join(p for p in loc if p != "body") if loc[:1] == ["body"] else ".".join(loc)
    if loc == ["body"]:
        field = "body"
        if error.get("type") == "missing":
            message = "expected a JSON object, got no body"
        elif error.get("type") in ("model_attributes_type", "dict_type", "model_type"):
            message = f"expected a JSON object, got {type(error.get('input')).__name__}"
    return {"field": field, "message": message}


def _version() -> str:
    try:
        return version("ludoforge")
    except PackageNotFoundError:
        return "0+unknown"


def openapi_json(app: FastAPI) -> str:
    """The app's OpenAPI document as committed in docs/openapi.json (sorted keys, so diffs are stable)."""
    return json.dumps(app.openapi(), indent=1, sort_keys=True) + "\n"
