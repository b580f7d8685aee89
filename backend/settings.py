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
    load_generators: bool = True
    """load the shipped generators at start-up (`/v1/health` answers only once they are ready)"""

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise InputError("port", f"expected 1..65535, got {self.port}")
        if not 1024 <= self.max_body_bytes <= 256 * 1024 * 1024:
            raise InputError("max_body_bytes", f"expected 1 KB..256 MB, got {self.max_body_bytes}")
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
