"""`ludoforge`'s error boundary: the project's typed errors are one line and exit code 2; anything else is a bug,
shown with its traceback and a request for a report, and exits with 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import demo_game.publish
from demo_game.cli import BUG_REPORT_LINE, main


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `ludoforge ARGS` in this process: (exit code, stderr)."""
    monkeypatch.setattr(sys, "argv", ["ludoforge", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code, capsys.readouterr().err


def test_a_typed_error_is_one_line_and_exit_code_2(monkeypatch, capsys, tmp_path: Path) -> None:
    code, err = _main(monkeypatch, capsys, "publish", str(tmp_path / "no_such_run"))
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "no_such_run" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("bug", [ZeroDivisionError("division by zero"), KeyError("role"), ValueError("oops")])
def test_any_other_exception_keeps_its_traceback_and_asks_for_a_report(
    monkeypatch, capsys, tmp_path: Path, bug: Exception
) -> None:
    def broken(*args, **kwargs):
        raise bug

    monkeypatch.setattr(demo_game.publish, "publish", broken)
    code, err = _main(monkeypatch, capsys, "publish", str(tmp_path))
    assert code == 1  # not 2: a bug is not the user's mistake, even a bare ValueError
    assert "Traceback (most recent call last)" in err and type(bug).__name__ in err
    assert err.rstrip().endswith(BUG_REPORT_LINE) and "error: " not in err


def test_a_missing_input_file_is_still_a_one_line_error(tmp_path: Path) -> None:
    """End to end through the console entry point: a weights stem that is not there, and an image that is not."""
    for args in (
        ["levels", "sample", "--weights", str(tmp_path / "mine"), "--out", str(tmp_path / "a.json")],
        ["textures", "train", "--theme", str(tmp_path / "marble.png"), "--dry-run"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "demo_game", *args], capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert str(tmp_path) in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["train", "q", "--role", "dragon", "--dry-run"],
        ["train", "npc", "--role", "villager", "--dry-run"],
        ["train", "q", "--total-steps", "0", "--dry-run"],
        ["export", "--rooms", "3", "--locked-doors", "5", "--out", "unused.json"],
    ],
)
def test_bad_option_values_are_typed_errors(monkeypatch, capsys, args: list[str]) -> None:
    code, err = _main(monkeypatch, capsys, *args)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "args",
    [
        ["play", "--headless", "--language", "fr"],
        ["levels", "sample", "--corpus", "castle", "--out", "unused.json"],
        ["levels", "sample", "--doors", "up=3", "--out", "unused.json"],
    ],
)
def test_bad_option_values_are_usage_errors(monkeypatch, capsys, args: list[str]) -> None:
    code, err = _main(monkeypatch, capsys, *args)
    assert code == 2 and "Traceback" not in err and "Invalid value" in err, err


def test_project_errors_are_all_typed() -> None:
    """Every error class the project defines is a LudoforgeError, so the CLI shows it as one line."""
    from agents.envs.arenas import ArenaError
    from agents.narrator.text import GrammarError
    from agents.policies.onnx_policy import PolicyFileError
    from agents.train.curriculum import CurriculumError
    from engine.errors import LudoforgeError
    from procgen.characters.corpus import CorpusError
    from procgen.levels.wfc import WFCError

    for cls in (ArenaError, GrammarError, PolicyFileError, CurriculumError, CorpusError, WFCError):
        assert issubclass(cls, LudoforgeError), cls
    for cls in (ArenaError, GrammarError, PolicyFileError, CurriculumError, CorpusError):
        assert issubclass(cls, ValueError), cls  # callers that catch ValueError keep working


def test_an_output_path_that_cannot_be_written_is_a_one_line_error(tmp_path: Path) -> None:
    """A file where the output's folder should be: the user's mistake, named, not a traceback."""
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    result = subprocess.run(
        [sys.executable, "-m", "demo_game", "levels", "sample", "--out", str(blocker / "level.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "cannot write here" in result.stderr, result.stderr
    assert str(blocker) in result.stderr and "Traceback" not in result.stderr
