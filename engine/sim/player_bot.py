"""A scripted player: it drives the headless autoplay and stands in for players in tests and RL envs."""

from __future__ import annotations

from engine.level import Semantic
from engine.sim.objective import path_to_objective
from engine.sim.policy import MOVES, Action
from engine.sim.world import Outcome, World


class PlayerBot:
    """Plays with full knowledge of the map: fight adjacent enemies, otherwise walk to the objective
    (`engine.sim.objective`). The plan is kept until the world changes (a door, a key) or it is blocked.
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
            self._plan, self._plan_key = path_to_objective(world), key
        if self._plan and self._plan[0] == (p.x, p.y):
            self._plan.pop(0)  # last tick's move succeeded
        if not self._plan or abs(self._plan[0][0] - p.x) + abs(self._plan[0][1] - p.y) != 1:
            self._plan = path_to_objective(world)
        if not self._plan:
            return Action.NOOP
        step = (self._plan[0][0] - p.x, self._plan[0][1] - p.y)
        return next(a for a in MOVES if a.delta == step)
