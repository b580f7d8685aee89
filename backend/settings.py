"""What a running server is configured with, and the rule for where it may listen."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError
from engine.outside import read_outside_text

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8750
MAX_BODY_BYTES = 8 * 1024 * 1024
"""the largest request body read at all: a level of 1024x1024 as JSON is about 6 MB"""
MIN_TOKEN_CHARS = 16


@dataclass(frozen=True)
class ServerSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    """every request needs `Authorization: Bearer <token>` when set; required to listen beyond loopback"""
    max_body_bytes: int = MAX_BODY_BYTES
    cache_dir: Path | None = None
    """answers, blobs, jobs and trained generators live here; without it answers and blobs stay in memory and
    jobs use a temporary folder"""
    load_generators: bool = True
    """load the shipped generators at start-up (`/v1/health` answers only once they are ready)"""
    cache_memory_bytes: int = 256 * 1024 * 1024
    """each of the answer cache and the blob store keeps at most this much in memory"""
    cache_disk_bytes: int = 2 * 1024 * 1024 * 1024
    """and at most this much each in `cache_dir`"""
    threads: int = 2
    """worker threads making content (the torch and solver work)"""
    queue: int = 64
    """requests that may wait for a worker; past that, 503 with Retry-After"""
    timeout_s: float = 30.0
    """a generation that takes longer answers 504"""
    batching: bool = True
    """coalesce concurrent level requests for one generator into one batched pass"""
    generation_process: bool = True
    """make the level batches in a child process with its own interpreter lock, so the GAN and the event loop
    do not wait for each other (off: on the worker threads)"""
    max_batch: int = 64
    """levels in one batched pass at most"""
    max_wait_ms: float = 2.0
    """how long a level request waits for others to join its batch"""
    rate_limit: float | None = None
    """requests per second per client (token or address), with bursts of twice that; None: no limit. `serve`
    sets one by default when it listens beyond loopback"""
    queued_jobs: int = 16
    """jobs that may wait for a worker process; past that, 503 with Retry-After"""
    cors_origins: tuple[str, ...] = ()
    """origins a browser page may call from; none by default"""

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise InputError("port", f"expected 1..65535, got {self.port}")
        if not 1024 <= self.max_body_bytes <= 256 * 1024 * 1024:
            raise InputError("max_body_bytes", f"expected 1 KB..256 MB, got {self.max_body_bytes}")
        bounds = {
            "cache_memory_bytes": (0, 64 * 2**30),
            "cache_disk_bytes": (0, 1024 * 2**30),
            "threads": (1, 64),
            "queue": (0, 10_000),
            "timeout_s": (0.01, 3600),
            "max_batch": (1, 4096),
            "max_wait_ms": (0, 1000),
            "queued_jobs": (0, 100_000),
        }
        for name, (lo, hi) in bounds.items():
            if not lo <= getattr(self, name) <= hi:
                raise InputError(name, f"expected {lo}..{hi}, got {getattr(self, name)}")
        if self.rate_limit is not None and not 0.01 <= self.rate_limit <= 1e6:
            raise InputError("rate_limit", f"expected 0.01..1e6 requests a second, got {self.rate_limit}")
        for origin in self.cors_origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise InputError("cors_origins", f"expected '*' or an http(s) origin, got {origin!r}")
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise InputError("token", f"expected at least {MIN_TOKEN_CHARS} characters")
        if not is_loopback(self.host) and self.token is None:
            raise InputError(
                "host",
                f"{self.host} is reachable from other machines: give a token (--token-file) or bind 127.0.0.1",
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def read_token(path: str | Path) -> str:
    """The token in a file (its first line, stripped), read by the outside-data rule."""
    text = read_outside_text(path, limit=4096).strip().splitlines()
    if not text or not text[0].strip():
        raise InputError("token-file", f"{path} holds no token")
    return text[0].strip()
