"""The game simulation: a deterministic, fixed-timestep World with no rendering or ML imports."""

from engine.sim.events import (
    PLAYER_ID,
    DamageTaken,
    Death,
    DoorOpened,
    Event,
    ExitReached,
    KeyHandedOver,
    KeyPicked,
    NpcSawPlayer,
    TreasureFound,
)
from engine.sim.policy import (
    Action,
    ChasePolicy,
    FollowPolicy,
    GuardPolicy,
    NpcObservation,
    Policy,
    Role,
    WanderPolicy,
)
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
    "FollowPolicy",
    "GuardPolicy",
    "KeyHandedOver",
    "KeyPicked",
    "Npc",
    "NpcObservation",
    "NpcSawPlayer",
    "Outcome",
    "Player",
    "Policy",
    "Role",
    "TreasureFound",
    "WanderPolicy",
    "World",
    "scripted_policies",
]
