"""Typed errors shared by the engine: each names the file, the field and what was expected.

The CLI turns any `LudoforgeError` into one line and exit code 2, with no traceback.
"""

from __future__ import annotations

from pathlib import Path


class LudoforgeError(Exception):
    """Base of every error the project raises on purpose (bad input, bad files, bad saves)."""


class LevelValidationError(LudoforgeError, ValueError):
    """A Level breaks a rule of the model: `field` says which part, the message says what was expected."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class FileFormatError(LudoforgeError, ValueError):
    """A file from outside cannot be read: names the file, the field inside it, and what was expected."""

    def __init__(self, path: str | Path | None, field: str, message: str) -> None:
        self.path = None if path is None else Path(path)
        self.field = field
        where = "<memory>" if path is None else str(path)
        super().__init__(f"{where}: {field}: {message}")


class LevelFormatError(FileFormatError):
    """A level file (or a tileset it names) cannot be read."""


class InputError(LudoforgeError, ValueError):
    """A value the user chose (a command-line option, a training setting) that cannot be used: `field` names it,
    the message says what was expected and what was given."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class OutputError(LudoforgeError, OSError):
    """An output the user asked for cannot be written there (no permission, a file where a folder should be, a
    full disk): names the path and what the system said."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: cannot write here ({message})")


class SaveError(LudoforgeError):
    """A save file is missing, corrupt, or from a version this build cannot read."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: {message}")
