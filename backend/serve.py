"""`ludoforge serve`: the content API on uvicorn. Loopback by default; any other address needs a token.

With `--workers N` uvicorn runs N processes, each with its own generators and memory cache; give them one
`--cache-dir` and they share the disk cache, the blobs, the uploads and the jobs' folders.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

from backend.settings import ServerSettings, is_loopback

PUBLIC_RATE_LIMIT = 50.0
"""requests a second per client when listening beyond loopback and no --rate-limit is given"""
ENVIRONMENT_KEY = "LUDOFORGE_SERVE_SETTINGS"


def serve(settings: ServerSettings, workers: int = 1, log_level: str = "info") -> None:
    """Run the server until interrupted. uvicorn shuts it down gracefully on SIGINT and SIGTERM: it stops
    accepting, lets open requests finish, then the app stops its jobs (marking them failed, with the reason)."""
    import uvicorn

    from backend.app import create_app
    from engine.errors import InputError

    if not 1 <= workers <= 64:
        raise InputError("workers", f"expected 1..64, got {workers}")
    if settings.rate_limit is None and not is_loopback(settings.host):
        settings = dataclasses.replace(settings, rate_limit=PUBLIC_RATE_LIMIT)
    # the access log: one JSON line a request
    logging.basicConfig(level=log_level.upper(), format="%(message)s")
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "access_log": False,
        "timeout_graceful_shutdown": 30,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **common)
        return
    # Several workers import the app themselves: hand them the settings through the environment.
    os.environ[ENVIRONMENT_KEY] = json.dumps(_to_json(settings))
    uvicorn.run("backend.serve:app_from_environment", factory=True, workers=workers, **common)


def _to_json(settings: ServerSettings) -> dict[str, Any]:
    data = dataclasses.asdict(settings)
    data["cache_dir"] = None if settings.cache_dir is None else str(settings.cache_dir)
    data["cors_origins"] = list(settings.cors_origins)
    return data


def app_from_environment():
    from backend.app import create_app

    data = json.loads(os.environ[ENVIRONMENT_KEY])
    data["cache_dir"] = Path(data["cache_dir"]) if data["cache_dir"] else None
    data["cors_origins"] = tuple(data["cors_origins"])
    return create_app(ServerSettings(**data))
