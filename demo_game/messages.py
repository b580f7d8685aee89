"""Plain one-line messages for sim events, shown in the text box until the narrator takes it over."""

from __future__ import annotations

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


def message_for(event: Event) -> str | None:
    match event:
        case KeyPicked(keys_held=n):
            return f"You pick up a key ({n} held)."
        case DoorOpened():
            return "The lock turns. The door swings open."
        case DamageTaken(target=target, source="hazard") if target == PLAYER_ID:
            return "The floor burns!"
        case DamageTaken(target=target, health_left=h) if target == PLAYER_ID:
            return f"You are hit! ({h} health left)"
        case NpcSawPlayer(npc_kind="enemy"):
            return "Something has spotted you."
        case TreasureFound(total=n):
            return f"Treasure! ({n} found)"
        case Death(entity=e) if e == PLAYER_ID:
            return "You fall."
        case Death(kind="enemy"):
            return "The creature is slain."
        case ExitReached():
            return "You reach the exit!"
    return None
