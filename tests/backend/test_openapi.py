"""docs/openapi.json is the app's own schema: a test fails when they drift apart. Regenerate it with
`python -m backend.openapi > docs/openapi.json`. Every operation's request bounds are in it."""

from __future__ import annotations

import json
from pathlib import Path

from backend import ServerSettings, create_app
from backend.app import openapi_json

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_committed_spec_is_the_apps_own() -> None:
    current = openapi_json(create_app(ServerSettings(load_generators=False)))
    assert COMMITTED.read_text(encoding="utf-8") == current, (
        "docs/openapi.json is stale: run `python -m backend.openapi > docs/openapi.json`"
    )


def test_every_request_count_size_and_seed_is_bounded_in_the_spec() -> None:
    spec = json.loads(COMMITTED.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    for model, fields in {
        "LevelsRequest": ("n", "seed"),
        "DungeonRequest": ("seed", "rooms", "branches", "locked_doors"),
        "TexturesRequest": ("n", "size", "seed"),
        "TilesetRequest": ("tile_px", "seed"),
        "SpritesRequest": ("seed",),
    }.items():
        for name in fields:
            prop = schemas[model]["properties"][name]
            assert "maximum" in prop and "minimum" in prop, f"{model}.{name} is unbounded"
        assert schemas[model].get("additionalProperties") is False, f"{model} takes unknown fields"
        assert schemas[model].get("examples"), f"{model} has no example"
    query = {p["name"]: p["schema"] for p in spec["paths"]["/v1/style-transfer"]["post"]["parameters"]}
    assert all("maximum" in query[k] for k in ("seed", "size", "steps"))
