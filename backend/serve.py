"""`ludoforge serve`: the content API on uvicorn. Loopback by default; any other address needs a token."""

from __future__ import annotations

from pathlib import Path

from backend.settings import DEFAULT_HOST, DEFAULT_PORT, ServerSettings, read_token


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workers: int = 1,
    token_file: Path | None = None,
    cache_dir: Path | None = None,
) -> None:
    """Run the server until interrupted (uvicorn shuts it down gracefully on SIGINT and SIGTERM)."""
    import uvicorn

    from backend.app import create_app
    from engine.errors import InputError

    if not 1 <= workers <= 64:
        raise InputError("workers", f"expected 1..64, got {workers}")
    settings = ServerSettings(
        host=host, port=port, token=read_token(token_file) if token_file else None, cache_dir=cache_dir
    )
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # Several workers import the app themselves: hand them the settings through the environment.
    import os

    os.environ["LUDOFORGE_SERVE_SETTINGS"] = repr((host, port, settings.token, str(cache_dir or "")))
    uvicorn.run("backend.serve:app_from_environment", factory=True, host=host, port=port, workers=workers)


def app_from_environment():
    import ast
    import os

    from backend.app import create_app

    host, port, token, cache_dir = ast.literal_eval(os.environ["LUDOFORGE_SERVE_SETTINGS"])
    return create_app(
        ServerSettings(host=host, port=port, token=token, cache_dir=Path(cache_dir) if cache_dir else None)
    )
