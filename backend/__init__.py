"""The HTTP content backend: a FastAPI app over procgen and agents that engines and web pages call.

`create_app(settings)` builds the app (tests build their own); `ludoforge serve` runs it with uvicorn. Nothing
imports this package but its tests and clients.
"""

from backend.app import create_app
from backend.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
