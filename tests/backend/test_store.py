"""The byte stores under the answer cache, the blobs and the uploads (backend.store)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from backend import store
from backend.store import CHECKED, ByteStore

KEY = hashlib.sha256(b"a request").hexdigest()
MiB = 1 << 20


def cache(folder: Path, memory: int = MiB, disk: int = MiB) -> ByteStore:
    return ByteStore(memory, folder, disk, write_behind=True)


def test_a_cache_writes_behind_off_the_callers_thread_and_reads_back_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[threading.Thread, bool]] = []
    real = store.atomic_write_bytes

    def recorded(path: Path, data: bytes, durable: bool = True) -> None:
        calls.append((threading.current_thread(), durable))
        real(path, data, durable)

    monkeypatch.setattr(store, "atomic_write_bytes", recorded)
    answers = cache(tmp_path)
    answers.put(KEY, b"the answer")
    assert answers.get(KEY) == b"the answer"
    answers.close()
    assert len(calls) == 1 and calls[0][0] is not threading.current_thread() and calls[0][1] is False
    again = cache(tmp_path)
    assert KEY in again and again.get(KEY) == b"the answer"


def test_an_entry_not_yet_on_disk_and_too_big_for_memory_is_still_served(tmp_path: Path) -> None:
    blobs = cache(tmp_path, memory=4)  # memory holds nothing of 10 bytes
    release, written = threading.Event(), threading.Event()
    real = blobs._write

    def slow(key: str, data: bytes) -> None:
        release.wait(10)
        real(key, data)
        written.set()

    blobs._write = slow  # type: ignore[method-assign]
    blobs.put(KEY, b"0123456789")
    assert blobs.get(KEY) == b"0123456789" and not written.is_set()
    release.set()
    blobs.flush()
    assert written.is_set() and blobs.get(KEY) == b"0123456789"
    blobs.close()


@pytest.mark.parametrize("damage", ["cut short", "a byte changed", "empty", "another entry's file"])
def test_a_cache_file_a_power_cut_damaged_is_a_miss_and_goes(tmp_path: Path, damage: str) -> None:
    answers = cache(tmp_path)
    other = hashlib.sha256(b"another request").hexdigest()
    answers.put(KEY, b"the whole answer")
    answers.put(other, b"another answer")
    answers.close()
    path = tmp_path / (KEY + CHECKED)
    whole = path.read_bytes()
    path.write_bytes(
        {
            "cut short": whole[:-5],
            "a byte changed": whole[:3] + b"X" + whole[4:],
            "empty": b"",
            "another entry's file": (tmp_path / (other + CHECKED)).read_bytes(),
        }[damage]
    )
    again = cache(tmp_path)
    assert again.get(KEY) is None and not path.exists() and KEY not in again
    assert again.get(other) == b"another answer"


def test_plain_files_an_older_server_wrote_are_left_to_it(tmp_path: Path) -> None:
    (tmp_path / KEY).write_bytes(b"an old answer")
    answers = cache(tmp_path)
    assert answers.get(KEY) is None and (tmp_path / KEY).read_bytes() == b"an old answer"
    answers.put(KEY, b"a new answer")
    answers.close()
    assert (tmp_path / KEY).read_bytes() == b"an old answer"  # what the older server reads stays as it was
    assert cache(tmp_path).get(KEY) == b"a new answer"


def test_an_entry_whose_file_went_is_written_again_when_put(tmp_path: Path) -> None:
    """Found by review: a key still in the index but whose file another worker evicted was not written again, and
    an entry too big for memory (a blob whose URL was just handed out) was lost."""
    first = cache(tmp_path)
    first.put(KEY, b"0123456789")
    first.close()
    blobs = cache(tmp_path, memory=4)
    (tmp_path / (KEY + CHECKED)).unlink()  # evicted by a sibling
    blobs.put(KEY, b"0123456789")
    assert blobs.get(KEY) == b"0123456789"
    blobs.close()
    assert cache(tmp_path).get(KEY) == b"0123456789"


def test_an_entry_just_under_the_disk_bound_does_not_evict_everything(tmp_path: Path) -> None:
    """Found by review: the bound was checked without the digest, and an entry in those 32 bytes evicted the
    whole folder and itself."""
    answers = cache(tmp_path, disk=100)
    small = hashlib.sha256(b"small").hexdigest()
    answers.put(small, b"s")
    answers.put(KEY, b"x" * 90)  # 90 + 32 > 100: memory only
    answers.close()
    assert cache(tmp_path, disk=100).get(small) == b"s"


def test_the_writer_survives_an_error_that_is_not_the_disks(tmp_path: Path) -> None:
    answers = cache(tmp_path)
    real, failed = answers._write, []

    def once(key: str, data: bytes) -> None:
        if not failed:
            failed.append(key)
            raise MemoryError
        real(key, data)

    answers._write = once  # type: ignore[method-assign]
    answers.put(KEY, b"lost")
    other = hashlib.sha256(b"next").hexdigest()
    answers.put(other, b"written")
    answers.close()
    assert cache(tmp_path).get(other) == b"written"


def test_a_put_after_close_writes_it_itself(tmp_path: Path) -> None:
    answers = cache(tmp_path)
    answers.close()
    answers.put(KEY, b"late")
    assert (tmp_path / (KEY + CHECKED)).exists() and cache(tmp_path).get(KEY) == b"late"


def test_uploads_are_plain_durable_files_written_before_put_returns(tmp_path: Path) -> None:
    uploads = ByteStore(0, tmp_path, MiB)
    uploads.put(KEY, b"PK corpus")
    assert (tmp_path / KEY).read_bytes() == b"PK corpus" and uploads.get(KEY) == b"PK corpus"


def test_a_writer_too_far_behind_makes_put_write_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "WRITE_BEHIND_BYTES", 4)
    answers = cache(tmp_path)
    answers.put(KEY, b"longer than four")
    assert (tmp_path / (KEY + CHECKED)).exists()  # on disk at once, with its digest
    answers.close()
    assert cache(tmp_path).get(KEY) == b"longer than four"
