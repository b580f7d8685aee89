"""`LudoforgeClient` and `AsyncLudoforgeClient`: the content API from Python, on httpx.

    from backend.client import LudoforgeClient
    with LudoforgeClient("http://127.0.0.1:8750") as api:
        rooms = api.levels(n=4, seed=7, conditions={"doors": {"north": [7]}}).json()["levels"]
        files = api.tileset(seed=7).files()                 # {"atlas.png": b"...", "tileset.tsj": ..., ...}
        job = api.wait(api.submit_job({"kind": "levels", "n": 2000, "seed": 7}))

Every method mirrors one endpoint, takes its fields as keyword arguments and returns an `Answer` (or, for jobs,
the job's status). The client remembers each answer's ETag and sends If-None-Match, so asking again costs a 304.
Errors are typed: `InvalidRequest` (422, naming the field), `Unauthorized`, `NotFound`, `TooLarge`,
`RateLimited` and `Busy` (with `retry_after`), `TimedOut`. Importing this module needs httpx only.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8750"
CACHE_ENTRIES = 256


class ApiError(Exception):
    """A problem-details answer: `status`, `title`, `detail`, and `errors` naming each field at fault."""

    def __init__(
        self, status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        self.status, self.title, self.detail, self.errors = status, title, detail, errors or []
        super().__init__(f"{status} {title}: {detail}")

    @property
    def field(self) -> str | None:
        return self.errors[0]["field"] if self.errors else None


class InvalidRequest(ApiError):
    """400 or 422: the request is wrong; `field` names where."""


class Unauthorized(ApiError):
    """401: the server needs a token (`token=` on the client)."""


class NotFound(ApiError):
    """404: no such path, job or blob."""


class TooLarge(ApiError):
    """413: the body is over the server's limit."""


class RateLimited(ApiError):
    """429: over the rate limit; wait `retry_after` seconds."""

    retry_after: float = 1.0


class Busy(ApiError):
    """503: every worker is busy (or the server is still loading); wait `retry_after` seconds."""

    retry_after: float = 1.0


class TimedOut(ApiError):
    """504: the work took longer than the server's generation timeout; ask for less."""


ERRORS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    404: NotFound,
    413: TooLarge,
    422: InvalidRequest,
    429: RateLimited,
    503: Busy,
    504: TimedOut,
}


@dataclass(frozen=True)
class Answer:
    """One content answer: its bytes, media type and ETag; `json()` and `files()` read it."""

    body: bytes
    media_type: str
    etag: str | None
    headers: dict[str, str] = field(default_factory=dict)
    from_cache: bool = False
    """True when the server answered 304 and these are the bytes remembered from before"""

    def json(self) -> Any:
        return json.loads(self.body)

    def files(self) -> dict[str, bytes]:
        """The files of a zip answer by name (a single-file answer is {"": body})."""
        if self.media_type != "application/zip":
            return {"": self.body}
        with zipfile.ZipFile(io.BytesIO(self.body)) as z:
            return {name: z.read(name) for name in z.namelist()}


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    cls = ERRORS.get(response.status_code, ApiError)
    error = cls(
        response.status_code,
        str(body.get("title", response.reason_phrase)),
        str(body.get("detail", response.text[:200])),
        body.get("errors"),
    )
    if isinstance(error, RateLimited | Busy):
        error.retry_after = float(response.headers.get("retry-after", 1))
    raise error


def _body(**fields: Any) -> dict[str, Any]:
    """The request body: the fields given, without those left at None (the server's defaults apply)."""
    return {k: v for k, v in fields.items() if v is not None}


class _Requests:
    """What the two clients share: the endpoint bodies and the ETag memory."""

    def __init__(self) -> None:
        self._remembered: OrderedDict[str, Answer] = OrderedDict()

    def _key(self, method: str, path: str, payload: Any, params: Any) -> str:
        return json.dumps(
            [method, path, payload if not isinstance(payload, bytes) else payload.hex(), params],
            sort_keys=True,
        )

    def _prepare(self, key: str) -> dict[str, str]:
        known = self._remembered.get(key)
        return {"If-None-Match": known.etag} if known is not None and known.etag else {}

    def _finish(self, key: str, response: httpx.Response) -> Answer:
        if response.status_code == 304 and key in self._remembered:
            self._remembered.move_to_end(key)
            cached = self._remembered[key]
            return Answer(cached.body, cached.media_type, cached.etag, cached.headers, from_cache=True)
        _raise_for(response)
        answer = Answer(
            response.content,
            response.headers.get("content-type", "application/octet-stream").split(";")[0],
            response.headers.get("etag"),
            dict(response.headers),
        )
        if answer.etag:
            self._remembered[key] = answer
            while len(self._remembered) > CACHE_ENTRIES:
                self._remembered.popitem(last=False)
        return answer


class LudoforgeClient(_Requests):
    """The content API, synchronously. `token` is sent as `Authorization: Bearer` (needed beyond loopback)."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        token: str | None = None,
        timeout: float = 60.0,
        transport: Any = None,
    ) -> None:
        super().__init__()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> LudoforgeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _call(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        content: bytes | None = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        key = self._key(method, path, json_body if content is None else content, params)
        sent = {**self._prepare(key), **(headers or {})}
        response = self.http.request(
            method, path, json=json_body, content=content, params=params, headers=sent
        )
        return self._finish(key, response)

    # ------------------------------------------------------------------------------------------- meta
    def health(self) -> dict[str, Any]:
        return self.http.get("/v1/health").json()

    def info(self) -> dict[str, Any]:
        return self._call("GET", "/v1/info").json()

    # ----------------------------------------------------------------------------------------- levels
    def levels(
        self,
        *,
        generator: str | None = None,
        n: int | None = None,
        seed: int | None = None,
        conditions: dict[str, Any] | None = None,
        target: dict[str, float] | None = None,
        repair: bool | None = None,
        format: str | None = None,
        packaging: str | None = None,
    ) -> Answer:
        """`POST /v1/levels`: n levels, each with its solver result (JSON unless another format is asked)."""
        body = _body(
            generator=generator,
            n=n,
            seed=seed,
            conditions=conditions,
            target=target,
            repair=repair,
            format=format,
            packaging=packaging,
        )
        return self._call("POST", "/v1/levels", body)

    def check(
        self,
        level: dict[str, Any] | str,
        *,
        format: str = "json",
        legend: dict[str, Any] | None = None,
        genre: dict[str, Any] | None = None,
        room: bool = False,
    ) -> dict[str, Any]:
        """`POST /v1/levels/check`: the solver's verdict on your level."""
        body = _body(level=level, format=format, legend=legend, genre=genre, room=room)
        return self._call("POST", "/v1/levels/check", body).json()

    def repair(
        self,
        level: dict[str, Any] | str,
        *,
        format: str = "json",
        legend: dict[str, Any] | None = None,
        genre: dict[str, Any] | None = None,
        room: bool = False,
        max_edit_fraction: float | None = None,
        out_format: str | None = None,
        packaging: str | None = None,
    ) -> Answer:
        """`POST /v1/levels/repair`: your level made playable with the fewest edits."""
        body = _body(
            level=level,
            format=format,
            legend=legend,
            genre=genre,
            room=room,
            max_edit_fraction=max_edit_fraction,
            out_format=out_format,
            packaging=packaging,
        )
        return self._call("POST", "/v1/levels/repair", body)

    def dungeon(
        self,
        *,
        seed: int | None = None,
        rooms: int | None = None,
        branches: int | None = None,
        locked_doors: int | None = None,
        room_density: dict[str, float] | None = None,
        room_source: str | None = None,
        cast: bool | None = None,
        format: str | None = None,
        packaging: str | None = None,
    ) -> Answer:
        """`POST /v1/dungeons`: a whole dungeon, playable end to end."""
        body = _body(
            seed=seed,
            rooms=rooms,
            branches=branches,
            locked_doors=locked_doors,
            room_density=room_density,
            room_source=room_source,
            cast=cast,
            format=format,
            packaging=packaging,
        )
        return self._call("POST", "/v1/dungeons", body)

    # -------------------------------------------------------------------------------------------- art
    def textures(
        self,
        *,
        theme: str | None = None,
        size: int | None = None,
        n: int | None = None,
        seed: int | None = None,
        packaging: str | None = None,
    ) -> Answer:
        return self._call(
            "POST", "/v1/textures", _body(theme=theme, size=size, n=n, seed=seed, packaging=packaging)
        )

    def tileset(
        self,
        *,
        seed: int | None = None,
        tile_px: int | None = None,
        packaging: str | None = None,
        **themes: str,
    ) -> Answer:
        """`POST /v1/tilesets`; `themes` are floor=, wall=, hazard=, water=, door=, decoration=."""
        return self._call(
            "POST", "/v1/tilesets", _body(seed=seed, tile_px=tile_px, packaging=packaging, **themes)
        )

    def sprites(
        self, *, seed: int | None = None, classes: list[str] | None = None, packaging: str | None = None
    ) -> Answer:
        return self._call("POST", "/v1/sprites", _body(seed=seed, classes=classes, packaging=packaging))

    def style_transfer(
        self,
        exemplar: bytes,
        *,
        theme: str | None = None,
        seed: int | None = None,
        size: int | None = None,
        steps: int | None = None,
    ) -> Answer:
        params = _body(theme=theme, seed=seed, size=size, steps=steps)
        return self._call(
            "POST",
            "/v1/style-transfer",
            content=exemplar,
            params=params,
            headers={"Content-Type": "image/png"},
        )

    def blob(self, url_or_sha: str) -> bytes:
        path = url_or_sha if url_or_sha.startswith("/") else f"/v1/blobs/{url_or_sha}"
        return self._call("GET", path).body

    # ------------------------------------------------------------------------------------------- jobs
    def upload(self, data: bytes) -> str:
        """`POST /v1/uploads`: keep a file (a corpus zip, a style image) for a job; returns its sha256."""
        response = self.http.post(
            "/v1/uploads", content=data, headers={"Content-Type": "application/octet-stream"}
        )
        _raise_for(response)
        return response.json()["sha256"]

    def submit_job(self, job: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post("/v1/jobs", json={"job": job})
        _raise_for(response)
        return response.json()

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/jobs/{job_id}")
        _raise_for(response)
        return response.json()

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        response = self.http.delete(f"/v1/jobs/{job_id}")
        _raise_for(response)
        return response.json()

    def wait(self, job: dict[str, Any] | str, poll_s: float = 0.5, timeout_s: float = 3600) -> dict[str, Any]:
        """Poll a job until it is no longer queued or running; returns its final status."""
        job_id = job if isinstance(job, str) else job["id"]
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.job(job_id)
            if status["state"] not in ("queued", "running") or time.monotonic() > deadline:
                return status
            time.sleep(poll_s)

    def job_file(self, url: str) -> bytes:
        response = self.http.get(url)
        _raise_for(response)
        return response.content


class AsyncLudoforgeClient(_Requests):
    """The same API with `await`: every method of `LudoforgeClient`, as a coroutine."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        token: str | None = None,
        timeout: float = 60.0,
        transport: Any = None,
    ) -> None:
        super().__init__()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> AsyncLudoforgeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        content: bytes | None = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        key = self._key(method, path, json_body if content is None else content, params)
        sent = {**self._prepare(key), **(headers or {})}
        response = await self.http.request(
            method, path, json=json_body, content=content, params=params, headers=sent
        )
        return self._finish(key, response)

    async def health(self) -> dict[str, Any]:
        return (await self.http.get("/v1/health")).json()

    async def info(self) -> dict[str, Any]:
        return (await self._call("GET", "/v1/info")).json()

    async def levels(self, **fields: Any) -> Answer:
        """`POST /v1/levels` (the fields as for `LudoforgeClient.levels`)."""
        return await self._call("POST", "/v1/levels", _body(**fields))

    async def check(self, level: dict[str, Any] | str, **fields: Any) -> dict[str, Any]:
        return (await self._call("POST", "/v1/levels/check", _body(level=level, **fields))).json()

    async def repair(self, level: dict[str, Any] | str, **fields: Any) -> Answer:
        return await self._call("POST", "/v1/levels/repair", _body(level=level, **fields))

    async def dungeon(self, **fields: Any) -> Answer:
        return await self._call("POST", "/v1/dungeons", _body(**fields))

    async def textures(self, **fields: Any) -> Answer:
        return await self._call("POST", "/v1/textures", _body(**fields))

    async def tileset(self, **fields: Any) -> Answer:
        return await self._call("POST", "/v1/tilesets", _body(**fields))

    async def sprites(self, **fields: Any) -> Answer:
        return await self._call("POST", "/v1/sprites", _body(**fields))

    async def style_transfer(self, exemplar: bytes, **params: Any) -> Answer:
        return await self._call(
            "POST",
            "/v1/style-transfer",
            content=exemplar,
            params=_body(**params),
            headers={"Content-Type": "image/png"},
        )

    async def blob(self, url_or_sha: str) -> bytes:
        path = url_or_sha if url_or_sha.startswith("/") else f"/v1/blobs/{url_or_sha}"
        return (await self._call("GET", path)).body

    async def upload(self, data: bytes) -> str:
        response = await self.http.post(
            "/v1/uploads", content=data, headers={"Content-Type": "application/octet-stream"}
        )
        _raise_for(response)
        return response.json()["sha256"]

    async def submit_job(self, job: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post("/v1/jobs", json={"job": job})
        _raise_for(response)
        return response.json()

    async def job(self, job_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/jobs/{job_id}")
        _raise_for(response)
        return response.json()

    async def cancel_job(self, job_id: str) -> dict[str, Any]:
        response = await self.http.delete(f"/v1/jobs/{job_id}")
        _raise_for(response)
        return response.json()

    async def wait(
        self, job: dict[str, Any] | str, poll_s: float = 0.5, timeout_s: float = 3600
    ) -> dict[str, Any]:
        job_id = job if isinstance(job, str) else job["id"]
        deadline = time.monotonic() + timeout_s
        while True:
            status = await self.job(job_id)
            if status["state"] not in ("queued", "running") or time.monotonic() > deadline:
                return status
            await asyncio.sleep(poll_s)

    async def job_file(self, url: str) -> bytes:
        response = await self.http.get(url)
        _raise_for(response)
        return response.content
