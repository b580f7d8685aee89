"""The one rule for reading data from outside: level files, external tilesets, weights and their cards, policies,
saves, settings and grammar files.

Every such reader goes through `read_outside` (and `parse_json` for JSON), which
- opens only regular files: a device, a FIFO or a folder (or a link to one) is refused without blocking on it;
- refuses a path that resolves outside the folder of the file that names it (`within`);
- bounds the bytes before they are read (it reads at most `limit` + 1, whatever the size the file reports), and
  `decompress` bounds decompressed bytes while decompressing;
- bounds JSON's nesting depth and integer digits, and refuses NaN and Infinity;
- raises `FileFormatError` (or the caller's subclass of it) naming the file, the field and what was expected.
"""

from __future__ import annotations

import json
import math
import os
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.errors import FileFormatError

MAX_FILE_BYTES = 64 * 1024 * 1024
"""the default bound on one file: a 1024x1024 level in our JSON is about 4 MB"""
MAX_JSON_DEPTH = 64
"""the deepest nesting any of our formats needs is under 10"""
MAX_INT_DIGITS = 20
"""a 64-bit integer has at most 20 digits; CPython's own limit (4,300) is reached only after the work"""

ErrorFactory = Callable[[Path, str, str], FileFormatError]


def read_outside(
    path: str | Path,
    *,
    limit: int = MAX_FILE_BYTES,
    within: str | Path | None = None,
    error: ErrorFactory = FileFormatError,
) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; with `within`, only if `path` resolves
    inside that folder (the folder of the file that named it)."""
    path = Path(path)
    target = path
    if "\x00" in str(path):
        raise error(path, "path", "contains a NUL byte")
    if within is not None:
        root = Path(within)
        # Lexically first, touching nothing: an absolute path or a ".." could walk folders outside `root`,
        # and whether that walk succeeds would tell the caller what exists there.
        if not path.is_relative_to(root) or ".." in path.relative_to(root).parts:
            raise error(path, "path", f"resolves outside {root}; a referenced file must sit in or under it")
        try:
            target, real_root = path.resolve(), root.resolve()
        except (OSError, RuntimeError, ValueError) as e:  # a symlink loop raises RuntimeError here
            raise error(path, "path", f"cannot be resolved ({e})") from None
        if not target.is_relative_to(real_root):  # a link inside that points out
            raise error(path, "path", f"resolves outside {root}; a referenced file must sit in or under it")
    try:
        # O_NONBLOCK: opening a FIFO with no writer would otherwise wait for ever; a regular file ignores it.
        # The resolved target is opened, so no link is followed after the check.
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(path, "file", "does not exist") from None
    except IsADirectoryError:
        raise error(path, "file", "is a folder; expected a regular file") from None
    except OSError as e:
        raise error(path, "file", f"cannot be opened ({e.strerror})") from None
    mode = os.fstat(fd).st_mode  # of what was opened, so a link to a device is caught too
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise error(path, "file", f"is a {_kind(mode)}; expected a regular file")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise error(path, "file", f"cannot be read ({e.strerror})") from None
    if len(data) > limit:
        raise error(path, "file", f"is larger than the limit of {limit:,} bytes")
    return data


def read_outside_text(
    path: str | Path,
    *,
    limit: int = MAX_FILE_BYTES,
    within: str | Path | None = None,
    error: ErrorFactory = FileFormatError,
) -> str:
    """`read_outside`, decoded as UTF-8."""
    data = read_outside(path, limit=limit, within=within, error=error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(Path(path), "file", f"is not UTF-8 text ({e.reason} at byte {e.start})") from None


def parse_json(
    text: str | bytes,
    path: str | Path | None,
    *,
    error: ErrorFactory = FileFormatError,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """JSON with bounded nesting and integers, and without NaN or Infinity (which JSON itself does not have)."""
    where = Path(path) if path is not None else Path("<memory>")

    def finite_float(text: str) -> float:
        number = float(text)
        if not math.isfinite(number):  # 1e400 parses as inf
            raise _Refused(f"{text[:40]} is beyond a 64-bit float")
        return number

    def bounded_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise _Refused(f"an integer of {len(digits)} digits (at most {MAX_INT_DIGITS})")
        return int(digits)

    def no_constant(name: str) -> Any:
        raise _Refused(f"{name} is not a JSON number")

    try:
        value = json.loads(text, parse_int=bounded_int, parse_float=finite_float, parse_constant=no_constant)
    except _Refused as e:
        raise error(where, "file", str(e)) from None
    except RecursionError:
        raise error(where, "file", f"is nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as e:
        raise error(
            where, "file", f"is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None
    except UnicodeDecodeError as e:
        raise error(where, "file", f"is not UTF-8 text ({e.reason} at byte {e.start})") from None
    if _depth(value) > max_depth:
        raise error(where, "file", f"is nested deeper than {max_depth} levels")
    return value


def decompress(
    data: bytes,
    method: str,
    limit: int,
    path: str | Path | None,
    field: str,
    error: ErrorFactory = FileFormatError,
) -> bytes:
    """zlib or gzip data, decompressed only up to `limit` + 1 bytes: more is refused without being made."""
    where = Path(path) if path is not None else Path("<memory>")
    wbits = {"zlib": zlib.MAX_WBITS, "gzip": 16 + zlib.MAX_WBITS}.get(method)
    if wbits is None:
        raise error(
            where, f"{field}.compression", f"{method!r} is not supported (expected zlib, gzip or none)"
        )
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as e:
        raise error(where, field, f"is not valid {method} data ({e})") from None
    if len(out) > limit:
        raise error(where, field, f"decompresses to more than the {limit:,} bytes the map's size allows")
    if not inflater.eof or inflater.unused_data:
        raise error(
            where, field, f"is not one complete {method} stream (truncated, or followed by other bytes)"
        )
    return out


class _Refused(ValueError):
    """Raised inside json.loads' hooks and turned into the caller's typed error."""


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion (json.loads itself recurses, so it is bounded there)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item if isinstance(child, dict | list))
    return deepest


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "folder"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return name
    return "special file"


MAX_IMAGE_PIXELS = 4096 * 4096
"""the default bound on an image's pixels, checked from its header before it is decoded"""


def read_outside_image(
    path: str | Path,
    *,
    mode: str = "RGB",
    max_pixels: int = MAX_IMAGE_PIXELS,
    limit: int = MAX_FILE_BYTES,
    error: ErrorFactory = FileFormatError,
) -> Any:
    """An image file as a (H, W, channels) uint8 array in `mode`, its size checked from the header before any
    pixel is decoded (a small PNG can declare 200 megapixels)."""
    path = Path(path)
    data = read_outside(path, limit=limit, error=error)
    return decode_image(data, path, mode=mode, max_pixels=max_pixels, error=error)


def decode_image(
    data: bytes,
    where: str | Path,
    *,
    mode: str = "RGB",
    max_pixels: int = MAX_IMAGE_PIXELS,
    error: ErrorFactory = FileFormatError,
) -> Any:
    """Image bytes already read (an upload, say) as a (H, W, channels) uint8 array in `mode`, by the same rule as
    `read_outside_image`: the size from the header first; errors name `where`."""
    import io
    import warnings

    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise error(
                        where, "size", f"{width}x{height} is more than the {max_pixels:,} pixels allowed"
                    )
                return np.asarray(img.convert(mode))
    except FileFormatError:
        raise
    except UnidentifiedImageError:
        raise error(where, "file", "not a readable image (expected PNG, JPEG, WebP, GIF or BMP)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise error(where, "file", f"not a readable image ({e})") from None
    except (OSError, ValueError, SyntaxError) as e:  # PIL's decoders raise these for truncated or odd files
        raise error(where, "file", f"not a readable image ({e})") from None


MAX_ARCHIVE_FILES = 2_000
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_RATIO = 200
"""a text level compresses about 10 to 50 times; a zip bomb, thousands of times"""


def extract_zip(
    data: bytes,
    dest: str | Path,
    *,
    where: str | Path = "archive",
    suffixes: tuple[str, ...] | None = None,
    max_files: int = MAX_ARCHIVE_FILES,
    max_bytes: int = MAX_ARCHIVE_BYTES,
    max_ratio: int = MAX_ARCHIVE_RATIO,
    error: ErrorFactory = FileFormatError,
) -> list[Path]:
    """Extract a zip from outside into `dest`, refusing it whole, before anything is written, when any entry
    would land outside `dest` (an absolute path, `..`, a drive, a link), when it holds more than `max_files` files
    or `max_bytes` in all, or when an entry expands more than `max_ratio` times (a zip bomb). Entries are then
    read in bounded chunks, so a header that lies about a size cannot get past the bound either. Returns the
    files written."""
    import io
    import zipfile
    from pathlib import PurePosixPath

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise error(where, "file", f"not a readable zip ({e})") from None
    files = [e for e in entries if not e.is_dir()]
    if len(files) > max_files:
        raise error(where, "files", f"{len(files)} files; at most {max_files} are allowed")
    total = 0
    for e in entries:
        name = e.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]) or not parts:
            raise error(where, e.filename, "the entry would be written outside the folder")
        if stat.S_ISLNK(e.external_attr >> 16):
            raise error(where, e.filename, "links are not allowed in the archive")
        if e.is_dir():
            continue
        if suffixes is not None and not name.lower().endswith(suffixes):
            raise error(where, e.filename, f"expected only {', '.join(suffixes)} files")
        total += e.file_size
        if total > max_bytes:
            raise error(where, "size", f"more than {max_bytes:,} bytes when extracted")
        if e.file_size > max_ratio * max(e.compress_size, 1) and e.file_size > 1024 * 1024:
            raise error(where, e.filename, f"expands {e.file_size // max(e.compress_size, 1)} times: refused")
    names = {PurePosixPath(e.filename.replace("\\", "/")) for e in files}
    for name in names:
        for parent in name.parents:
            if parent in names:
                raise error(where, str(name), f"{parent} is both a file and a folder in the archive")
    dest = Path(dest)
    written: list[Path] = []
    left = max_bytes
    for e in files:
        target = dest.joinpath(*PurePosixPath(e.filename.replace("\\", "/")).parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(e) as source, open(target, "wb") as out:
                while chunk := source.read(min(1 << 20, left + 1)):
                    left -= len(chunk)
                    if left < 0:
                        raise error(where, "size", f"more than {max_bytes:,} bytes when extracted")
                    out.write(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as e2:
            raise error(where, e.filename, f"cannot be extracted ({e2})") from None
        written.append(target)
    return written
