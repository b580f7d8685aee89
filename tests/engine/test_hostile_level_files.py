"""Level files as an attacker would write them (issue 18's table, one row each): every one is refused with a
LevelFormatError that names the file and the field, without hanging, without reading outside the map's folder,
and without the memory a bomb asks for."""

from __future__ import annotations

import base64
import json
import os
import resource
import stat
import zlib
from pathlib import Path

import numpy as np
import pytest

from engine.errors import LevelFormatError
from engine.formats import read_level, write_level
from engine.formats.tiled import write_tiled
from engine.level import Level, Spawn
from engine.level import Semantic as S


@pytest.fixture
def level() -> Level:
    tiles = np.array([[1, 1, 1, 1], [1, 5, 0, 1], [1, 6, 0, 1]], dtype=np.uint8)
    return Level(tiles=tiles, spawns=(Spawn(S.ENEMY, 1, 1, {"hp": 2}),)).validate()


def _tmj(tmp_path: Path, level: Level, edit=None, tileset: str = "embedded") -> Path:
    path = tmp_path / "room.tmj"
    write_tiled(level, path, tileset=tileset)  # type: ignore[arg-type]
    if edit is not None:
        data = json.loads(path.read_text())
        edit(data)
        path.write_text(json.dumps(data))
    return path


def _refused(path: Path, field: str, expected: str) -> LevelFormatError:
    with pytest.raises(LevelFormatError) as err:
        read_level(path)
    assert err.value.field == field, str(err.value)
    assert str(path) in str(err.value) and expected in str(err.value), str(err.value)
    return err.value


def _set_source(source: str):
    return lambda d: d["tilesets"][0].update(source=source)


def test_an_external_tileset_that_is_a_device_is_refused_not_read(tmp_path: Path, level: Level) -> None:
    for source in ("/dev/zero", "zero.tsj"):  # a link beside the map that resolves to the device, too
        if source == "zero.tsj":
            os.symlink("/dev/zero", tmp_path / source)
        path = _tmj(tmp_path, level, _set_source(source), tileset="external")
        _refused(path, "tilesets[0].source", "resolves outside")
    try:  # a device inside the map's folder: refused for what it is
        os.mknod(tmp_path / "null.tsj", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("no CAP_MKNOD here: the device's kind is checked through a linked level below")
    path = _tmj(tmp_path, level, _set_source("null.tsj"), tileset="external")
    _refused(path, "tilesets[0].source", "is a character device")


def test_a_level_that_links_to_a_device_is_refused(tmp_path: Path) -> None:
    os.symlink("/dev/zero", tmp_path / "level.json")
    _refused(tmp_path / "level.json", "file", "is a character device")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path, level: Level) -> None:
    os.mkfifo(tmp_path / "pipe.tsj")
    path = _tmj(tmp_path, level, _set_source("pipe.tsj"), tileset="external")
    _refused(path, "tilesets[0].source", "is a FIFO")
    os.mkfifo(tmp_path / "pipe.tmj")
    _refused(tmp_path / "pipe.tmj", "file", "is a FIFO")


def test_a_tileset_outside_the_maps_folder_is_never_opened(tmp_path: Path, level: Level) -> None:
    (tmp_path / "maps").mkdir()
    for source in ("../../etc/passwd", "../../no/such/file", "/etc/passwd"):
        path = _tmj(tmp_path / "maps", level, _set_source(source), tileset="external")
        err = _refused(path, "tilesets[0].source", "resolves outside")
        assert "does not exist" not in str(err)  # the same answer whether the file exists or not


def test_a_zlib_bomb_is_refused_while_decompressing(tmp_path: Path, level: Level) -> None:
    bomb = base64.b64encode(zlib.compress(b"\0" * 200_000_000, 9)).decode()  # ~270 KB of base64

    def edit(d: dict) -> None:
        d["layers"][0].update(data=bomb, encoding="base64", compression="zlib")

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    path = _tmj(tmp_path, level, edit)
    resource.setrlimit(resource.RLIMIT_AS, (8 * 1024**3, hard))  # far below what inflating it all would need
    try:
        _refused(path, "layers['tiles'].data", "is")
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize("firstgid", [0, -5])
def test_a_firstgid_below_one_is_refused(tmp_path: Path, level: Level, firstgid: int) -> None:
    path = _tmj(tmp_path, level, lambda d: d["tilesets"][0].update(firstgid=firstgid))
    _refused(path, "tilesets[0].firstgid", "greater than or equal to 1")


def test_gids_of_a_second_tileset_are_not_read_as_the_firsts(tmp_path: Path, level: Level) -> None:
    def edit(d: dict) -> None:
        d["tilesets"].append({"firstgid": 7, "source": "other.tsj"})
        d["layers"][0]["data"][0] = 8

    _refused(_tmj(tmp_path, level, edit), "layers['tiles'].data", "outside the first tileset's gids 1..6")


def test_flip_flags_are_masked_off(tmp_path: Path, level: Level) -> None:
    def edit(d: dict) -> None:
        d["layers"][0]["data"] = [gid | 0x80000000 for gid in d["layers"][0]["data"]]

    assert np.array_equal(read_level(_tmj(tmp_path, level, edit)).tiles, level.tiles)


@pytest.mark.parametrize(
    ("edit", "field", "expected"),
    [
        (lambda d: d["layers"][0]["data"].__setitem__(0, 2.9), "layers[0].data[0]", "valid integer"),
        (lambda d: d["layers"][0]["data"].__setitem__(0, 2**40), "layers[0].data[0]", "less than or equal"),
        (lambda d: d["layers"][0]["data"].__setitem__(0, 2**70), "file", "an integer of 22 digits"),
        (lambda d: d.update(tilewidth=0), "tilewidth", "greater than or equal to 1"),
        (lambda d: d["layers"][1]["objects"][0].update(x="48"), "layers[1].objects[0].x", "valid number"),
        (lambda d: d["layers"][1]["objects"][0].update(x=1e300), "layers[1].objects[0].x", "less than"),
        (lambda d: d["layers"][1]["objects"][0].update(x=-16), "layers['spawns'].objects[0].x", "outside"),
        (
            lambda d: d["layers"][1]["objects"][0]["properties"][0].pop("name"),
            "layers[1].objects[0].properties[0].name",
            "Field required",
        ),
        (lambda d: d["tilesets"][0]["tiles"].__setitem__(0, 7), "tilesets[0].tiles[0]", "valid dictionary"),
        (lambda d: d["layers"][1]["objects"].__setitem__(0, []), "layers[1].objects[0]", "valid dictionary"),
        (lambda d: d.update(infinite=True), "map", "infinite maps"),
        (lambda d: d.update(width=True), "width", "valid integer"),
    ],
)
def test_bad_tmj_fields_are_named(tmp_path: Path, level: Level, edit, field: str, expected: str) -> None:
    _refused(_tmj(tmp_path, level, edit), field, expected)


@pytest.mark.parametrize("text", ['{"x": Infinity}', '{"x": NaN}'])
def test_json_constants_that_are_not_numbers_are_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "level.json").write_text(text)
    _refused(tmp_path / "level.json", "file", "is not a JSON number")


def test_the_object_coordinate_1e400_is_refused(tmp_path: Path, level: Level) -> None:
    path = _tmj(tmp_path, level)
    path.write_text(path.read_text().replace('"x": 16,', '"x": 1e400,', 1))
    _refused(path, "file", "1e400 is beyond a 64-bit float")


@pytest.mark.parametrize("suffix", [".json", ".tmj"])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text("[" * 200_000 + "]" * 200_000)
    _refused(path, "file", "nested deeper than")
    path.write_text("[" * 100 + "]" * 100)  # within what json.loads manages, deeper than any of our formats
    _refused(path, "file", "nested deeper than 64")


def test_a_5000_digit_integer_names_the_file(tmp_path: Path, level: Level) -> None:
    path = tmp_path / "level.json"
    write_level(level, path)
    path.write_text(path.read_text().replace('"version": ', '"version": ' + "9" * 5000 + ', "v": ', 1))
    _refused(path, "file", "an integer of 5000 digits")


def test_tmx_attacks_get_the_same_answers(tmp_path: Path, level: Level) -> None:
    path = tmp_path / "room.tmx"
    write_tiled(level, path)
    good = path.read_text()
    for before, after, field, expected in [
        ('firstgid="1"', 'firstgid="0"', "tilesets[0].firstgid", "greater than or equal to 1"),
        ('tilewidth="16"', 'tilewidth="0"', "tilewidth", "greater than or equal to 1"),
        ('<tile id="0"', '<tile id="x"', "tilesets[0].tiles[0].id", "expected an integer"),
        ('x="16"', 'x="inf"', "layers[1].objects[0].x", "expected a number, got 'inf'"),
        ('width="4"', 'width="' + "9" * 5000 + '"', "map.width", "expected an integer"),
    ]:
        assert before in good, before
        path.write_text(good.replace(before, after, 1))
        _refused(path, field, expected)


# ----------------------------------------------------------------- found by the review of this rule (issue 18)


def test_a_tileset_link_loop_or_a_nul_in_its_path_is_a_level_format_error(
    tmp_path: Path, level: Level
) -> None:
    os.symlink("loop.tsj", tmp_path / "loop.tsj")
    _refused(
        _tmj(tmp_path, level, _set_source("loop.tsj"), tileset="external"), "tilesets[0].source", "resolved"
    )
    _refused(
        _tmj(tmp_path, level, _set_source("room.tsj\u0000"), tileset="external"), "tilesets[0].source", "NUL"
    )
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(LevelFormatError, match="NUL"):
        read_level(tmp_path / "x\x00.json")


def test_dot_dot_paths_that_come_back_inside_answer_alike_whatever_exists_outside(
    tmp_path: Path, level: Level
) -> None:
    inside = str(tmp_path)[1:]
    answers = set()
    for detour in ("usr/..", "no_such_dir/..", "etc/passwd/../.."):
        source = "../" * 12 + f"{detour}/{inside}/room.tsj"
        err = _refused(
            _tmj(tmp_path, level, _set_source(source), tileset="external"), "tilesets[0].source", "outside"
        )
        answers.add(str(err).replace(source, "<source>"))
    assert len(answers) == 1, answers


def test_a_vglc_grid_beyond_1024_is_a_level_format_error(tmp_path: Path, level: Level) -> None:
    write_level(level, tmp_path / "room.txt")
    (tmp_path / "room.txt").write_text("#" * 1025 + "\n")
    _refused(tmp_path / "room.txt", "rows", "outside 1..1024")


@pytest.mark.parametrize(
    ("edit", "field", "expected"),
    [
        (
            lambda d: d["properties"].append({"name": "ludoforge.seed", "type": "string", "value": "abc"}),
            "meta.seed",
            "expected int or null",
        ),
        (
            lambda d: d["layers"][1]["objects"][0]["properties"].append(
                {"name": "move_period", "type": "int", "value": 0}
            ),
            "spawns[0].properties['move_period']",
            "1..1000",
        ),
        (
            lambda d: d["layers"][1]["objects"][0]["properties"].append(
                {"name": "health", "type": "float", "value": 1e308}
            ),
            "spawns[0].properties['health']",
            "1..1000",
        ),
        (
            lambda d: d["layers"][1]["objects"][0]["properties"].append(
                {"name": "alert", "type": "bool", "value": "garbage"}
            ),
            "layers['spawns'].objects[0].properties.alert",
            "expected a bool",
        ),
        (
            lambda d: d["tilesets"][0]["tiles"][0]["properties"][0].update(value="\x0b"),
            "legend[0].char",
            "printable",
        ),
    ],
)
def test_values_the_world_cannot_use_are_refused_at_read(
    tmp_path: Path, level: Level, edit, field: str, expected: str
) -> None:
    _refused(_tmj(tmp_path, level, edit), field, expected)


@pytest.mark.parametrize("width", ["0_5", " 4 ", "\u0664"])
def test_tmx_integers_are_plain_ascii_digits(tmp_path: Path, level: Level, width: str) -> None:
    path = tmp_path / "room.tmx"
    write_tiled(level, path)
    path.write_text(path.read_text().replace('width="4"', f'width="{width}"', 1))
    _refused(path, "map.width", "expected an integer")


@pytest.mark.parametrize("compression", ["zlib", "gzip"])
def test_a_truncated_or_padded_compressed_stream_is_refused(
    tmp_path: Path, level: Level, compression: str
) -> None:
    import gzip as gzip_module

    raw = np.array(json.loads((_tmj(tmp_path, level)).read_text())["layers"][0]["data"], "<u4").tobytes()
    packed = zlib.compress(raw) if compression == "zlib" else gzip_module.compress(raw)
    for bad in (packed[:-4], packed + b"junk"):

        def edit(d: dict, bad: bytes = bad) -> None:
            d["layers"][0].update(
                data=base64.b64encode(bad).decode(), encoding="base64", compression=compression
            )

        _refused(_tmj(tmp_path, level, edit), "layers['tiles'].data", "one complete")


def test_an_integer_property_value_is_plain_ascii_digits(tmp_path: Path, level: Level) -> None:
    path = tmp_path / "room.tmx"
    write_tiled(level, path)
    text = path.read_text()
    assert '<property name="hp" value="2" type="int" />' in text
    for value in ("0_5", " 5 ", "\u0665"):
        path.write_text(text.replace('name="hp" value="2"', f'name="hp" value="{value}"'))
        _refused(path, "layers['spawns'].objects[0].properties.hp", "expected a int")
