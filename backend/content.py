"""What every content endpoint shares: the answer (bytes, a strong ETag, how long to keep it), its cache key, how
several files are packed (a zip, or content-addressed blob URLs), and the bounded worker pool that makes them.

A request's answer is a pure function of its canonical body, the server's version and the weights' sha; so the
cache key is the hash of those, the ETag is the hash of the bytes, and `If-None-Match` gets 304.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import struct
import threading
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from fastapi import Request
from fastapi.responses import Response

from engine.errors import InputError

T = TypeVar("T")
Packaging = Literal["zip", "urls", "file"]

MAX_AGE_CONTENT = 86_400
"""a day: the same request gives the same bytes until the server's weights or version change"""
MAX_AGE_BLOB = 31_536_000
"""a year, immutable: a blob's URL is its content hash"""
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
"""every zip entry carries this date, so a zip's bytes depend on its files alone"""
LEVEL_JSON = "application/vnd.ludoforge.level+json"
MEDIA = {
    ".json": "application/json",
    ".tmj": "application/json",
    ".tsj": "application/json",
    ".tmx": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".zip": "application/zip",
}


@dataclass(frozen=True)
class Answer:
    """A finished content answer: the same request always gives these bytes."""

    body: bytes
    media_type: str
    max_age: int = MAX_AGE_CONTENT
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str = ""

    def __post_init__(self) -> None:
        if not self.etag:
            object.__setattr__(self, "etag", f'"{hashlib.sha256(self.body).hexdigest()}"')

    def to_bytes(self) -> bytes:
        head = json.dumps(
            {
                "media_type": self.media_type,
                "max_age": self.max_age,
                "headers": dict(self.headers),
                "etag": self.etag,
            }
        ).encode()
        return struct.pack(">I", len(head)) + head + self.body

    @classmethod
    def from_bytes(cls, data: bytes) -> Answer:
        (size,) = struct.unpack(">I", data[:4])
        head = json.loads(data[4 : 4 + size])
        return cls(data[4 + size :], head["media_type"], head["max_age"], head["headers"], head["etag"])

    def response(self, if_none_match: str | None, cache: str) -> Response:
        """200 with the body, or 304 when `If-None-Match` names this answer's ETag (or is `*`)."""
        headers = {
            "ETag": self.etag,
            "Cache-Control": f"public, max-age={self.max_age}"
            + (", immutable" if self.max_age == MAX_AGE_BLOB else ""),
            "X-Cache": cache,
            **self.headers,
        }
        if if_none_match and etag_matches(if_none_match, self.etag):
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110's weak comparison, which `If-None-Match` uses: `*`, or any listed tag equal but for `W/`."""
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def cache_key(endpoint: str, canonical: Mapping[str, Any], version: str, weights: Mapping[str, str]) -> str:
    """The sha256 of everything an answer depends on: the endpoint, the canonical request, the server's version
    and the sha of each weights file used."""
    text = json.dumps(
        {"endpoint": endpoint, "request": canonical, "version": version, "weights": dict(weights)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """The files as a zip whose bytes depend on the files alone (fixed dates and order)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def media_type(name: str) -> str:
    return MEDIA.get("." + name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def blob_entry(name: str, data: bytes, blobs: Any) -> dict[str, Any]:
    """Store `data` as a blob and describe it for a manifest: its name, URL, sha256, size and media type."""
    sha = hashlib.sha256(data).hexdigest()
    blobs.put(sha, data)
    return {
        "name": name,
        "url": f"/v1/blobs/{sha}",
        "sha256": sha,
        "bytes": len(data),
        "media_type": media_type(name),
    }


def packed(
    files: Mapping[str, bytes],
    manifest: dict[str, Any],
    packaging: Packaging,
    blobs: Any,
    field_name: str,
    json_file_media: str = "application/json",
) -> Answer:
    """Several files as one answer: a zip with manifest.json beside them, or the manifest (JSON) with each file
    as a blob URL, or (`file`) the one file itself when there is exactly one."""
    if packaging == "file":
        if len(files) != 1:
            raise InputError(
                field_name,
                f"'file' needs exactly one file, and this answer has {len(files)}: use zip or urls",
            )
        ((name, data),) = files.items()
        # A lone level .json file has its own media type (LEVEL_JSON), which keeps it apart from a JSON answer.
        kind = json_file_media if name.endswith(".json") else media_type(name)
        return Answer(data, kind, headers={"Content-Disposition": f'inline; filename="{name}"'})
    if packaging == "urls":
        body = {**manifest, "files": [blob_entry(n, d, blobs) for n, d in files.items()]}
        return Answer(json_bytes(body), "application/json")
    listing = {**manifest, "files": list(files)}
    archive = zip_bytes({**files, "manifest.json": json_bytes(listing)})
    return Answer(
        archive, "application/zip", headers={"Content-Disposition": 'attachment; filename="content.zip"'}
    )


def json_bytes(value: Any) -> bytes:
    return (json.dumps(value, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")


class Busy(Exception):
    """Every worker is taken and the queue is full: 503, try again shortly."""


class TimedOut(Exception):
    """The work took longer than the generation timeout: 504."""


class Workers:
    """The threads that make content, bounded: at most `threads` run and `queue` more wait; past that a request
    is Busy (503 + Retry-After) at once instead of piling up. Work that passes `timeout_s` answers 504; its
    thread finishes the (bounded) work and is counted until it does, so timed-out work cannot pile up either."""

    def __init__(self, threads: int, queue: int, timeout_s: float) -> None:
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="ludoforge-work")
        self.capacity = threads + queue
        self.timeout_s = timeout_s
        self._in_flight = 0
        self._lock = threading.Lock()

    async def run(self, work: Callable[[], T], timeout_s: float | None = None) -> T:
        with self._lock:
            if self._in_flight >= self.capacity:
                raise Busy
            self._in_flight += 1
        future = self.pool.submit(work)
        future.add_done_callback(self._done)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout_s or self.timeout_s)
        except TimeoutError:
            future.cancel()  # only stops it if it has not started; a started one runs to its bounded end
            raise TimedOut from None

    def _done(self, _future: object) -> None:
        with self._lock:
            self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


async def serve_answer(
    request: Request,
    canonical: Mapping[str, Any],
    weights: Mapping[str, str],
    make: Callable[[], Awaitable[Answer]],
) -> Response:
    """The cached answer for this canonical request, or the one `make()` gives (it runs the work on the
    workers), then cached; 304 when the client's `If-None-Match` already names it."""
    state = request.app.state.ludoforge
    key = cache_key(request.url.path, canonical, request.app.version, weights)
    stored = state.answers.get(key)
    if stored is not None:
        answer, hit = Answer.from_bytes(stored), "hit"
    else:
        answer, hit = await make(), "miss"
        state.answers.put(key, answer.to_bytes())
    request.scope["ludoforge.cache"] = hit
    raw_key = request.scope.get("ludoforge.raw_key")
    if raw_key is not None:
        state.remember_raw(raw_key, key)
    return answer.response(request.headers.get("if-none-match"), hit)
