"""Bounded byte stores: the answer cache and the blob store are each one `ByteStore`, an LRU in memory over an
optional LRU folder on disk.

Both bounds are in bytes. Memory holds the most recently used entries; the disk holds more and survives a restart
(several workers may share one folder: each keeps its own index and treats a file another evicted as a miss).

A cache's disk copy is written behind (`write_behind=True`): `put` returns once the entry is in memory, and one
thread writes the files after, without fsync, each named `<key>.checked` and holding the sha256 of its key and
data after the data. A request then never waits on the disk, and a file a power cut left short fails its digest
on reading and is a miss. (The suffix keeps these files apart from the plain ones an older server wrote and
reads.) The uploads store writes plain, durable files at once, since a job's worker reads them by path.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import re
import threading
from collections import OrderedDict
from pathlib import Path

from engine.atomic import atomic_write_bytes

KEY = re.compile(r"[0-9a-f]{64}")
"""every key is a sha256 in hex, so a key is always a safe file name"""
WRITE_BEHIND_BYTES = 64 * 2**20
"""at most this much waits for the writer; past it `put` writes the entry itself"""
DIGEST = 32
CHECKED = ".checked"
"""the suffix of a file written behind (data, then its digest)"""

log = logging.getLogger("ludoforge.store")


class ByteStore:
    """`get(key)` / `put(key, data)` with least-recently-used eviction past `memory_bytes` (and `disk_bytes` in
    `folder`, when one is given). Thread-safe: the server's threads share one."""

    def __init__(
        self, memory_bytes: int, folder: Path | None = None, disk_bytes: int = 0, write_behind: bool = False
    ) -> None:
        self.memory_bytes, self.disk_bytes = memory_bytes, disk_bytes
        self.folder = folder
        self.write_behind = write_behind
        self._suffix = CHECKED if write_behind else ""
        self._writes: queue.Queue[str | None] = queue.Queue()
        self._pending: dict[str, bytes] = {}  # written behind, not yet on disk: still served from here
        self._pending_bytes = 0
        self._writer: threading.Thread | None = None
        self._closed = False
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_used = 0
        self._disk: OrderedDict[str, int] = OrderedDict()
        self._disk_used = 0
        self._lock = threading.Lock()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            found = []
            for path in folder.iterdir():
                key = path.name.removesuffix(self._suffix) if path.name.endswith(self._suffix) else ""
                if KEY.fullmatch(key):
                    with contextlib.suppress(OSError):  # another worker evicted it meanwhile
                        info = path.stat()
                        found.append((info.st_mtime, key, info.st_size))
            for _, key, size in sorted(found):  # oldest first: first to go
                self._disk[key] = size
                self._disk_used += size
            self._unlink(self._evict_disk())

    def _path(self, key: str) -> Path:
        return self.folder / (key + self._suffix)  # type: ignore[operator]

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._memory.get(key)
            if data is not None:
                self._memory.move_to_end(key)
                return data
            data = self._pending.get(key)
            if data is not None:
                return data
            if key not in self._disk:
                return None
            self._disk.move_to_end(key)
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:  # evicted by another worker sharing the folder
            data = None
        if data is not None and self.write_behind:
            data, digest = data[:-DIGEST], data[-DIGEST:]
            if len(digest) < DIGEST or _digest(key, data) != digest:
                data = None  # cut short by a power cut: make it again
                with contextlib.suppress(OSError):
                    path.unlink()
        if data is None:
            with self._lock:
                self._disk_used -= self._disk.pop(key, 0)
            return None
        self._remember(key, data)
        return data

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._memory or key in self._pending or key in self._disk

    def put(self, key: str, data: bytes) -> None:
        if not KEY.fullmatch(key):
            raise ValueError(f"key: expected a sha256 in hex, got {key!r}")
        self._remember(key, data)
        stored = len(data) + (DIGEST if self.write_behind else 0)
        if self.folder is None or stored > self.disk_bytes:
            return
        with self._lock:
            if key in self._pending:
                return
            if key in self._disk:
                if not self.write_behind:
                    self._disk.move_to_end(key)
                    return
                # Its file may be gone (another worker evicted it) or damaged, and memory may not hold the entry
                # (a blob larger than it, whose URL was just handed out): write it again, served from pending.
                self._disk_used -= self._disk.pop(key)
            if (
                self.write_behind
                and not self._closed
                and self._pending_bytes + len(data) <= WRITE_BEHIND_BYTES
            ):
                self._pending[key] = data
                self._pending_bytes += len(data)
                if self._writer is None:
                    self._writer = threading.Thread(
                        target=self._write_behind, name="cache-writer", daemon=True
                    )
                    self._writer.start()
                self._writes.put(key)
                return
        # The writer is this far behind (or stopped), or this store is durable: write it here.
        self._write(key, data)

    def _write_behind(self) -> None:
        while (key := self._writes.get()) is not None:
            data = self._pending[key]
            try:
                self._write(key, data)
            except (
                OSError,
                MemoryError,
            ):  # OutputError (a full or read-only disk), or no memory for the copy
                log.warning("the cache could not write %s", self._path(key), exc_info=True)
            finally:
                with self._lock:
                    self._pending_bytes -= len(self._pending.pop(key))
                self._writes.task_done()
        self._writes.task_done()

    def flush(self) -> None:
        """Wait until every entry written behind is on disk (or refused by it)."""
        if self._writer is not None:
            self._writes.join()

    def close(self) -> None:
        """Flush and stop the writer; a later `put` writes its entry itself."""
        with self._lock:
            self._closed = True
            writer, self._writer = self._writer, None
            if writer is not None:
                self._writes.put(None)  # after every key queued so far, and none is queued after it
        if writer is not None:
            writer.join()

    def _write(self, key: str, data: bytes) -> None:
        if self.write_behind:
            atomic_write_bytes(self._path(key), data + _digest(key, data), durable=False)
        else:
            atomic_write_bytes(self._path(key), data)
        size = len(data) + (DIGEST if self.write_behind else 0)
        with self._lock:
            self._disk_used += size - self._disk.get(key, 0)
            self._disk[key] = size
            self._disk.move_to_end(key)
            evicted = self._evict_disk()
        self._unlink(evicted)

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

    def _evict_disk(self) -> list[str]:
        """Called with the lock held (or before the store is shared): takes the oldest entries past the bound off
        the index, and gives their keys for `_unlink` to delete after the lock is released."""
        evicted = []
        while self._disk_used > self.disk_bytes and self._disk:
            key, size = self._disk.popitem(last=False)
            self._disk_used -= size
            evicted.append(key)
        return evicted

    def _unlink(self, keys: list[str]) -> None:
        for key in keys:
            with contextlib.suppress(OSError):
                self._path(key).unlink()

    @property
    def memory_used(self) -> int:
        return self._memory_used

    @property
    def disk_used(self) -> int:
        return self._disk_used


def _digest(key: str, data: bytes) -> bytes:
    """The sha256 of the key and the data: a whole file under another entry's name fails it too."""
    return hashlib.sha256(key.encode() + data).digest()
