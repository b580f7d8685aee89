"""Run a shipped ONNX policy behind the engine's `Policy` protocol, so the game's NPCs act through it.

Each file takes `obs` (batch, OBS_SIZE) float32, laid out as `agents.observation` documents, and returns
`logits` (batch, 5) over stay, up, down, left, right; the greedy action is their argmax. Any ONNX runtime can
run them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from agents.observation import OBS_SIZE, encode
from engine.errors import LudoforgeError
from engine.sim.policy import SCRIPTED_POLICIES, Action, NpcObservation, Policy, Role
from engine.sim.world import Npc

POLICY_DIR = Path(__file__).parent
TRAINED_ROLES = (Role.HUNTER, Role.GUARD, Role.COMPANION)
_ACTIONS = (Action.NOOP, Action.UP, Action.DOWN, Action.LEFT, Action.RIGHT)


class PolicyFileError(LudoforgeError, ValueError):
    """A policy file that is missing or does not have the expected inputs and outputs."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


def policy_path(role: Role | str) -> Path:
    return POLICY_DIR / f"{Role(role).value}.onnx"


def policy_card(role: Role | str) -> dict[str, Any]:
    return json.loads(policy_path(role).with_suffix(".json").read_text())


@cache
def _session(path: Path):
    import onnxruntime as ort

    if not path.is_file():
        raise PolicyFileError(path, "no such policy file (train one with `ludoforge train npc --role ...`)")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one small MLP per NPC turn: threads cost more than they save
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    if len(inputs) != 1 or inputs[0].shape[-1] != OBS_SIZE:
        raise PolicyFileError(path, f"expected one input of shape (batch, {OBS_SIZE})")
    return session


class OnnxPolicy:
    """An engine `Policy` backed by an ONNX file: greedy over the logits."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._session = _session(self.path)
        self._input = self._session.get_inputs()[0].name

    def logits(self, observations: np.ndarray) -> np.ndarray:
        """(batch, 5) logits for (batch, OBS_SIZE) observation vectors."""
        return self._session.run(None, {self._input: np.asarray(observations, np.float32)})[0]

    def act(self, observation: NpcObservation) -> Action:
        return _ACTIONS[int(self.logits(encode(observation)[None])[0].argmax())]


def trained_policies(npc: Npc) -> Policy:
    """The game's policy table: the shipped trained policy for hunters, guards and companions; villagers keep
    their scripted wander."""
    if npc.role in TRAINED_ROLES:
        return OnnxPolicy(policy_path(npc.role))
    return SCRIPTED_POLICIES[npc.role]()
