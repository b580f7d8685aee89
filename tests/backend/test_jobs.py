"""Jobs: a caller's corpus zip trains a generator that then samples playable levels; big batches; cancel stops
the worker; a restart or a shutdown marks running jobs failed; hostile zips are refused before anything is
written."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend import ServerSettings, create_app
from engine.formats.json_level import level_from_dict
from procgen.levels.solver import is_playable

ROOMS = Path(__file__).resolve().parents[2] / "procgen" / "data" / "dungeon"


def corpus_zip(count: int = 12) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(ROOMS / "legend.json", "my_rooms/legend.json")
        for path in sorted((ROOMS / "rooms").glob("*.txt"))[:count]:
            z.write(path, f"my_rooms/{path.name}")
    return buf.getvalue()


def wait(client: TestClient, job_id: str, limit_s: float = 240) -> dict:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        status = client.get(f"/v1/jobs/{job_id}").json()
        assert 0 <= status["progress"] <= 1
        if status["state"] not in ("queued", "running"):
            return status
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still {status['state']} after {limit_s} s")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve-home")


@pytest.fixture(scope="module")
def client(home: Path) -> TestClient:
    with TestClient(create_app(ServerSettings(cache_dir=home))) as c:
        yield c


def submit(client: TestClient, job: dict) -> dict:
    answer = client.post("/v1/jobs", json={"job": job})
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/v1/jobs/{answer.json()['id']}"
    return answer.json()


def test_a_corpus_zip_trains_a_generator_whose_levels_are_playable(client: TestClient, home: Path) -> None:
    upload = client.post("/v1/uploads", content=corpus_zip()).json()
    # a sibling server process on the same folder, started before the generator exists
    sibling = TestClient(create_app(ServerSettings(cache_dir=home, load_generators=False)))
    sibling.__enter__()
    job = submit(
        client, {"kind": "train-levels", "corpus": upload["sha256"], "iterations": 2, "eval_samples": 16}
    )
    done = wait(client, job["id"])
    assert done["state"] == "succeeded", done["error"]
    generator = done["result"]["generator"]
    card = done["result"]["card"]
    assert (
        card["data"]["originals"] == 12
        and card["metrics"]["samples"] == 16
        and len(card["weights_sha256"]) == 64
    )
    assert client.get(done["result"]["files"][0]).json()["weights_sha256"] == card["weights_sha256"]
    assert generator in client.get("/v1/info").json()["generators"]
    answer = client.post("/v1/levels", json={"generator": generator, "n": 16, "seed": 5})
    assert answer.status_code == 200
    for entry in answer.json()["levels"]:
        assert is_playable(level_from_dict(entry["level"]), room=True)
    # the sibling loads it when a request first names it, and gives the same bytes
    try:
        from_sibling = sibling.post("/v1/levels", json={"generator": generator, "n": 16, "seed": 5})
        assert from_sibling.status_code == 200, from_sibling.text
        assert from_sibling.content == answer.content
    finally:
        sibling.__exit__(None, None, None)
    # the generator is loaded again by a server that restarts on the same folder
    with TestClient(create_app(ServerSettings(cache_dir=home))) as again:
        assert again.post("/v1/levels", json={"generator": generator, "seed": 5}).status_code == 200


def test_a_big_batch_of_levels_is_a_job_with_its_result_as_a_file(client: TestClient) -> None:
    done = wait(client, submit(client, {"kind": "levels", "n": 300, "seed": 2})["id"])
    assert done["state"] == "succeeded" and done["result"]["levels"] == 300 == done["result"]["playable"]
    archive = zipfile.ZipFile(io.BytesIO(client.get(done["result"]["files"][0]).content))
    manifest = json.loads(archive.read("manifest.json"))
    assert len(manifest["levels"]) == 300
    level = level_from_dict(json.loads(archive.read(manifest["levels"][-1]["files"][0])))
    assert is_playable(level, room=True)


def test_cancelling_a_job_stops_its_worker(client: TestClient) -> None:
    job = submit(client, {"kind": "sprites", "classes": ["hero", "enemy_slime"], "n": 4096})
    jobs = client.app.state.ludoforge.jobs
    deadline = time.monotonic() + 30
    while job["id"] not in jobs.processes and time.monotonic() < deadline:
        time.sleep(0.05)
    process = jobs.processes[job["id"]]
    cancelled = client.delete(f"/v1/jobs/{job['id']}").json()
    assert cancelled["state"] == "cancelled"
    assert process.poll() is not None  # the worker process is gone
    assert client.get(f"/v1/jobs/{job['id']}").json()["state"] == "cancelled"


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ({"../evil.txt": b"x"}, "outside the folder"),
        ({"/abs/evil.txt": b"x"}, "outside the folder"),
        ({f"r/{i}.txt": b"W" for i in range(2001)}, "at most 2000"),
        ({"r/bomb.txt": b"\0" * (80 * 1024 * 1024)}, "bytes when extracted"),
        ({"r/a.exe": b"MZ"}, "expected only"),
    ],
)
def test_hostile_zips_fail_the_job_and_write_nothing(
    client: TestClient, home: Path, tmp_path: Path, entries: dict[str, bytes], expected: str
) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    upload = client.post("/v1/uploads", content=buf.getvalue())
    if upload.status_code == 413:  # bigger than the body limit: refused before it is read
        return
    job = submit(client, {"kind": "train-levels", "corpus": upload.json()["sha256"], "iterations": 1})
    done = wait(client, job["id"])
    assert done["state"] == "failed" and expected in done["error"]
    corpus = home / "generators" / f"g-{job['id']}" / "corpus"
    assert not corpus.exists() or not any(corpus.rglob("*"))  # nothing extracted at all
    assert not (home / "generators" / "evil.txt").exists() and not (home / "evil.txt").exists()


def test_a_zip_bomb_is_refused_by_its_ratio_before_any_byte_is_written(tmp_path: Path) -> None:
    from engine.errors import FileFormatError
    from engine.outside import extract_zip

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb.txt", b"\0" * (20 * 1024 * 1024))  # 20 MB of zeros deflate about 1000 times
    with pytest.raises(FileFormatError, match="expands"):
        extract_zip(buf.getvalue(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_job_specs_are_422_naming_the_field(client: TestClient) -> None:
    for job, field in (
        ({"kind": "train-levels", "corpus": "0" * 64}, "job.corpus"),
        ({"kind": "train-levels", "corpus": "0" * 64, "iterations": 10**6}, "job.train-levels.iterations"),
        ({"kind": "levels", "n": 10**6}, "job.levels.n"),
        ({"kind": "levels", "n": 5, "generator": "nope"}, "job.generator"),
        ({"kind": "dance"}, "job"),
    ):
        answer = client.post("/v1/jobs", json={"job": job})
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == field
    assert client.get("/v1/jobs/0123456789abcdef").status_code == 404


def test_a_restart_marks_running_jobs_failed_with_the_reason(tmp_path: Path) -> None:
    with TestClient(create_app(ServerSettings(cache_dir=tmp_path))) as c:
        job = submit(c, {"kind": "sprites", "classes": ["hero"], "n": 4096})
    # shutting down stopped the worker and said so
    record = json.loads((tmp_path / "jobs" / job["id"] / "job.json").read_text())
    assert record["state"] == "failed" and "shut down" in record["error"]
    # a server that died without shutting down leaves "running" behind: the next start marks it failed
    record.update(state="running", error=None, finished=None)
    (tmp_path / "jobs" / job["id"] / "job.json").write_text(json.dumps(record))
    with TestClient(create_app(ServerSettings(cache_dir=tmp_path))) as c:
        status = c.get(f"/v1/jobs/{job['id']}").json()
        assert status["state"] == "failed" and "restarted" in status["error"]


def test_server_processes_sharing_a_cache_folder_share_its_jobs(tmp_path: Path) -> None:
    """Two server processes on one folder (as `--workers 2` runs them): the second's start leaves the first's
    running job alone, either answers its poll, a cancel sent to the second stops the first's worker, and a
    job whose server stopped without a word (no heartbeat) is marked failed by the one still running."""
    settings = ServerSettings(cache_dir=tmp_path, load_generators=False)
    with TestClient(create_app(settings)) as first:
        job = submit(first, {"kind": "sprites", "classes": ["hero"], "n": 4096})
        jobs = first.app.state.ludoforge.jobs
        deadline = time.monotonic() + 30
        while job["id"] not in jobs.processes and time.monotonic() < deadline:
            time.sleep(0.05)
        process = jobs.processes[job["id"]]
        # a job left running by a server process that died (its heartbeat file never written)
        orphan = tmp_path / "jobs" / "00000000000000aa"
        orphan.mkdir()
        record = {**json.loads((tmp_path / "jobs" / job["id"] / "job.json").read_text()), "id": orphan.name}
        (orphan / "job.json").write_text(json.dumps({**record, "owner": "elsewhere-1-00000000"}))
        with TestClient(create_app(settings)) as second:
            assert second.get(f"/v1/jobs/{job['id']}").json()["state"] == "running"
            assert process.poll() is None  # the second's start did not touch it
            orphaned = second.get(f"/v1/jobs/{orphan.name}").json()
            assert orphaned["state"] == "failed" and "restarted" in orphaned["error"]
            assert second.delete(f"/v1/jobs/{job['id']}").json()["state"] == "cancelled"
            deadline = time.monotonic() + 10
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert process.poll() is not None, "the owner did not stop its cancelled worker"
            assert first.get(f"/v1/jobs/{job['id']}").json()["state"] == "cancelled"
