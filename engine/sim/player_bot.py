"""A scripted player: it drives the headless autoplay and stands in for players in tests and RL envs."""

from __future__ import annotations

from engine.level import Semantic
from engine.sim.grid import shortest_path
from engine.sim.policy import MOVES, Action
from engine.sim.world import Outcome, World

_HAZARD, _EXIT, _LOCKED = Semantic.HAZARD.code, Semantic.EXIT.code, Semantic.LOCKED_DOOR.code


class PlayerBot:
    """Plays with full knowledge of the map: fight adjacent enemies, head for the exit when it is reachable,
    otherwise open a locked door if holding a key, otherwise fetch the nearest key. Crosses hazards only
    when no safe path exists. The plan is kept until the world changes (a door, a key) or it is blocked.
    """

    def __init__(self) -> None:
        self._plan: list[tuple[int, int]] = []
        self._plan_key: tuple[int, ...] | None = None

    def act(self, world: World) -> Action:
        if world.outcome is not Outcome.RUNNING:
            return Action.NOOP
        p = world.player
        for k, action in enumerate(MOVES):
            dx, dy = action.delta
            npc = world.npc_at(p.x + dx, p.y + dy)
            if npc is not None and npc.kind is Semantic.ENEMY:
                return MOVES[k]
        key = (world.terrain_version, p.keys, len(world.items))
        if key != self._plan_key:
            self._plan, self._plan_key = self._make_plan(world), key
        if self._plan and self._plan[0] == (p.x, p.y):
            self._plan.pop(0)  # last tick's move succeeded
        if not self._plan or abs(self._plan[0][0] - p.x) + abs(self._plan[0][1] - p.y) != 1:
            self._plan = self._make_plan(world)
        if not self._plan:
            return Action.NOOP
        step = (self._plan[0][0] - p.x, self._plan[0][1] - p.y)
        return next(a for a in MOVES if a.delta == step)

    def _make_plan(self, world: World) -> list[tuple[int, int]]:
        p = world.player
        walk = world.walkable()
        safe = walk & (world.terrain != _HAZARD)
        exits = [(int(x), int(y)) for y, x in zip(*(world.terrain == _EXIT).nonzero(), strict=True)]
        locked = [(int(x), int(y)) for y, x in zip(*(world.terrain == _LOCKED).nonzero(), strict=True)]
        keys = [pos for pos, kind in world.items.items() if kind is Semantic.KEY]
        for goals in (exits, locked if p.keys > 0 else [], keys):
            for mask in (safe, walk):
                path = shortest_path(mask, (p.x, p.y), goals)
                if path:
                    return path
        return []
