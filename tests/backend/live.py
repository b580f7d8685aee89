"""A real server on a loopback port, in a thread, for the tests that talk HTTP (the client, Godot)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from backend import ServerSettings, create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(settings: ServerSettings | None = None, limit_s: float = 120) -> Iterator[str]:
    """Start the app on uvicorn, wait until /v1/health says ready, yield its base URL, then shut it down."""
    port = free_port()
    settings = settings or ServerSettings()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else {}
    deadline = time.monotonic() + limit_s
    while True:
        try:
            if httpx.get(f"{url}/v1/health", headers=headers, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not become ready")
        time.sleep(0.1)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(30)
