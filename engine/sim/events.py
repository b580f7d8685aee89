"""Typed events the World emits each step; the HUD, the narrator and the RL envs consume them."""

from __future__ import annotations

from dataclasses import dataclass

PLAYER_ID = 0


@dataclass(frozen=True)
class Event:
    tick: int


@dataclass(frozen=True)
class KeyPicked(Event):
    """`by` is PLAYER_ID or the id of the companion NPC that picked the key up; `keys_held` is theirs."""

    x: int
    y: int
    keys_held: int
    by: int = PLAYER_ID


@dataclass(frozen=True)
class KeyHandedOver(Event):
    """A companion gave the player the keys it carried; `keys_held` is the player's count afterwards."""

    npc_id: int
    count: int
    keys_held: int


@dataclass(frozen=True)
class DoorOpened(Event):
    x: int
    y: int
    keys_left: int


@dataclass(frozen=True)
class DamageTaken(Event):
    """`target` is PLAYER_ID or an NPC id; `source` says what hurt it ("hazard", "enemy", "player")."""

    target: int
    amount: int
    source: str
    health_left: int


@dataclass(frozen=True)
class NpcSawPlayer(Event):
    npc_id: int
    npc_kind: str
    distance: int


@dataclass(frozen=True)
class TreasureFound(Event):
    x: int
    y: int
    total: int


@dataclass(frozen=True)
class ExitReached(Event):
    x: int
    y: int


@dataclass(frozen=True)
class Death(Event):
    """`entity` is PLAYER_ID or an NPC id."""

    entity: int
    kind: str


@dataclass(frozen=True)
class PickupTaken(Event):
    """The player took a pickup the narrator placed (`kind`: "potion" or "lantern")."""

    x: int
    y: int
    kind: str
    health: int


@dataclass(frozen=True)
class HitBlocked(Event):
    """The player's shield took a hit instead of them."""

    source: str
    shield_left: int


@dataclass(frozen=True)
class NpcSummoned(Event):
    """An NPC entered mid-run (a wave of enemies the narrator called)."""

    npc_id: int
    x: int
    y: int


@dataclass(frozen=True)
class NarratorIntervened(Event):
    """The narrator acted (`intervention` names it); `applied` is False when it had nothing to change."""

    intervention: str
    applied: bool
