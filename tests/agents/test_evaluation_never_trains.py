"""Evaluation never trains: `agents.evaluate` imports no trainer, and its report plays the Q-learning table a trainer
wrote (or says there is none) instead of training one."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

import agents.evaluate
from agents.policies.q_table import N_ACTIONS, N_STATES, greedy, load_q_table, q_table_stem
from procgen.core.weights import save_weights


def test_evaluation_imports_no_trainer() -> None:
    """Not at import time and not inside a function either (the old report imported the Q-learning trainer
    lazily, in `q_actor` and `write_report`, which made the cycle evaluate ↔ train.qlearning)."""
    source = Path(agents.evaluate.__file__).read_text(encoding="utf-8")
    imported = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append(node.module or "")
    assert not [m for m in imported if m == "agents.train" or m.startswith("agents.train.")], imported
    code = (
        "import sys, numpy as np, agents.evaluate as e\n"
        "from agents.policies.q_table import N_ACTIONS, N_STATES\n"
        "e.q_actor(np.zeros((N_STATES, N_ACTIONS)))\n"
        "found = sorted(m for m in sys.modules if m == 'agents.train' or m.startswith('agents.train.'))\n"
        "assert not found, found\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def _quick_episodes(monkeypatch) -> list[str]:
    """Made-up per-episode results instead of play: these tests are about what the report plays and says, not
    its numbers. Returns "role:actor" for each actor played, in order."""
    played: list[str] = []
    rng = np.random.default_rng(0)

    def run_episodes(role, actor, episodes=200, *args, **kwargs):
        played.append(f"{role.value}:{getattr(actor, '__qualname__', actor)}")
        scores = {k: rng.random(episodes) for k in ("success", "role_metric", "return")}
        return scores | {"style": np.resize(np.array(["runner", "evader"]), episodes)}

    monkeypatch.setattr(agents.evaluate, "run_episodes", run_episodes)
    return played


def test_the_report_says_when_no_q_table_was_trained(tmp_path: Path, monkeypatch) -> None:
    from agents.evaluate import Q_NOT_TRAINED, write_report

    played = _quick_episodes(monkeypatch)
    write_report(tmp_path / "report.md", episodes=10, q_table=tmp_path / "no_table", workers=1)
    text = (tmp_path / "report.md").read_text()
    assert Q_NOT_TRAINED in text and "| hunter | q-learning |" not in text
    assert played and not [p for p in played if "q_actor" in p]


def test_the_report_plays_the_table_it_is_given(tmp_path: Path, monkeypatch) -> None:
    from agents.evaluate import Q_NOT_TRAINED, write_report

    played = _quick_episodes(monkeypatch)
    card = {"config": {}, "command": "ludoforge train q --role hunter", "args": {"total_steps": 4096}}
    save_weights(
        tmp_path / "hunter_q",
        {"q": torch.zeros(N_STATES, N_ACTIONS, dtype=torch.float64)},
        card | {"train_seconds": 6.0},
    )
    write_report(tmp_path / "report.md", episodes=10, q_table=tmp_path / "hunter_q", workers=1)
    text = (tmp_path / "report.md").read_text()
    assert "| hunter | q-learning |" in text and Q_NOT_TRAINED not in text
    assert "| hunter (q-learning) |" in text and "| 4,096 |" in text  # its card, in the training table
    assert [p for p in played if "q_actor" in p] == ["hunter:q_actor.<locals>.<lambda>"]


def test_the_shipped_hunter_table_loads_and_acts() -> None:
    """The table `ludoforge publish runs/qlearning/hunter` shipped: its card's hash holds, and it is not the
    untrained all-zero table (which would always stay put)."""
    from agents.observation import OBS_SIZE

    q = load_q_table(q_table_stem("hunter"))
    assert q.shape == (N_STATES, N_ACTIONS) and np.abs(q).sum() > 0
    obs = np.random.default_rng(0).random((64, OBS_SIZE), dtype=np.float32)
    actions = greedy(q, obs)
    assert actions.shape == (64,) and set(actions.tolist()) <= set(range(N_ACTIONS))
