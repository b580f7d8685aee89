"""The dependency direction of DESIGN.md: the engine's core never pulls in rendering or ML."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("pygame", "torch", "gymnasium", "stable_baselines3", "moderngl")


@pytest.mark.parametrize("module", ["engine.level", "engine.sim", "engine.formats", "engine.app.saves"])
def test_engine_core_imports_no_rendering_or_ml(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in {FORBIDDEN!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


PROCGEN_MODULES = [
    "procgen",
    "procgen.core.device",
    "procgen.core.weights",
    "procgen.core.training",
    "procgen.levels",
    "procgen.levels.generator",
    "procgen.levels.repair",
    "procgen.levels.control",
    "procgen.levels.dungeon",
    "procgen.levels.evaluate",
    "procgen.levels.train",
    "procgen.levels.cli",
    "procgen.textures",
    "procgen.textures.generator",
    "procgen.textures.tileset",
    "procgen.textures.style",
    "procgen.textures.train",
    "procgen.textures.cli",
    "procgen.characters",
    "procgen.characters.generator",
    "procgen.characters.train",
    "procgen.characters.cli",
    "procgen.metrics",
]


@pytest.mark.parametrize("module", PROCGEN_MODULES)
def test_procgen_never_imports_pygame(module: str) -> None:
    """Every procgen module a user or trainer imports, not only procgen.levels (the rule is the package's)."""
    code = f"import sys, {module}; print('pygame' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", f"{module} pulls in pygame"


def test_procgen_source_never_imports_pygame() -> None:
    """The same rule over every source file, so a module no test imports cannot break it unseen."""
    from pathlib import Path

    import procgen

    root = Path(procgen.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        for line in p.read_text().splitlines()
        if line.lstrip().startswith(("import ", "from ")) and line.split()[1].split(".")[0] == "pygame"
    ]
    assert offenders == []


def test_engine_source_never_imports_procgen_agents_or_demo() -> None:
    from pathlib import Path

    import engine

    root = Path(engine.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        for line in p.read_text().splitlines()
        if line.lstrip().startswith(("import ", "from "))
        and line.split()[1].split(".")[0] in ("procgen", "agents", "demo_game")
    ]
    assert offenders == []


def test_nothing_below_the_backend_imports_it() -> None:
    """`backend` uses procgen and agents; nothing imports it but its tests and clients. The one place the
    `ludoforge` CLI reaches it is inside its `serve` command, so importing the CLI never loads it."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    offenders = [
        f"{p.relative_to(root)}:{n}"
        for package in ("engine", "procgen", "agents", "demo_game")
        for p in (root / package).rglob("*.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if line.lstrip().startswith(("import ", "from "))
        and line.split()[1].split(".")[0] == "backend"
        and not (p.name == "cli.py" and package == "demo_game" and line.startswith("    "))
    ]
    assert offenders == []
    code = "import sys, demo_game.cli; print('backend' in sys.modules)"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )
