"""The byte stores under the answer cache, the blobs and the uploads (backend.store)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from backend import store
from backend.store import ByteStore

KEY = hashlib.sha256(b"a request").hexdigest()


def test_a_cache_writes_behind_off_the_callers_thread_and_reads_back_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers, durable = [], []
    real = store.atomic_write_bytes

    def recorded(path: Path, data: bytes, is_durable: bool = True) -> None:
        writers.append(threading.current_thread())
        durable.append(is_durable)
        real(path, data, is_durable)

    monkeypatch.setattr(store, "atomic_write_bytes", recorded)
    cache = ByteStore(1 << 20, tmp_path, 1 << 20, write_behind=True)
    cache.put(KEY, b"the answer")
    assert cache.get(KEY) == b"the answer"
    cache.close()
    assert writers and threading.current_thread() not in writers and durable == [False]
    again = ByteStore(1 << 20, tmp_path, 1 << 20, write_behind=True)
    assert KEY in again and again.get(KEY) == b"the answer"


def test_an_entry_not_yet_on_disk_and_too_big_for_memory_is_still_served(tmp_path: Path) -> None:
    cache = ByteStore(4, tmp_path, 1 << 20, write_behind=True)  # memory holds nothing of 10 bytes
    written = threading.Event()
    release = threading.Event()
    real = cache._write

    def slow(key: str, data: bytes, durable: bool) -> None:
        release.wait(10)
        real(key, data, durable)
        written.set()

    cache._write = slow  # type: ignore[method-assign]
    cache.put(KEY, b"0123456789")
    assert cache.get(KEY) == b"0123456789" and not written.is_set()
    release.set()
    cache.flush()
    assert written.is_set() and cache.get(KEY) == b"0123456789"
    cache.close()


@pytest.mark.parametrize("damage", ["cut short", "a byte changed", "empty", "an old plain file"])
def test_a_cache_file_a_power_cut_damaged_is_a_miss_and_goes(tmp_path: Path, damage: str) -> None:
    cache = ByteStore(1 << 20, tmp_path, 1 << 20, write_behind=True)
    cache.put(KEY, b"the whole answer")
    cache.close()
    path = tmp_path / KEY
    whole = path.read_bytes()
    path.write_bytes(
        {
            "cut short": whole[:-5],
            "a byte changed": whole[:3] + b"X" + whole[4:],
            "empty": b"",
            "an old plain file": b"the whole answer",
        }[damage]
    )
    again = ByteStore(1 << 20, tmp_path, 1 << 20, write_behind=True)
    assert again.get(KEY) is None and not path.exists() and KEY not in again


def test_uploads_are_plain_durable_files_written_before_put_returns(tmp_path: Path) -> None:
    uploads = ByteStore(0, tmp_path, 1 << 20)
    uploads.put(KEY, b"PK corpus")
    assert (tmp_path / KEY).read_bytes() == b"PK corpus" and uploads.get(KEY) == b"PK corpus"


def test_a_writer_too_far_behind_makes_put_write_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "WRITE_BEHIND_BYTES", 4)
    cache = ByteStore(1 << 20, tmp_path, 1 << 20, write_behind=True)
    cache.put(KEY, b"longer than four")
    assert (tmp_path / KEY).exists()  # on disk at once, with its digest
    cache.close()
    assert ByteStore(1 << 20, tmp_path, 1 << 20, write_behind=True).get(KEY) == b"longer than four"
