"""Atomic file writes (temp file, fsync, rename): a crash mid-write leaves the previous file intact."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from engine.errors import OutputError


def atomic_write_bytes(path: str | Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to `path` so that readers see either the old file or the whole new one, never a part. A
    path that cannot be written raises `OutputError` naming it (an OSError too).

    `durable=False` skips the two fsyncs (milliseconds each): the rename still hides a part-written file from
    readers while the machine runs, but a power cut may leave the new name with a short file. Only for files whose
    reader checks them, such as a cache's entries with their digest."""
    path = Path(path)
    try:
        _write(path, data, durable)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from exc


def _write(path: Path, data: bytes, durable: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes 0600 files; a replaced file keeps its mode, a new one is readable like any other output.
        os.fchmod(fd, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if not durable:
        return
    # The rename itself must reach the disk too, or a power cut can bring back the old name.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def json_text(value: Any, **dumps: Any) -> str:
    """`value` as strict JSON, which any engine's parser reads: a NaN or infinite float (a metric not measured,
    such as the success of no episodes yet) becomes null, since JSON has no such numbers."""
    return json.dumps(_finite(value), allow_nan=False, **dumps) + "\n"


def atomic_write_json(path: str | Path, value: Any, **dumps: Any) -> None:
    """`atomic_write_text` of `json_text(value, **dumps)`."""
    atomic_write_text(path, json_text(value, **dumps))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
