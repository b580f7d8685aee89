"""The shipped narrator policy: an ONNX file (observation → logits over the eleven interventions) run with
onnxruntime. Its card (narrator.json beside it) says how it was trained and how it scored.

The narrator samples its choice from the policy's distribution, as PPO trained it, with a seeded generator so a
run is still reproducible. Greedy (argmax) play is available too; docs/narrator_eval.md measures both (an
earlier policy, played greedily, was nearly always silent, because "silent" was its most likely choice in most
states).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from agents.narrator.session import INTERVENTIONS, OBS_SIZE
from agents.policies.onnx_policy import POLICY_DIR, PolicyFileError, checked_session

NARRATOR_POLICY = POLICY_DIR / "narrator.onnx"


@cache
def _session(path: Path):
    def width_problem(width: int) -> str | None:
        return None if width == OBS_SIZE else f"expected an input of shape (batch, {OBS_SIZE}), got {width}"

    hint = "train one with `ludoforge train narrator`"
    return checked_session(path, len(INTERVENTIONS), width_problem, hint)


class OnnxNarrator:
    """The trained narrator: `act(obs)` is the intervention index, sampled from the policy (seeded), or its
    argmax when `greedy`."""

    name = "ppo"

    def __init__(self, path: str | Path = NARRATOR_POLICY, seed: int = 0, greedy: bool = False) -> None:
        try:
            resolved = Path(path).resolve()
        except (OSError, RuntimeError, ValueError) as exc:  # a link loop, a NUL in the name
            raise PolicyFileError(path, "path", f"cannot be resolved ({exc})") from None
        self.session = _session(resolved)
        self.rng = np.random.default_rng([seed, 0x4A77])
        self.greedy = greedy

    def logits(self, obs: np.ndarray) -> np.ndarray:
        batch = np.asarray(obs, np.float32).reshape(-1, OBS_SIZE)
        return self.session.run(None, {self.session.get_inputs()[0].name: batch})[0]

    def act(self, obs: np.ndarray) -> int:
        logits = self.logits(obs)[0].astype(np.float64)
        if not np.isfinite(logits).all():  # a file that passed the load probes but fails on this input
            return 0  # silent
        if self.greedy:
            return int(logits.argmax())
        p = np.exp(logits - logits.max())
        return int(self.rng.choice(len(p), p=p / p.sum()))


__all__ = ["NARRATOR_POLICY", "OnnxNarrator"]
