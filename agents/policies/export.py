"""SB3 policy → ONNX (obs → logits), and the parity check that the ONNX file acts exactly like the torch policy."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.memory import ObservationHistory
from agents.observation import OBS_SIZE
from agents.policies.onnx_policy import OnnxPolicy


class _Actor(nn.Module):
    """The deterministic half of an SB3 ActorCriticPolicy: observation → action logits."""

    def __init__(self, policy: Any) -> None:
        super().__init__()
        self.features = policy.pi_features_extractor
        self.mlp = policy.mlp_extractor
        self.head = policy.action_net

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.mlp.forward_actor(self.features(obs)))


def export_onnx(policy: Any, path: str | Path, frames: int = 1) -> Path:
    """Write the policy's actor as ONNX: input `obs` (batch, frames * OBS_SIZE) float32 (agents.memory), output
    `logits` (batch, 5)."""
    written = write_onnx(_Actor(policy).to("cpu").eval(), frames * OBS_SIZE, path)
    policy.to(policy.device)
    return written


def write_onnx(actor: nn.Module, obs_size: int, path: str | Path) -> Path:
    """Write `actor` (a CPU module, observation → logits) as ONNX with input `obs` (batch, obs_size) and
    output `logits`; atomically, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(2, obs_size)
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed": not ours to fix
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation chatter, not ours
        program = torch.onnx.export(
            actor,
            (example,),
            input_names=["obs"],
            output_names=["logits"],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            dynamo=True,
            verbose=False,
        )
    tmp = path.with_suffix(".onnx.tmp")
    program.save(str(tmp))
    tmp.replace(path)
    return path


def greedy_parity(
    policy: Any, onnx_path: str | Path, env: Any, steps: int, seed: int, frames: int = 1
) -> dict[str, float]:
    """Play the torch policy greedily in a BatchedNpcEnv for `steps` steps and compare the ONNX file's greedy
    action on every input met (the last `frames` observations, agents.memory): the fraction identical (1.0
    means all) and the largest logit gap."""
    onnx = OnnxPolicy(onnx_path)
    history = ObservationHistory(env.num_envs, frames)
    obs = history.push(env.reset(np.arange(env.num_envs) + seed))
    seen, same, gap = 0, 0, 0.0
    actor = _Actor(policy).to("cpu").eval()
    for _ in range(steps):
        with torch.no_grad():
            logits = actor(torch.from_numpy(obs)).numpy()
        theirs = onnx.logits(obs)
        same += int((logits.argmax(1) == theirs.argmax(1)).sum())
        seen += len(obs)
        gap = max(gap, float(np.abs(logits - theirs).max()))
        obs, _, _, _, info = env.step(logits.argmax(1))
        history.clear(info["done"])
        obs = history.push(obs)
    policy.to(policy.device)
    return {"observations": seen, "identical_fraction": same / seen, "max_logit_gap": gap}
