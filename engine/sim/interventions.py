"""What the narrator can do to a run: each intervention changes the World, none is only words.

The narrator (agents.narrator) chooses; this module carries the choice out, between two ticks, and says
whether it changed anything. A choice with nothing to change (a potion while one lies waiting, a hint with
no way to show) leaves the World as it was, and `applied` is False: the narrator's env penalises those.

| intervention | effect on the World |
|---|---|
| silent | nothing |
| hint | shows the way to the objective for HINT_TICKS (`World.guide_path()`) |
| foreshadow | points out the enemies near the way ahead, for REVEAL_TICKS |
| lore | points out the nearest treasure not yet pointed out, until it is taken |
| encourage | a shield that takes the next hit |
| warn | points out the enemies within WARN_RADIUS, for REVEAL_TICKS |
| helper_item | places a lantern a few steps ahead: taken, it shows the way for the rest of the run |
| enemy_wave | WAVE_SIZE hunters enter, out of sight, 6 to 10 steps away, and come for the player |
| potion | places a potion a few steps ahead: it heals POTION_HEAL |
| harder / easier | one difficulty step: enemies see 2 cells further (nearer), and are faster (slower) at the ends |
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from engine.level import Semantic
from engine.sim.events import Event, NarratorIntervened, NpcSummoned
from engine.sim.grid import bfs_distances, line_of_sight
from engine.sim.objective import path_to_objective
from engine.sim.policy import Role
from engine.sim.world import MAX_DIFFICULTY, MAX_NPCS, MIN_DIFFICULTY, Outcome, Pickup, World

HINT_TICKS = 64  # eight seconds of shown way
REVEAL_TICKS = 96
WARN_RADIUS = 8
FORESHADOW_RADIUS = 3  # enemies this close to the way ahead are foreshadowed
AHEAD = 3  # pickups go this many steps along the way ahead
WAVE_SIZE = 2
WAVE_DISTANCE = (6, 10)
MAX_SUMMONED = 6
"""the most enemies waves may add to one run"""


class Intervention(StrEnum):
    SILENT = "silent"
    HINT = "hint"
    FORESHADOW = "foreshadow"
    LORE = "lore"
    ENCOURAGE = "encourage"
    WARN = "warn"
    HELPER_ITEM = "helper_item"
    ENEMY_WAVE = "enemy_wave"
    POTION = "potion"
    HARDER = "harder"
    EASIER = "easier"


def intervene(world: World, intervention: Intervention | str) -> list[Event]:
    """Carry the narrator's choice out on `world` (between ticks). Returns the events: always a
    NarratorIntervened saying whether the World changed, after any the intervention caused."""
    choice = Intervention(intervention)
    events: list[Event] = []
    applied = world.outcome is Outcome.RUNNING and _EFFECTS[choice](world, events)
    events.append(NarratorIntervened(world.tick, choice.value, applied))
    return events


def _silent(world: World, events: list[Event]) -> bool:
    return False


def _hint(world: World, events: list[Event]) -> bool:
    if not path_to_objective(world):
        return False
    world.guide_until = world.tick + HINT_TICKS
    return True


def _reveal(world: World, near: list[tuple[int, int]], radius: int) -> bool:
    revealed = False
    for npc in world.living_npcs():
        if npc.kind is not Semantic.ENEMY or npc.revealed_until > world.tick:
            continue
        if any(max(abs(npc.x - x), abs(npc.y - y)) <= radius for x, y in near):
            npc.revealed_until = world.tick + REVEAL_TICKS
            revealed = True
    return revealed


def _foreshadow(world: World, events: list[Event]) -> bool:
    return _reveal(world, path_to_objective(world), FORESHADOW_RADIUS)


def _warn(world: World, events: list[Event]) -> bool:
    return _reveal(world, [(world.player.x, world.player.y)], WARN_RADIUS)


def _lore(world: World, events: list[Event]) -> bool:
    p = world.player
    unmarked = [
        pos for pos, kind in world.items.items() if kind is Semantic.TREASURE and pos not in world.marked
    ]
    if not unmarked:
        return False
    world.marked.add(min(unmarked, key=lambda c: (abs(c[0] - p.x) + abs(c[1] - p.y), c)))
    return True


def _encourage(world: World, events: list[Event]) -> bool:
    if world.player.shield > 0:
        return False
    world.player.shield = 1
    return True


def _free_cell_ahead(world: World) -> tuple[int, int] | None:
    """A floor cell on the way ahead (AHEAD steps, or the farthest free one before), else beside the player."""
    p = world.player
    ahead = path_to_objective(world)[:AHEAD]
    beside = [(p.x + dx, p.y + dy) for dx, dy in ((0, -1), (0, 1), (-1, 0), (1, 0))]
    for x, y in [*reversed(ahead), *beside]:
        if (
            world.in_bounds(x, y)
            and world.terrain[y, x] == Semantic.FLOOR.code
            and (x, y) not in world.items
            and (x, y) not in world.pickups
            and world.npc_at(x, y) is None
            and (x, y) != (p.x, p.y)
        ):
            return x, y
    return None


def _place(world: World, pickup: Pickup) -> bool:
    if pickup in world.pickups.values():
        return False
    cell = _free_cell_ahead(world)
    if cell is None:
        return False
    world.pickups[cell] = pickup
    return True


def _helper_item(world: World, events: list[Event]) -> bool:
    return not world.player.lantern and _place(world, Pickup.LANTERN)


def _potion(world: World, events: list[Event]) -> bool:
    return _place(world, Pickup.POTION)


def _enemy_wave(world: World, events: list[Event]) -> bool:
    summoned = sum(1 for npc in world.npcs if npc.id > world.initial_npcs)
    count = min(WAVE_SIZE, MAX_SUMMONED - summoned)
    if count <= 0:
        return False
    p = world.player
    npc_walk = world.walkable() & (world.terrain != Semantic.HAZARD.code)
    dist = bfs_distances(npc_walk, [(p.x, p.y)], WAVE_DISTANCE[1])
    lo, hi = WAVE_DISTANCE
    ys, xs = np.nonzero((dist >= lo) & (dist <= hi) & (world.terrain == Semantic.FLOOR.code))
    blocks = world.sight_blockers()
    cells = [
        (int(x), int(y))
        for x, y in zip(xs, ys, strict=True)
        if (x, y) not in world.items
        and (x, y) not in world.pickups
        and not line_of_sight(blocks, p.x, p.y, int(x), int(y))
    ]
    cells = [c for c in cells if world.npc_at(*c) is None]
    count = min(count, MAX_NPCS - len(world.npcs))  # a wave never takes the run past the World's bound
    if not cells or count <= 0:
        return False
    rng = np.random.default_rng([world.seed, world.tick, 0x3A7E])
    for k in rng.choice(len(cells), size=min(count, len(cells)), replace=False):
        npc = world.spawn_npc(Semantic.ENEMY, Role.HUNTER, *cells[int(k)], alerted=True)
        events.append(NpcSummoned(world.tick, npc.id, npc.x, npc.y))
    return True


def _nudge(step: int):
    def nudge(world: World, events: list[Event]) -> bool:
        level = min(MAX_DIFFICULTY, max(MIN_DIFFICULTY, world.difficulty + step))
        changed = level != world.difficulty
        world.difficulty = level
        return changed

    return nudge


_EFFECTS = {
    Intervention.SILENT: _silent,
    Intervention.HINT: _hint,
    Intervention.FORESHADOW: _foreshadow,
    Intervention.LORE: _lore,
    Intervention.ENCOURAGE: _encourage,
    Intervention.WARN: _warn,
    Intervention.HELPER_ITEM: _helper_item,
    Intervention.ENEMY_WAVE: _enemy_wave,
    Intervention.POTION: _potion,
    Intervention.HARDER: _nudge(+1),
    Intervention.EASIER: _nudge(-1),
}

__all__ = ["Intervention", "intervene"]
