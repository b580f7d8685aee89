"""The Python client against a real server: typed methods, typed errors, ETags remembered (a second ask is a
304), the async client the same, and a job through to its file."""

from __future__ import annotations

import asyncio

import pytest

from backend import ServerSettings
from backend.client import AsyncLudoforgeClient, InvalidRequest, LudoforgeClient, NotFound, Unauthorized
from engine.formats.json_level import level_from_dict
from procgen.levels.solver import is_playable
from tests.backend.live import live_server

TOKEN = "a-token-of-enough-length"


@pytest.fixture(scope="module")
def url() -> str:
    with live_server() as base:
        yield base


def test_typed_methods_and_etags(url: str) -> None:
    with LudoforgeClient(url) as api:
        assert api.health() == {"status": "ready"}
        first = api.levels(n=2, seed=7, conditions={"doors": {"north": [7]}})
        rooms = first.json()["levels"]
        assert len(rooms) == 2 and all(is_playable(level_from_dict(r["level"]), room=True) for r in rooms)
        again = api.levels(n=2, seed=7, conditions={"doors": {"north": [7]}})
        assert again.from_cache and again.body == first.body  # the server said 304
        tiles = api.tileset(seed=3, tile_px=16).files()
        assert {"atlas.png", "tileset.tsj", "index.json", "manifest.json"} <= set(tiles)
        urls = api.tileset(seed=3, tile_px=16, packaging="urls").json()["files"]
        assert api.blob(urls[0]["url"]) == tiles["atlas.png"]
        assert api.dungeon(seed=2, rooms=3).json()["levels"][0]["solver"]["playable"]
        assert api.check(
            "WWWWW\nWS.EW\nWWWWW\n",
            format="txt",
            legend={"tiles": {"W": ["wall"], ".": ["floor"], "S": ["start"], "E": ["exit"]}},
        )["solver"]["playable"]


def test_errors_are_typed_and_name_the_field(url: str) -> None:
    with LudoforgeClient(url) as api:
        with pytest.raises(InvalidRequest) as caught:
            api.levels(n=1000)
        assert caught.value.status == 422 and caught.value.field == "n"
        with pytest.raises(NotFound):
            api.blob("0" * 64)
        with pytest.raises(NotFound):
            api.job("0123456789abcdef")


def test_a_token_server_needs_the_token() -> None:
    settings = ServerSettings(host="127.0.0.1", token=TOKEN)
    with live_server(settings) as base:
        with LudoforgeClient(base) as anonymous, pytest.raises(Unauthorized):
            anonymous.info()
        with LudoforgeClient(base, token=TOKEN) as api:
            assert api.info()["limits"]["token_required"] is True


def test_the_async_client_and_a_job(url: str) -> None:
    async def run() -> tuple[list[bytes], dict, bytes]:
        async with AsyncLudoforgeClient(url) as api:
            answers = await asyncio.gather(*(api.levels(seed=s) for s in range(8)))
            job = await api.wait(await api.submit_job({"kind": "levels", "n": 20, "seed": 1}), poll_s=0.2)
            archive = await api.job_file(job["result"]["files"][0])
            return [a.body for a in answers], job, archive

    bodies, job, archive = asyncio.run(run())
    with LudoforgeClient(url) as api:
        assert bodies == [api.levels(seed=s).body for s in range(8)]
    assert job["state"] == "succeeded" and archive.startswith(b"PK")
