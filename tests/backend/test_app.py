"""The service's foundation: health once the generators are loaded, info with the cards and limits, loopback
unless there is a token, 401 without it, 413 before an oversized body is read, and problem details for every
error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from backend import ServerSettings, create_app
from engine.errors import InputError

TOKEN = "a-token-of-enough-length"


@pytest.fixture(scope="module")
def client() -> TestClient:
    with TestClient(create_app()) as c:  # the context runs start-up, which loads the generators
        yield c


def test_health_is_ready_once_the_generators_are_loaded(client: TestClient) -> None:
    assert client.get("/v1/health").json() == {"status": "ready"}
    with TestClient(create_app(ServerSettings(load_generators=False))) as cold:
        answer = cold.get("/v1/health")
        assert answer.status_code == 503 and answer.json() == {"status": "loading"}


def test_info_lists_the_generators_their_cards_and_the_limits(client: TestClient) -> None:
    info = client.get("/v1/info").json()
    assert info["generators"] == ["dungeon", "platformer"]
    dungeon = next(c for c in info["weights"] if c["name"] == "levels_dungeon")
    assert len(dungeon["sha256"]) == 64 and dungeon["date"] and "playable_after_repair" in dungeon["metrics"]
    assert info["limits"]["max_body_bytes"] == 8 * 1024 * 1024 and info["limits"]["token_required"] is False
    assert info["limits"]["levels_per_request"] == 64 and info["limits"]["rate_limit_per_s"] is None
    dungeon_corpus = next(c for c in info["corpora"] if c["generator"] == "dungeon")
    assert (dungeon_corpus["width"], dungeon_corpus["height"], dungeon_corpus["genre"]) == (
        16,
        11,
        {"genre": "topdown"},
    )


def test_it_refuses_to_listen_beyond_loopback_without_a_token() -> None:
    with pytest.raises(InputError, match=r"host: 0\.0\.0\.0 is reachable from other machines"):
        ServerSettings(host="0.0.0.0")
    ServerSettings(host="0.0.0.0", token=TOKEN)  # with a token it may
    ServerSettings(host="::1")


def test_with_a_token_every_request_needs_it() -> None:
    with TestClient(create_app(ServerSettings(host="0.0.0.0", token=TOKEN, load_generators=False))) as c:
        for headers in ({}, {"Authorization": "Bearer wrong-token-of-some-length"}):
            answer = c.get("/v1/info", headers=headers)
            assert answer.status_code == 401 and answer.headers["content-type"] == "application/problem+json"
        assert c.get("/v1/info", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_an_oversized_body_is_413_before_it_is_read(client: TestClient) -> None:
    small = create_app(ServerSettings(max_body_bytes=1024, load_generators=False))

    @small.post("/v1/test-echo")
    async def echo(request: Request) -> dict[str, int]:  # an endpoint that reads its body
        return {"bytes": len(await request.body())}

    with TestClient(small) as c:
        assert c.post("/v1/test-echo", content=b"z" * 1000).json() == {"bytes": 1000}
        answer = c.post("/v1/info", content=b"x" * 5000)
        assert answer.status_code == 413 and answer.json()["title"] == "Request body too large"

        def chunks():  # no Content-Length: counted as it streams in
            for _ in range(10):
                yield b"y" * 500

        assert c.post("/v1/test-echo", content=chunks()).status_code == 413


def test_unknown_paths_and_methods_are_problem_details(client: TestClient) -> None:
    for answer in (client.get("/v1/nothing"), client.delete("/v1/info")):
        assert (
            answer.status_code in (404, 405) and answer.headers["content-type"] == "application/problem+json"
        )
        assert answer.json()["status"] == answer.status_code


def test_serve_refuses_a_public_address_without_a_token_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "demo_game", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "host: 0.0.0.0 is reachable from other machines" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_runs_several_workers_on_one_cache_and_shuts_down_gracefully(tmp_path: Path) -> None:
    """`ludoforge serve --workers 2`: both workers answer, byte-identically; SIGTERM stops them cleanly."""
    import signal
    import time

    import httpx

    from tests.backend.live import free_port

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "demo_game",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--cache-dir",
            str(tmp_path),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
            time.sleep(0.2)
        answers = {
            httpx.post(f"http://127.0.0.1:{port}/v1/levels", json={"seed": 4}, timeout=30).content
            for _ in range(6)
        }
        assert len(answers) == 1
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output[-2000:]
