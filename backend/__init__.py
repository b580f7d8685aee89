"""The HTTP content backend: a FastAPI app over procgen and agents that engines and web pages call.

`create_app(settings)` builds the app (tests build their own); `ludoforge serve` runs it with uvicorn;
`backend.client` is the typed Python client (it needs httpx only). Nothing imports this package but its tests
and clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backend.app import create_app
    from backend.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazy, so `from backend.client import LudoforgeClient` does not load FastAPI, torch and the generators.
    if name == "create_app":
        from backend.app import create_app

        return create_app
    if name == "ServerSettings":
        from backend.settings import ServerSettings

        return ServerSettings
    raise AttributeError(name)
