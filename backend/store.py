"""Bounded byte stores: the answer cache and the blob store are each one `ByteStore`, an LRU in memory over an
optional LRU folder on disk.

Both bounds are in bytes. Memory holds the most recently used entries; the disk holds more and survives a restart
(several workers may share one folder: each keeps its own index and treats a file another evicted as a miss).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

from engine.atomic import atomic_write_bytes

KEY = re.compile(r"[0-9a-f]{64}")
"""every key is a sha256 in hex, so a key is always a safe file name"""


class ByteStore:
    """`get(key)` / `put(key, data)` with least-recently-used eviction past `memory_bytes` (and `disk_bytes` in
    `folder`, when one is given). Thread-safe: the server's threads share one."""

    def __init__(self, memory_bytes: int, folder: Path | None = None, disk_bytes: int = 0) -> None:
        self.memory_bytes, self.disk_bytes = memory_bytes, disk_bytes
        self.folder = folder
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_used = 0
        self._disk: OrderedDict[str, int] = OrderedDict()
        self._disk_used = 0
        self._lock = threading.Lock()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            found = [p for p in folder.iterdir() if KEY.fullmatch(p.name) and p.is_file()]
            for path in sorted(found, key=lambda p: p.stat().st_mtime):  # oldest first: first to go
                self._disk[path.name] = path.stat().st_size
                self._disk_used += path.stat().st_size
            self._evict_disk()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._memory.get(key)
            if data is not None:
                self._memory.move_to_end(key)
                return data
            if key not in self._disk:
                return None
            self._disk.move_to_end(key)
        try:
            data = (self.folder / key).read_bytes()  # type: ignore[operator]
        except OSError:  # evicted by another worker sharing the folder
            with self._lock:
                self._disk_used -= self._disk.pop(key, 0)
            return None
        self._remember(key, data)
        return data

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._memory or key in self._disk

    def put(self, key: str, data: bytes) -> None:
        if not KEY.fullmatch(key):
            raise ValueError(f"key: expected a sha256 in hex, got {key!r}")
        self._remember(key, data)
        if self.folder is None or len(data) > self.disk_bytes:
            return
        with self._lock:
            if key in self._disk:
                self._disk.move_to_end(key)
                return
        atomic_write_bytes(self.folder / key, data)
        with self._lock:
            if key not in self._disk:
                self._disk[key] = len(data)
                self._disk_used += len(data)
            self._evict_disk()

    def _remember(self, key: str, data: bytes) -> None:
        if len(data) > self.memory_bytes:
            return
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return
            self._memory[key] = data
            self._memory_used += len(data)
            while self._memory_used > self.memory_bytes:
                _, old = self._memory.popitem(last=False)
                self._memory_used -= len(old)

    def _evict_disk(self) -> None:
        """Called with the lock held (or before the store is shared)."""
        while self._disk_used > self.disk_bytes and self._disk:
            key, size = self._disk.popitem(last=False)
            self._disk_used -= size
            with contextlib.suppress(OSError):
                os.unlink(self.folder / key)  # type: ignore[operator]

    @property
    def memory_used(self) -> int:
        return self._memory_used

    @property
    def disk_used(self) -> int:
        return self._disk_used
