"""The game simulation: a deterministic, fixed-timestep World with no rendering or ML imports."""

from engine.sim.events import (
    PLAYER_ID,
    DamageTaken,
    Death,
    DoorOpened,
    Event,
    ExitReached,
    KeyPicked,
    NpcSawPlayer,
    TreasureFound,
)
from engine.sim.policy import Action, ChasePolicy, NpcObservation, Policy, WanderPolicy
from engine.sim.world import TICK_SECONDS, TICKS_PER_SECOND, Npc, Outcome, Player, World, scripted_policies

__all__ = [
    "PLAYER_ID",
    "TICKS_PER_SECOND",
    "TICK_SECONDS",
    "Action",
    "ChasePolicy",
    "DamageTaken",
    "Death",
    "DoorOpened",
    "Event",
    "ExitReached",
    "KeyPicked",
    "Npc",
    "NpcObservation",
    "NpcSawPlayer",
    "Outcome",
    "Player",
    "Policy",
    "TreasureFound",
    "WanderPolicy",
    "World",
    "scripted_policies",
]
