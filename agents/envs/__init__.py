"""Gymnasium envs for the game's NPC roles, on `engine.sim.World`; `register_envs()` registers them all."""

from __future__ import annotations

import gymnasium as gym

from agents.envs.narrator_env import NarratorEnv
from agents.envs.npc_env import ENV_CLASSES, CompanionEnv, GuardEnv, HunterEnv, NpcEnv
from engine.sim.policy import Role

ENV_IDS: dict[Role, str] = {
    Role.HUNTER: "ludoforge/Hunter-v0",
    Role.GUARD: "ludoforge/Guard-v0",
    Role.COMPANION: "ludoforge/Companion-v0",
}
NARRATOR_ENV_ID = "ludoforge/Narrator-v0"


def register_envs() -> list[str]:
    """Register every ludoforge env with Gymnasium (idempotent); returns the ids."""
    for role, env_id in ENV_IDS.items():
        if env_id not in gym.registry:
            cls = ENV_CLASSES[role]
            gym.register(env_id, entry_point=f"{cls.__module__}:{cls.__name__}")
    if NARRATOR_ENV_ID not in gym.registry:
        gym.register(NARRATOR_ENV_ID, entry_point=f"{NarratorEnv.__module__}:{NarratorEnv.__name__}")
    return [*ENV_IDS.values(), NARRATOR_ENV_ID]


__all__ = [
    "ENV_IDS",
    "NARRATOR_ENV_ID",
    "CompanionEnv",
    "GuardEnv",
    "HunterEnv",
    "NarratorEnv",
    "NpcEnv",
    "register_envs",
]
