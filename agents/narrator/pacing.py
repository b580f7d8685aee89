"""Tension, the pacing curve it should follow, progress through the dungeon, and when help is needed.

Measured from the World alone, so the narrator's env, its baselines and the game share one definition.
Tension is the Left 4 Dead director's "intensity" idea (Booth, 2009) on our sim: it rises with enemies
hunting nearby and with lost health, and relaxes over a few seconds. The target follows a rising action with
waves of build-up and relief (Freytag's arc sampled at the player's progress), peaking near the exit.
"""

from __future__ import annotations

import math

from engine.level import Semantic
from engine.sim.grid import UNREACHED, WALKABLE_LUT, bfs_distances
from engine.sim.interventions import Intervention
from engine.sim.objective import cells_of
from engine.sim.world import World

THREAT_RADIUS = 6  # enemies hunting within this many cells (Chebyshev) make the moment tense
TENSION_TICKS = 24  # the tension meter's time constant: three seconds
STRUGGLING_TICKS = 32  # four seconds without getting closer to the objective is struggling
_EXIT, _LOCKED, _ENEMY = Semantic.EXIT.code, Semantic.LOCKED_DOOR.code, Semantic.ENEMY


def threat(world: World) -> float:
    """The moment's raw tension in [0, 1]: hunting enemies nearby (up to three) and lost health."""
    p = world.player
    hunting = sum(
        1
        for n in world.npcs
        if n.alive and n.kind is _ENEMY and n.alerted and max(abs(n.x - p.x), abs(n.y - p.y)) <= THREAT_RADIUS
    )
    return 0.6 * min(hunting, 3) / 3 + 0.4 * (1.0 - p.health / p.max_health)


class TensionMeter:
    """Threat smoothed over TENSION_TICKS: a hit or a chase is felt for a few seconds after it ends."""

    def __init__(self) -> None:
        self.value = 0.0

    def update(self, world: World) -> float:
        self.value += (threat(world) - self.value) / TENSION_TICKS
        return self.value


def target_tension(progress: float) -> float:
    """The pacing curve: tension the run should have at `progress` (0 at the start, 1 at the exit). A rising
    line with three build-up and relief waves, from 0.1 to its peak of about 0.55 near the exit."""
    progress = min(max(progress, 0.0), 1.0)
    return 0.1 + 0.35 * progress + 0.1 * math.sin(3 * math.pi * progress) ** 2


class ProgressMeter:
    """How far along the run is: 1 - (walking distance to the exit) / (that distance from the start),
    with every locked door counted open, so fetching a key does not read as going backwards forever."""

    def __init__(self, world: World) -> None:
        terrain = world.terrain
        walk = WALKABLE_LUT[terrain] | (terrain == _LOCKED)
        self._to_exit = bfs_distances(walk, cells_of(terrain, _EXIT))
        start = int(self._to_exit[world.player.y, world.player.x])
        self._start = max(start, 1)
        self.best = 0.0

    def update(self, world: World) -> float:
        """The best progress so far (it never falls)."""
        d = int(self._to_exit[world.player.y, world.player.x])
        if d != UNREACHED:
            self.best = max(self.best, 1.0 - d / self._start)
        return self.best


HELP = frozenset(
    {
        Intervention.HINT,
        Intervention.HELPER_ITEM,
        Intervention.POTION,
        Intervention.EASIER,
        Intervention.ENCOURAGE,
    }
)
"""interventions that help the player; helping someone who is doing fine is an intervention nobody needed"""


def help_needed(choice: Intervention, world: World, since_progress: int, recent_damage: int) -> bool:
    """Whether the player needs this kind of help now: way-finding when they have stalled, healing or a
    shield or an easier game when they are hurt. Interventions that are not help are never 'needed'
    in this sense; whether they are wanted is the pacing's business."""
    hurt = world.player.health <= world.player.max_health // 2 or recent_damage >= 2
    match choice:
        case Intervention.HINT | Intervention.HELPER_ITEM:
            return since_progress >= STRUGGLING_TICKS
        case Intervention.POTION | Intervention.EASIER:
            return hurt
        case Intervention.ENCOURAGE:
            return hurt or since_progress >= STRUGGLING_TICKS
    return False


def area_of(x: int, y: int) -> tuple[int, int]:
    """The coarse area a cell belongs to (8x8 blocks): entering a new one is seeing something new."""
    return x // 8, y // 8


__all__ = [
    "HELP",
    "ProgressMeter",
    "TensionMeter",
    "area_of",
    "help_needed",
    "target_tension",
    "threat",
]
