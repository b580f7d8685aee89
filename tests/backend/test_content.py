"""The content endpoints: the same body gives the same bytes (also from a fresh server, so not just the cache) and
ETag, and 304 on If-None-Match; every repaired level is playable by our own solver, checked here on the client's
side; the Tiled editor opens the TMJ; bad input is a 4xx naming the field; batching changes no result."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from backend import ServerSettings, create_app
from engine.formats import decode_level, read_level
from engine.formats.json_level import level_from_dict
from procgen.levels.genre import Genre
from procgen.levels.solver import is_playable

BODIES = {
    "/v1/levels": {"n": 3, "seed": 11, "conditions": {"doors": {"north": [7], "west": [5]}}},
    "/v1/dungeons": {"seed": 5, "rooms": 4},
    "/v1/textures": {"theme": "lava", "size": 64, "seed": 2},
    "/v1/tilesets": {"seed": 4, "tile_px": 16},
    "/v1/sprites": {"seed": 6, "classes": ["hero", "enemy_slime"]},
    "/v1/levels/check": {
        "format": "txt",
        "level": "WWWWW\nWS.EW\nWWWWW\n",
        "legend": {"tiles": {"W": ["wall"], ".": ["floor"], "S": ["start"], "E": ["exit"]}},
    },
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture(scope="module")
def fresh() -> TestClient:
    """A second server with its own (empty) cache: equal bytes from it are determinism, not a cache hit."""
    with TestClient(create_app()) as c:
        yield c


@pytest.mark.parametrize("path", sorted(BODIES))
def test_the_same_body_gives_the_same_bytes_and_etag_and_304(
    client: TestClient, fresh: TestClient, path: str
) -> None:
    first = client.post(path, json=BODIES[path])
    assert first.status_code == 200, first.text
    again = client.post(path, json=BODIES[path])
    other = fresh.post(
        path, json=dict(reversed(BODIES[path].items()))
    )  # key order is not part of the request
    assert first.content == again.content == other.content
    assert first.headers["etag"] == again.headers["etag"] == other.headers["etag"]
    assert first.headers["etag"].startswith('"') and len(first.headers["etag"]) == 66  # strong: a sha256
    assert "max-age=" in first.headers["cache-control"]
    assert again.headers["x-cache"] == "hit"
    unchanged = client.post(path, json=BODIES[path], headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert client.post(path, json=BODIES[path], headers={"If-None-Match": '"other"'}).status_code == 200


def test_style_transfer_is_deterministic_too(client: TestClient, fresh: TestClient) -> None:
    exemplar = client.post("/v1/textures", json={"theme": "water", "size": 32}).content
    url = "/v1/style-transfer?theme=wood&size=32&steps=4"
    first = client.post(url, content=exemplar, headers={"content-type": "image/png"})
    other = fresh.post(url, content=exemplar, headers={"content-type": "image/png"})
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert first.content == other.content and first.headers["etag"] == other.headers["etag"]
    assert (
        client.post(url, content=exemplar, headers={"If-None-Match": first.headers["etag"]}).status_code
        == 304
    )


def test_every_repaired_level_is_playable_by_our_own_solver_checked_client_side(client: TestClient) -> None:
    checked = 0
    for generator, seeds in (("dungeon", range(4)), ("platformer", range(2))):
        for seed in seeds:
            answer = client.post(
                "/v1/levels",
                json={"generator": generator, "n": 64 if generator == "dungeon" else 16, "seed": 100 + seed},
            )
            assert answer.status_code == 200
            genre = Genre.from_dict(answer.json()["genre"], "answer")  # the answer says which rules it is for
            assert genre.name == ("topdown" if generator == "dungeon" else "platformer")
            for entry in answer.json()["levels"]:
                level = level_from_dict(entry["level"])
                room = generator == "dungeon"
                assert is_playable(level, genre, room=room), entry["name"]
                assert entry["solver"]["playable"] and entry["solver"]["path_length"] > 0
                checked += 1
    assert checked >= 200


def test_a_dungeon_is_playable_end_to_end_and_carries_its_cast(client: TestClient) -> None:
    entry = client.post("/v1/dungeons", json={"seed": 3, "rooms": 5, "locked_doors": 2}).json()["levels"][0]
    level = level_from_dict(entry["level"])
    assert is_playable(level) and entry["solver"]["playable"]
    roles = {s["properties"].get("role") for s in entry["level"]["spawns"]}
    assert "companion" in roles


def test_formats_by_field_and_by_accept_header(client: TestClient) -> None:
    tmj = client.post("/v1/levels", json={"seed": 1, "format": "tmj"})
    assert tmj.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(tmj.content)).namelist()
    assert names == ["level_0000.tmj", "level_0000.tiles.png", "manifest.json"]
    png = client.post("/v1/levels", json={"seed": 1}, headers={"Accept": "image/png"})
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert png.headers["x-playable"] == "true"
    text = client.post("/v1/levels", json={"seed": 1}, headers={"Accept": "text/html, text/plain;q=0.9"})
    assert zipfile.ZipFile(io.BytesIO(text.content)).namelist()[:2] == [
        "level_0000.txt",
        "level_0000.legend.json",
    ]
    assert client.post("/v1/levels", json={"seed": 1}, headers={"Accept": "*/*"}).json()["format"] == "json"


def test_blob_urls_serve_the_files_an_answer_lists(client: TestClient) -> None:
    answer = client.post("/v1/tilesets", json={"seed": 2, "packaging": "urls"}).json()
    assert [f["name"] for f in answer["files"]] == ["atlas.png", "tileset.tsj", "index.json"]
    atlas = answer["files"][0]
    got = client.get(atlas["url"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert "immutable" in got.headers["cache-control"] and got.headers["etag"] == f'"{atlas["sha256"]}"'
    assert client.get(atlas["url"], headers={"If-None-Match": got.headers["etag"]}).status_code == 304
    missing = client.get("/v1/blobs/" + "0" * 64)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/blobs/not-a-sha").status_code == 422


@pytest.mark.skipif(
    shutil.which("tiled") is None, reason="the Tiled editor is not installed (CI installs it)"
)
def test_the_real_tiled_editor_opens_the_tmj_the_service_returns(client: TestClient, tmp_path: Path) -> None:
    for path, body in (
        ("/v1/levels", {"seed": 4, "format": "tmj"}),
        ("/v1/dungeons", {"seed": 4, "format": "tmj"}),
    ):
        folder = tmp_path / path.rsplit("/", 1)[1]
        zipfile.ZipFile(io.BytesIO(client.post(path, json=body).content)).extractall(folder)
        out = folder / "export.tmj"
        env = {"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
        subprocess.run(
            ["tiled", "--export-map", "json", str(folder / "level_0000.tmj"), str(out)],
            check=True,
            env=env,
            timeout=60,
            capture_output=True,
        )
        assert read_level(out) == read_level(folder / "level_0000.tmj")


def test_check_and_repair_a_clients_level(client: TestClient) -> None:
    room = client.post("/v1/levels", json={"seed": 9, "repair": False}).json()["levels"][0]["level"]
    room["tiles"][5] = [room["tiles"][5][0]] + [1] * 14 + [room["tiles"][5][-1]]  # a wall across the room
    verdict = client.post("/v1/levels/check", json={"level": room, "room": True}).json()
    assert not verdict["solver"]["playable"] and verdict["solver"]["reason"]
    fixed = client.post("/v1/levels/repair", json={"level": room, "room": True}).json()
    assert fixed["solver"]["playable"] and fixed["edits"] >= 1 and fixed["edits"] >= fixed["lower_bound"]
    assert is_playable(level_from_dict(fixed["level"]), room=True)
    as_tmj = client.post("/v1/levels/repair", json={"level": room, "room": True, "out_format": "tmj"})
    assert zipfile.ZipFile(io.BytesIO(as_tmj.content)).namelist()[0] == "level_0000.tmj"


def _field(answer: httpx.Response) -> str:
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    return answer.json()["errors"][0]["field"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/levels", {"n": 65}, "n"),
        ("/v1/levels", {"n": 0}, "n"),
        ("/v1/levels", {"seed": -1}, "seed"),
        ("/v1/levels", {"generator": "nope"}, "generator"),
        ("/v1/levels", {"conditions": {"doors": {"north": [15]}}}, "conditions.doors.north"),
        ("/v1/levels", {"conditions": {"density": {"enemies": 99}}}, "conditions.density.enemies"),
        ("/v1/levels", {"conditions": {"density": {"openness": 0.1}}}, "conditions.density.openness"),
        ("/v1/levels", {"target": {"openness": 0.0}}, "target.openness"),
        ("/v1/levels", {"target": {"path_length": 999}}, "target.path_length"),
        ("/v1/levels", {"target": {}}, "target"),
        ("/v1/levels", {"n": 5, "target": {"path_length": 20}}, "n"),
        ("/v1/levels", {"n": 2, "format": "png", "packaging": "file"}, "packaging"),
        ("/v1/levels", {"colour": "red"}, "colour"),
        ("/v1/textures", {"size": 4096}, "size"),
        ("/v1/textures", {"theme": "marble"}, "theme"),
        ("/v1/tilesets", {"tile_px": 4}, "tile_px"),
        ("/v1/tilesets", {"tile_px": 129}, "tile_px"),
        ("/v1/dungeons", {"rooms": 3, "branches": 4}, "branches"),
        ("/v1/dungeons", {"room_density": {"hazard": 0.9}}, "room_density.hazard"),
        ("/v1/levels/check", {"format": "json", "level": {"format": "ludoforge.level"}}, "version"),
        ("/v1/levels/check", {"format": "txt", "level": "W"}, "legend"),
        ("/v1/levels/check", {"format": "tmx", "level": {"a": 1}}, "level"),
    ],
)
def test_bad_input_is_422_naming_the_field(client: TestClient, path: str, body: dict, field: str) -> None:
    answer = client.post(path, json=body)
    assert answer.status_code == 422
    assert _field(answer) == field


def test_a_corrupt_png_upload_is_422_naming_the_body(client: TestClient) -> None:
    for data in (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"not an image", b""):
        answer = client.post("/v1/style-transfer", content=data, headers={"content-type": "image/png"})
        assert answer.status_code == 422 and _field(answer) == "body"
    big = client.post("/v1/style-transfer?size=9999", content=b"x")
    assert big.status_code == 422 and _field(big) == "query.size"


def test_malformed_and_deeply_nested_json_are_4xx_naming_the_body(client: TestClient) -> None:
    for data in (b"[" * 100_000, b"{" * 50_000, b"{'a': 1}", b"\xff\xfe", b'{"n": ' + b"9" * 5000 + b"}"):
        answer = client.post("/v1/levels", content=data, headers={"content-type": "application/json"})
        assert 400 <= answer.status_code < 500, answer.text
        assert _field(answer) == "body", answer.text


@pytest.mark.parametrize(
    ("data", "says"),
    [(b"{not json", "expected JSON at character 1"), (b"[1, 2]", "got list"), (b"", "got no body")],
)
def test_a_body_that_is_not_a_json_object_is_422_naming_the_body(
    client: TestClient, data: bytes, says: str
) -> None:
    answer = client.post("/v1/levels/check", content=data, headers={"content-type": "application/json"})
    assert answer.status_code == 422 and _field(answer) == "body"
    assert says in answer.json()["errors"][0]["message"]


def test_an_oversized_body_is_413_on_a_content_route() -> None:
    with TestClient(create_app(ServerSettings(max_body_bytes=2048, load_generators=False))) as small:
        answer = small.post("/v1/levels/check", content=b'{"level": "' + b"W" * 4096 + b'"}')
        assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"


def test_batching_changes_no_result() -> None:
    """Concurrent requests, coalesced into batches, get exactly what the same requests get one by one from a
    server with batching off, and what they get made on the worker threads instead of the generation process."""
    bodies = [{"n": 1 + s % 3, "seed": 500 + s, "repair": s % 4 != 0} for s in range(24)]

    async def concurrently(app) -> list[bytes]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            answers = await asyncio.gather(*(c.post("/v1/levels", json=b) for b in bodies))
        return [a.content for a in answers]

    batched_app = create_app(ServerSettings(max_wait_ms=20))
    with TestClient(
        batched_app
    ):  # runs start-up; the requests then go through the ASGI transport concurrently
        assert batched_app.state.ludoforge.batchers["dungeon"].process is not None
        batched = asyncio.run(concurrently(batched_app))
        batches = batched_app.state.ludoforge.batchers["dungeon"].batches
    on_threads = create_app(ServerSettings(max_wait_ms=20, generation_process=False))
    with TestClient(on_threads):
        threaded = asyncio.run(concurrently(on_threads))
        thread_batches = on_threads.state.ludoforge.batchers["dungeon"].batches
    with TestClient(create_app(ServerSettings(batching=False))) as alone:
        single = [alone.post("/v1/levels", json=b).content for b in bodies]
    assert batches < len(bodies) and thread_batches < len(bodies), "the requests were not batched together"
    assert batched == single
    assert threaded == single


def test_a_stopped_generation_process_is_503_then_started_again() -> None:
    """Killing the child answers what it held with 503 (never a hang), and the next request is served by a new
    one with the same levels."""
    app = create_app(ServerSettings(max_wait_ms=20))
    with TestClient(app) as c:
        first = c.post("/v1/levels", json={"n": 2, "seed": 31})
        assert first.status_code == 200
        generation = app.state.ludoforge.generation
        held = threading.Event()

        def lost_on_the_way(name: str, requests: list, hand_back) -> None:
            pid = generation._process.pid
            os.kill(pid, signal.SIGSTOP)  # it cannot answer: the batch is surely still in it when it dies
            original(name, requests, hand_back)
            held.set()
            os.kill(pid, signal.SIGKILL)

        original, generation.submit = generation.submit, lost_on_the_way
        lost = c.post("/v1/levels", json={"n": 1, "seed": 32})
        generation.submit = original
        assert held.is_set()
        assert lost.status_code == 503 and lost.headers["content-type"] == "application/problem+json", (
            lost.text
        )
        generation.wait_ready(60)
        answers = [c.post("/v1/levels", json={"n": 2, "seed": 33}) for _ in range(2)]
        assert all(a.status_code == 200 for a in answers), answers[-1].text
    with TestClient(create_app(ServerSettings(generation_process=False))) as plain:
        assert plain.post("/v1/levels", json={"n": 2, "seed": 33}).content == answers[0].content


LEFT_OPEN = """
from fastapi.testclient import TestClient

from backend import ServerSettings, create_app

if __name__ == "__main__":  # the generation process is spawned: it imports this file again
    client = TestClient(create_app(ServerSettings()))
    client.__enter__()  # started, never closed
    assert client.post("/v1/levels", json={"n": 1, "seed": 5}).status_code == 200
    print("served", flush=True)
"""


def test_a_program_that_leaves_a_server_open_still_exits(tmp_path: Path) -> None:
    """Found by review: the generation process ignores SIGTERM (the server stops it), and multiprocessing's exit
    hook sent it SIGTERM and then waited for it forever. The server's own exit hook now stops it first."""
    script = tmp_path / "left_open.py"
    script.write_text(LEFT_OPEN)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the program did not exit: {exc.stdout!r} {exc.stderr!r}")
    assert done.returncode == 0 and "served" in done.stdout, done.stderr


def test_rate_limit_answers_429_with_retry_after() -> None:
    with TestClient(create_app(ServerSettings(rate_limit=1.0, load_generators=False))) as c:
        codes = [c.get("/v1/info").status_code for _ in range(4)]
        assert codes[:2] == [200, 200] and codes[-1] == 429
        limited = c.get("/v1/info")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_work_past_the_timeout_is_504_and_a_full_queue_503(client: TestClient) -> None:
    exemplar = client.post("/v1/textures", json={"theme": "water", "size": 64}).content
    with TestClient(create_app(ServerSettings(timeout_s=0.05, threads=1, queue=0))) as slow:
        late = slow.post("/v1/style-transfer?size=256&steps=100", content=exemplar)
        assert late.status_code == 504 and late.headers["content-type"] == "application/problem+json"
        busy = slow.post("/v1/style-transfer?size=64&steps=3&seed=1", content=exemplar)
        assert (
            busy.status_code == 503 and busy.headers["retry-after"] == "1"
        )  # the timed-out work still holds it
        assert slow.get("/v1/health").status_code == 200  # and the process is up


def test_one_access_log_line_per_request(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ludoforge.access"):
        client.post("/v1/levels", json={"seed": 77})
        client.post("/v1/levels", json={"seed": 77})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ludoforge.access"]
    assert [(x["method"], x["path"], x["status"], x["cache"]) for x in lines] == [
        ("POST", "/v1/levels", 200, "miss"),
        ("POST", "/v1/levels", 200, "hit"),
    ]
    assert all(x["ms"] >= 0 for x in lines)


def test_cors_is_off_by_default_and_on_for_the_configured_origins(client: TestClient) -> None:
    preflight = {"Origin": "https://game.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/v1/levels", headers=preflight).headers
    settings = ServerSettings(cors_origins=("https://game.example",), load_generators=False)
    with TestClient(create_app(settings)) as c:
        answer = c.options("/v1/levels", headers=preflight)
        assert answer.headers["access-control-allow-origin"] == "https://game.example"
        refused = c.options("/v1/levels", headers={**preflight, "Origin": "https://elsewhere.example"})
        assert refused.status_code == 400 and refused.headers["content-type"] == "application/problem+json"
        assert _field(refused) == "Origin"


def test_the_disk_cache_survives_a_restart(tmp_path: Path) -> None:
    settings = ServerSettings(cache_dir=tmp_path)
    with TestClient(create_app(settings)) as c:
        first = c.post("/v1/levels", json={"seed": 31})
    with TestClient(create_app(settings)) as c:
        again = c.post("/v1/levels", json={"seed": 31})
    assert again.headers["x-cache"] == "hit" and again.content == first.content


def test_a_level_the_service_returns_parses_with_the_engines_own_reader(client: TestClient) -> None:
    files = zipfile.ZipFile(io.BytesIO(client.post("/v1/levels", json={"seed": 8, "format": "txt"}).content))
    level = decode_level(
        files.read("level_0000.txt").decode(), "txt", "x", files.read("level_0000.legend.json").decode()
    )
    manifest = json.loads(files.read("manifest.json"))
    assert manifest["levels"][0]["files"] == ["level_0000.txt", "level_0000.legend.json"]
    assert is_playable(level, room=True) and np.asarray(level.tiles).shape == (11, 16)


def test_a_level_repair_cannot_fix_is_422_not_500(client: TestClient) -> None:
    """Found by review: a 1x1 level of just its start made the repair's join table raise KeyError (a 500)."""
    legend = {"tiles": {"W": ["wall"], ".": ["floor"], "S": ["start"], "E": ["exit"]}}
    for text in ("S\n", "W\n"):
        answer = client.post("/v1/levels/repair", json={"format": "txt", "level": text, "legend": legend})
        assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"


def test_the_cache_front_gives_the_answer_the_route_would(client: TestClient) -> None:
    """Found by review: a body cached once was served again under a content type the route refuses."""
    body = json.dumps({"seed": 99})
    assert (
        client.post("/v1/levels", content=body, headers={"Content-Type": "application/json"}).status_code
        == 200
    )
    assert client.post("/v1/levels", content=body, headers={"Content-Type": "text/plain"}).status_code == 422


def test_check_and_repair_judge_by_the_genre_asked(client: TestClient) -> None:
    """Found by review: the genre was ignored, so a platformer level was judged top-down."""
    legend = {"tiles": {"W": ["solid"], ".": ["floor"], "S": ["start"], "E": ["exit"]}}
    column = "\n".join(["E......."] + ["........"] * 6 + ["S......."] + ["WWWWWWWW"]) + "\n"
    upload = {"format": "txt", "level": column, "legend": legend}
    assert client.post("/v1/levels/check", json=upload).json()["solver"]["playable"]  # top-down: walk up
    low = {"name": "platformer", "max_jump_height": 1, "max_jump_width": 1}
    assert not client.post("/v1/levels/check", json={**upload, "genre": low}).json()["solver"]["playable"]
