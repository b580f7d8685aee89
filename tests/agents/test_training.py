"""The training scripts, end to end in seconds (`--dry-run`), and the curriculum files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.policies import OnnxPolicy
from agents.train.curriculum import CURRICULA_DIR, CurriculumError, load_curriculum
from agents.train.ppo_npc import main as ppo_main
from agents.train.qlearning import main as q_main


def test_ppo_dry_run_trains_exports_and_writes_a_card(tmp_path: Path) -> None:
    ppo_main(["--role", "companion", "--dry-run", "--run-dir", str(tmp_path)])
    folder = tmp_path / "companion"
    card = json.loads((folder / "companion.json").read_text())
    assert card["steps"] >= 2048 and card["onnx_parity"]["identical_fraction"] == 1.0
    assert card["command"].startswith("python -m agents.train.ppo_npc") and "--dry-run" in card["command"]
    assert {"trained", "strongest scripted", "random"} <= set(card["results_on_test_levels"])
    assert list((folder / "checkpoints").glob("step_*.safetensors"))
    assert list(folder.glob("ppo_1/events.out.tfevents.*"))  # TensorBoard
    assert (folder / "companion_curve.png").stat().st_size > 0  # the learning curve, beside the policy
    OnnxPolicy(folder / "companion.onnx")  # loads


def test_q_learning_dry_run_learns_and_writes_a_loadable_table_with_its_card(tmp_path: Path) -> None:
    from agents.policies.q_table import load_q_table

    q_main(["--role", "hunter", "--dry-run", "--run-dir", str(tmp_path)])
    folder = tmp_path / "hunter"
    card = json.loads((folder / "hunter_q.json").read_text())
    assert card["kind"] == "ludoforge.q_table" and card["role"] == "hunter" and card["seed"] == 1
    assert card["command"] and card["args"]["total_steps"] == 4096
    assert card["curve"] and all(0.0 <= point["test_success"] <= 1.0 for point in card["curve"])
    table = load_q_table(folder / "hunter_q")
    assert table.shape == (card["config"]["n_states"], card["config"]["n_actions"])
    assert np.isfinite(table).all() and np.count_nonzero(table) > 0  # 4,096 steps of updates moved it
    assert json.loads((folder / "hunter_q_curve.json").read_text()) == card["curve"]


def test_shipped_curricula_parse() -> None:
    for path in CURRICULA_DIR.glob("*.yaml"):
        lessons = load_curriculum(path)
        assert all(lesson[-1].threshold is None for lesson in lessons.values())


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("environment_parameters: 3", "environment_parameters"),
        ("environment_parameters:\n  styles:\n    curriculum: []", "styles.curriculum"),
        (
            "environment_parameters:\n  styles:\n    curriculum:\n      - value: 1\n      - value: 2",
            "completion_criteria",
        ),
        (
            "environment_parameters:\n  x:\n    curriculum:\n"
            "      - value: 1\n        completion_criteria: {threshold: 2}\n      - value: 2",
            "threshold",
        ),
    ],
)
def test_bad_curricula_name_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(CurriculumError, match=field):
        load_curriculum(path)


def test_narrator_trainers_dry_run_end_to_end(tmp_path: Path) -> None:
    """PPO (cleanrl-style), tabular Q and the player model: each script runs whole, in seconds."""
    from agents.narrator.policy import OnnxNarrator
    from agents.narrator.q_table import QNarrator
    from agents.train.fit_player_model import main as fit_main
    from agents.train.ppo_narrator import main as narrator_main
    from agents.train.q_narrator import main as q_narrator_main

    narrator_main(["--dry-run", "--run-dir", str(tmp_path / "ppo")])
    card = json.loads((tmp_path / "ppo" / "narrator.json").read_text())
    assert card["onnx_parity"]["identical_fraction"] == 1.0 and "--dry-run" in card["command"]
    assert {"results_held_out", "results_held_out_greedy"} <= set(card)
    assert list((tmp_path / "ppo").glob("ludoforge/Narrator-v0__ppo_narrator__1__*/events.out.tfevents.*"))
    OnnxNarrator(tmp_path / "ppo" / "narrator.onnx")  # loads
    q_narrator_main(["--dry-run", "--run-dir", str(tmp_path / "q")])
    assert QNarrator.load(tmp_path / "q" / "narrator_q").q.shape == (144, 11)
    fit_main(["--dry-run", "--out", str(tmp_path / "model.json")])
    assert json.loads((tmp_path / "model.json").read_text())["kind"] == "ludoforge.player_model"
