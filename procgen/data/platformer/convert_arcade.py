"""Rebuild the two arcade-derived levels of the platformer corpus from arcade's wheel (MIT maps, CC0 tiles).

    pip download --no-deps arcade==3.3.3 -d /tmp/arcade
    python procgen/data/platformer/convert_arcade.py /tmp/arcade/arcade-3.3.3-py3-none-any.whl

Only `map.json` and `map_with_ladders.json` are used: the wheel's other example maps are flat strips of ground,
which would teach the GAN nothing but a floor. Each Tiled layer becomes one semantic (see LAYER_CHARS); tile
objects on "Moving Platforms" become one-way platforms and points on "Enemies" become enemies. The map is padded
with sky (or its empty top rows dropped) to the corpus height, and a start and an exit are put on the first and
last standable columns.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

HEIGHT = 16
MAPS = {"map.json": "arcade_map.txt", "map_with_ladders.json": "arcade_map_with_ladders.txt"}
LAYER_CHARS = {"Platforms": "#", "Ladders": "H", "Coins": "$", "Don't Touch": "^", "Bombs": "^"}
PREFIX = "arcade/resources/assets/tiled_maps/"


def convert(data: dict) -> list[str]:
    width, height, tile = data["width"], data["height"], data["tileheight"]
    grid = [["."] * width for _ in range(height)]
    for layer in data["layers"]:
        if layer["type"] == "tilelayer" and layer["name"] in LAYER_CHARS:
            for i, gid in enumerate(layer["data"]):
                if gid:
                    grid[i // width][i % width] = LAYER_CHARS[layer["name"]]
        elif layer["type"] == "objectgroup" and layer["name"] in ("Moving Platforms", "Enemies"):
            for obj in layer["objects"]:
                # Tile objects are anchored at their bottom-left corner; points at themselves.
                row = int((obj["y"] - 1) // tile) if obj.get("gid") else int(obj["y"] // tile)
                col = int(obj["x"] // tile)
                if 0 <= row < height and 0 <= col < width:
                    grid[row][col] = "=" if layer["name"] == "Moving Platforms" else "e"
    while len(grid) > HEIGHT and all(c == "." for c in grid[0]):
        grid.pop(0)
    if len(grid) > HEIGHT:
        raise ValueError(f"map is {len(grid)} rows with content; the corpus height is {HEIGHT}")
    grid = [["."] * width for _ in range(HEIGHT - len(grid))] + grid
    _place(grid, range(width), "S")
    _place(grid, range(width - 1, -1, -1), "X")
    return ["".join(row) for row in grid]


def _place(grid: list[list[str]], columns: range, char: str) -> None:
    """The lowest empty cell standing on ground, in the first column of `columns` that has one."""
    for x in columns:
        for y in range(len(grid) - 2, -1, -1):
            if grid[y][x] == "." and grid[y + 1][x] == "#":
                grid[y][x] = char
                return
    raise ValueError(f"no standable cell to put {char!r} on")


def main(wheel: str) -> None:
    out_dir = Path(__file__).resolve().parent / "levels"
    with zipfile.ZipFile(wheel) as zf:
        for name, out_name in MAPS.items():
            rows = convert(json.loads(zf.read(PREFIX + name)))
            (out_dir / out_name).write_text("\n".join(rows) + "\n", encoding="utf-8")
            print(f"{name} -> {out_dir / out_name} ({len(rows[0])}x{len(rows)})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
