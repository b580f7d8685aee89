"""Observation memory: a policy input made of an NPC's last `frames` observation vectors, oldest first.

One observation cannot say who the player is. A hunter or a guard that watches a player for a few decisions
can tell an evader (who steps away once it sees an enemy within four steps) from a runner or a fighter, and an
MLP can only use that if it sees those decisions. `ObservationHistory` is the one definition of the stacked
input: the VecEnv wrapper PPO trains on, the batched test-level evaluation, the single-env evaluation and the
game's ONNX policies all build it here. Before an episode's first decision the missing frames are zeros.

The input is `frames * OBS_SIZE` floats: frame 0 (the oldest) first, the current observation last. A shipped
policy's frame count is its ONNX input's width over OBS_SIZE (1 for a policy without memory).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from agents.observation import OBS_SIZE

MAX_FRAMES = 16


def checked_frames(frames: int) -> int:
    if not 1 <= frames <= MAX_FRAMES:
        raise ValueError(f"frames: expected 1..{MAX_FRAMES}, got {frames}")
    return int(frames)


class ObservationHistory:
    """The last `frames` observations of each of `n` NPCs (or envs)."""

    def __init__(self, n: int, frames: int) -> None:
        self.frames = checked_frames(frames)
        self.buffer = np.zeros((n, self.frames, OBS_SIZE), np.float32)

    def clear(self, rows: np.ndarray | slice = slice(None)) -> None:
        """Forget the history of `rows` (a mask or indices): their next push starts an episode."""
        self.buffer[rows] = 0.0

    def push(self, observations: np.ndarray) -> np.ndarray:
        """Add one observation per row; returns the (n, frames * OBS_SIZE) policy input."""
        self.buffer[:, :-1] = self.buffer[:, 1:]
        self.buffer[:, -1] = observations
        return self.buffer.reshape(len(self.buffer), -1).copy()

    def peek(self, rows: np.ndarray, observations: np.ndarray) -> np.ndarray:
        """The input `push` would give `rows` for `observations`, without changing the history: an episode's
        terminal observation, whose row starts afresh at once."""
        stacked = np.concatenate([self.buffer[rows, 1:], observations[:, None]], axis=1)
        return stacked.reshape(len(stacked), -1)


def stacked_space(space: spaces.Box, frames: int) -> spaces.Box:
    return spaces.Box(np.tile(space.low, frames), np.tile(space.high, frames), dtype=np.float32)


class MemoryVecEnv(VecEnvWrapper):
    """A VecEnv whose observations are each env's last `frames` observations (`ObservationHistory`). A finished
    env's `terminal_observation` is stacked with its own episode's history; its reset observation starts a new
    one."""

    def __init__(self, venv: VecEnv, frames: int) -> None:
        assert isinstance(venv.observation_space, spaces.Box)
        self.history = ObservationHistory(venv.num_envs, frames)
        super().__init__(venv, observation_space=stacked_space(venv.observation_space, frames))

    def reset(self) -> np.ndarray:
        observations = self.venv.reset()
        self.history.clear()
        return self.history.push(np.asarray(observations))

    def step_wait(self) -> Any:
        observations, rewards, dones, infos = self.venv.step_wait()
        done = np.flatnonzero(dones)
        if len(done):
            terminal = np.stack([infos[i]["terminal_observation"] for i in done])
            for i, stacked in zip(done, self.history.peek(done, terminal), strict=True):
                infos[i]["terminal_observation"] = stacked
            self.history.clear(done)
        return self.history.push(np.asarray(observations)), rewards, dones, infos


__all__ = ["MAX_FRAMES", "MemoryVecEnv", "ObservationHistory", "checked_frames", "stacked_space"]
