"""Every kind of malformed file gets a typed error that names the file and the field."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.errors import LevelFormatError, LevelValidationError
from engine.formats import read_level, write_level
from engine.level import Legend, Level, Spawn, TileDef
from engine.level import Semantic as S


@pytest.fixture
def level() -> Level:
    tiles = np.array([[1, 1, 1], [1, 5, 1], [1, 6, 1]], dtype=np.uint8)
    return Level(tiles=tiles, spawns=(Spawn(S.ENEMY, 1, 1, {"hp": 2}),)).validate()


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("edit", "field", "expected"),
    [
        (lambda d: d.update(width="3"), "width", "expected an integer"),
        (lambda d: d.pop("tiles"), "tiles", "is missing"),
        (lambda d: d["tiles"][1].append(1), "tiles[1]", "expected a list of 3 tile ids"),
        (lambda d: d["tiles"][2].__setitem__(0, 300), "tiles[2][0]", "0..255"),
        (lambda d: d["legend"][3].update(semantic="lava"), "legend[3].semantic", "not a known semantic"),
        (lambda d: d["spawns"][0].update(x=9), "spawns[0].x", "outside the level"),
        (lambda d: d["spawns"][0].update(kind="wall"), "spawns[0].kind", "not a spawn kind"),
        (lambda d: d.update(version=99), "version", "not supported"),
        (lambda d: d["legend"].pop(1), "tiles[y=0, x=0]", "not in the legend"),
    ],
)
def test_bad_json_field_is_named(tmp_path: Path, level: Level, edit, field: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    write_level(level, path)
    _edit_json(path, edit)
    with pytest.raises(LevelFormatError) as err:
        read_level(path)
    assert err.value.field == field
    assert str(path) in str(err.value) and expected in str(err.value)


def test_not_json_at_all(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{ nope")
    with pytest.raises(LevelFormatError, match=r"x\.json: file: is not valid JSON"):
        read_level(tmp_path / "x.json")


def test_unknown_legend_character_names_row_and_column(tmp_path: Path, level: Level) -> None:
    write_level(level, tmp_path / "room.txt")
    (tmp_path / "room.txt").write_text("WWW\nWQW\nWWW\n")
    with pytest.raises(LevelFormatError) as err:
        read_level(tmp_path / "room.txt")
    assert err.value.field == "row 1, column 1" and "'Q' is not in the legend" in str(err.value)


def test_ragged_ascii_grid(tmp_path: Path, level: Level) -> None:
    write_level(level, tmp_path / "room.txt")
    (tmp_path / "room.txt").write_text("WWW\nW.\nWWW\n")
    with pytest.raises(LevelFormatError) as err:
        read_level(tmp_path / "room.txt")
    assert err.value.field == "row 1" and "ragged" in str(err.value)


def test_ascii_without_a_legend(tmp_path: Path) -> None:
    (tmp_path / "lonely.txt").write_text("WW\n")
    with pytest.raises(LevelFormatError, match="no legend found"):
        read_level(tmp_path / "lonely.txt")


def test_tmj_with_missing_tile_layer(tmp_path: Path, level: Level) -> None:
    path = tmp_path / "map.tmj"
    write_level(level, path)
    _edit_json(path, lambda d: d.update(layers=[x for x in d["layers"] if x["type"] != "tilelayer"]))
    with pytest.raises(LevelFormatError) as err:
        read_level(path)
    assert err.value.field == "layers" and "no tile layer named 'tiles'" in str(err.value)


def test_tmj_with_short_tile_data(tmp_path: Path, level: Level) -> None:
    path = tmp_path / "map.tmj"
    write_level(level, path)
    _edit_json(path, lambda d: d["layers"][0].update(data=[1, 2]))
    with pytest.raises(LevelFormatError, match="has 2 cells; expected width\\*height = 9"):
        read_level(path)


def test_tmx_not_xml(tmp_path: Path) -> None:
    (tmp_path / "m.tmx").write_text("<map><oops></map>")
    with pytest.raises(LevelFormatError, match="not well-formed XML"):
        read_level(tmp_path / "m.tmx")


def test_tmx_with_unknown_spawn_type(tmp_path: Path, level: Level) -> None:
    path = tmp_path / "m.tmx"
    write_level(level, path)
    path.write_text(path.read_text().replace('type="enemy"', 'type="dragon"'))
    with pytest.raises(LevelFormatError) as err:
        read_level(path)
    assert err.value.field == "layers['spawns'].objects[0].type"


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(LevelFormatError, match="does not exist"):
        read_level(tmp_path / "nothing.json")
    with pytest.raises(LevelFormatError, match="suffix"):
        read_level(tmp_path / "level.docx")


def test_validate_names_the_broken_rule() -> None:
    with pytest.raises(LevelValidationError, match="tiles: expected a 2-D uint8 array"):
        Level(tiles=np.zeros((3,), np.uint8)).validate()
    with pytest.raises(LevelValidationError, match=r"tiles\[y=0, x=1\]: tile id 200"):
        Level(tiles=np.array([[0, 200]], np.uint8)).validate()
    with pytest.raises(LevelValidationError, match=r"legend\[1\].char: character 'a' is used twice"):
        Legend((TileDef(0, S.FLOOR, "a"), TileDef(1, S.WALL, "a"))).validate()
    with pytest.raises(LevelValidationError, match=r"outside 1\.\.1024"):
        Level(tiles=np.zeros((1, 2000), np.uint8)).validate()
