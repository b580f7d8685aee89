"""Simulated players: parameterised personas that play a run on the World, and feel bored, frustrated or
entertained by it and by the narrator, until they win, die or quit.

The narrator is trained and judged against these, so their model is written out here in full.

**Where the idea comes from.** The personas follow procedural personas (Holmgård, Liapis, Togelius and
Yannakakis, 2014-2018: MiniDungeons players as utility-driven agents, such as the runner, the monster killer,
the treasure collector and the completionist) with Bartle's explorer (1996) and a struggling novice added.
Their feelings follow the flow channel (Csikszentmihalyi, 1990; used for games by Chen, 2007, and in
experience-driven content generation by Yannakakis and Togelius, 2011): too little challenge or novelty
bores, too much frustrates. Quitting is a hazard that rises once boredom or frustration passes the persona's
threshold, as in churn models (Hadiji et al., 2014). Simulated players standing in for real ones to train a
drama manager is Wang, Rowe, Mott and Lester (2017, 2018).

**Play.** Each tick the player: fights an adjacent enemy (a cautious, hurt player backs off instead), else
walks its current *leg*. A leg is re-chosen when it ends, every LEG_TICKS, or when the world changes
(a door, a key, a pickup, a hint):
- follow the narrator's shown way, if one is shown and the player trusts it (1 - pride / 2);
- pick up a pickup within PICKUP_RADIUS (a potion only when hurt);
- go for treasure: one the narrator pointed out, with probability `curiosity`, or one in sight within
  CURIOSITY_RADIUS, with probability `curiosity`;
- with probability `orientation`, walk to the objective (engine.sim.objective); a cautious player routes
  around the enemies it knows of (seen, or pointed out by the narrator);
- otherwise explore: walk to a random cell 4 to 14 steps away, preferring areas not yet seen.
A slip (a random step) happens with probability (1 - skill) * SLIP.

**Feelings** (per tick; 1.0 is the threshold):
- Boredom grows by 1 / (patience seconds) per second, and by up to `thrill` more when the tension is below
  what the player wants. Novelty relieves it: a key, a door, treasure, a new area, a fight, a pickup, new
  enemies (more for thrill seekers), and lines of the kinds the player likes.
- Frustration decays with a 25 s time constant. It grows with damage taken, with every second spent
  stalled (the more, the worse the player's orientation), with lines beyond the player's `chattiness`
  (lines per minute), and with help the player did not need (scaled by `pride`). Progress and keys
  relieve it.
- Each second, past the threshold, the player quits with probability QUIT_RATE * (excess over it),
  boredom measured against 1 and frustration against `tolerance`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields, replace

import numpy as np

from agents.narrator.pacing import HELP, area_of
from engine.level import Semantic
from engine.sim import events as sim
from engine.sim.grid import bfs_distances, line_of_sight, shortest_path
from engine.sim.interventions import Intervention
from engine.sim.objective import path_to_objective
from engine.sim.policy import MOVES, Action
from engine.sim.world import TICKS_PER_SECOND, Outcome, Pickup, World

LEG_TICKS = 40
PICKUP_RADIUS = 5
CURIOSITY_RADIUS = 7
EXPLORE_STEPS = (4, 14)
SLIP = 0.3
QUIT_RATE = 0.25  # per second, per unit of feeling over the threshold
TALK_WINDOW = 60 * TICKS_PER_SECOND
_HAZARD = Semantic.HAZARD.code
_TREASURE, _ENEMY = Semantic.TREASURE, Semantic.ENEMY

# How much each thing that happens relieves boredom (novelty) or changes frustration.
NOVELTY = {"key": 0.4, "door": 0.4, "treasure": 0.5, "area": 0.05, "fight": 0.1, "pickup": 0.2, "line": 0.25}
DAMAGE_FRUSTRATION = 0.15
STALLED_FRUSTRATION = 0.08  # per second stalled, for a player with no sense of direction at all
SPAM_FRUSTRATION = 0.15  # per line over the player's chattiness, times the excess (up to 3)
UNNEEDED_HELP_FRUSTRATION = 0.15
PROGRESS_RELIEF = 0.02
KEY_RELIEF = 0.2
FRUSTRATION_DECAY_TICKS = 25 * TICKS_PER_SECOND


@dataclass(frozen=True)
class PlayerType:
    """A persona's parameters; `jittered(rng)` draws one player of the type."""

    name: str
    skill: float
    """a step goes where intended with probability 1 - (1 - skill) * SLIP"""
    orientation: float
    """chance per leg of knowing the way to the objective without help"""
    curiosity: float
    """chance of a detour for treasure"""
    caution: float
    """keeps away from known enemies; backs off when hurt"""
    patience: float
    """seconds of nothing happening before boredom reaches its threshold"""
    tolerance: float
    """frustration it takes to start quitting"""
    chattiness: float
    """narrator lines per minute the player enjoys; more are noise"""
    pride: float
    """how much unneeded help annoys, and how little the player trusts a shown way"""
    thrill: float
    """the tension the player wants; less than that bores"""
    likes: frozenset[str] = frozenset()
    """kinds of narrator line that entertain this player"""

    def jittered(self, rng: np.random.Generator, spread: float = 0.1) -> PlayerType:
        """One player of this type: every number scaled by a factor in 1 ± spread (probabilities kept in
        [0, 1])."""
        changes = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float):
                value *= 1.0 + spread * (2.0 * rng.random() - 1.0)
                changes[f.name] = (
                    min(value, 1.0) if f.name not in ("patience", "tolerance", "chattiness") else value
                )
        return replace(self, **changes)


def _type(name: str, likes: tuple[str, ...] = (), **numbers: float) -> PlayerType:
    return PlayerType(name=name, likes=frozenset(likes), **numbers)


TRAINING_TYPES: dict[str, PlayerType] = {
    t.name: t
    for t in (
        _type("explorer", ("lore", "foreshadow"), skill=0.75, orientation=0.5, curiosity=0.8, caution=0.4,
              patience=20.0, tolerance=1.2, chattiness=4.0, pride=0.2, thrill=0.35),
        _type("speedrunner", (), skill=0.95, orientation=0.9, curiosity=0.0, caution=0.1,
              patience=8.0, tolerance=1.0, chattiness=1.0, pride=0.9, thrill=0.45),
        _type("cautious", ("warn", "foreshadow", "encourage"), skill=0.7, orientation=0.65, curiosity=0.3,
              caution=0.9, patience=25.0, tolerance=0.9, chattiness=3.0, pride=0.2, thrill=0.1),
        _type("novice", ("encourage", "hint"), skill=0.45, orientation=0.25, curiosity=0.3, caution=0.3,
              patience=15.0, tolerance=0.8, chattiness=3.0, pride=0.0, thrill=0.15),
        _type("completionist", ("lore",), skill=0.7, orientation=0.6, curiosity=1.0, caution=0.5,
              patience=30.0, tolerance=1.1, chattiness=3.0, pride=0.3, thrill=0.25),
    )
}  # fmt: skip
"""the personas the narrator trains against"""

HELD_OUT_TYPES: dict[str, PlayerType] = {
    t.name: t
    for t in (
        _type("casual", ("encourage", "lore"), skill=0.55, orientation=0.4, curiosity=0.5, caution=0.5,
              patience=12.0, tolerance=0.8, chattiness=2.0, pride=0.4, thrill=0.3),
        _type("thrill_seeker", ("warn", "foreshadow"), skill=0.8, orientation=0.55, curiosity=0.2, caution=0.0,
              patience=10.0, tolerance=1.1, chattiness=2.0, pride=0.6, thrill=0.7),
    )
}  # fmt: skip
"""personas used only to evaluate: the narrator never trains against them"""

ALL_TYPES = TRAINING_TYPES | HELD_OUT_TYPES


def _safe_path(world: World, goals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The shortest way to the nearest goal off hazards, or across them when there is no other."""
    p = world.player
    walk = world.walkable()
    return shortest_path(walk & (world.terrain != _HAZARD), (p.x, p.y), goals) or shortest_path(
        walk, (p.x, p.y), goals
    )


class SimulatedPlayer:
    """One player of a `PlayerType` on one run: `act(world)` each tick, then `feel(...)`; `quit` says
    whether they have left."""

    def __init__(self, player_type: PlayerType, seed: int) -> None:
        self.type = player_type
        self.rng = np.random.default_rng([seed, 0x9A7E])
        self.boredom = 0.0
        self.frustration = 0.0
        self.quit = False
        self._leg: list[tuple[int, int]] = []
        self._leg_key: tuple[int, ...] | None = None
        self._leg_ends = 0
        self._areas: set[tuple[int, int]] = set()
        self._lines: deque[int] = deque()

    # ---------------------------------------------------------------------------------------------- play

    def act(self, world: World) -> Action:
        if world.outcome is not Outcome.RUNNING or self.quit:
            return Action.NOOP
        t, p, rng = self.type, world.player, self.rng
        adjacent = [
            a for a in MOVES if (n := world.npc_at(p.x + a.delta[0], p.y + a.delta[1])) and n.kind is _ENEMY
        ]
        if adjacent:
            hurt = p.health <= p.max_health // 2
            if not (hurt and rng.random() < t.caution):
                return adjacent[0]
            away = [
                a
                for a in MOVES
                if a not in adjacent and self._free(world, p.x + a.delta[0], p.y + a.delta[1])
            ]
            if away:
                return away[int(rng.integers(len(away)))]
        if rng.random() < (1.0 - t.skill) * SLIP:
            return MOVES[int(rng.integers(4))]
        if self._leg and self._leg[0] == (p.x, p.y):
            self._leg.pop(0)  # last tick's step went through
        key = (world.terrain_version, p.keys, len(world.items), len(world.pickups), world.guide_shown)
        on_leg = bool(self._leg) and abs(self._leg[0][0] - p.x) + abs(self._leg[0][1] - p.y) == 1
        if key != self._leg_key or world.tick >= self._leg_ends or not on_leg:
            self._leg, self._leg_key, self._leg_ends = self._choose_leg(world), key, world.tick + LEG_TICKS
        if not self._leg:
            return Action.NOOP
        step = (self._leg[0][0] - p.x, self._leg[0][1] - p.y)
        return next((a for a in MOVES if a.delta == step), Action.NOOP)

    def _free(self, world: World, x: int, y: int) -> bool:
        return world.in_bounds(x, y) and bool(world.walkable()[y, x]) and world.npc_at(x, y) is None

    def _choose_leg(self, world: World) -> list[tuple[int, int]]:
        t, p, rng = self.type, world.player, self.rng
        if world.guide_shown and rng.random() < 1.0 - t.pride / 2 and (way := world.guide_path()):
            return list(way)
        wanted = [
            c
            for c, kind in world.pickups.items()
            if abs(c[0] - p.x) + abs(c[1] - p.y) <= PICKUP_RADIUS
            and (kind is Pickup.LANTERN or p.health < p.max_health)
        ]
        if wanted and (path := _safe_path(world, wanted)):
            return path
        treasure = [c for c in world.marked if world.items.get(c) is _TREASURE]
        if not treasure:
            blocks = world.sight_blockers()
            treasure = [
                c
                for c, kind in world.items.items()
                if kind is _TREASURE
                and max(abs(c[0] - p.x), abs(c[1] - p.y)) <= CURIOSITY_RADIUS
                and line_of_sight(blocks, p.x, p.y, *c)
            ]
        if treasure and rng.random() < t.curiosity and (path := _safe_path(world, treasure)):
            return path
        if rng.random() < t.orientation:
            return self._cautious_path(world) if rng.random() < t.caution else path_to_objective(world)
        return self._explore(world)

    def _cautious_path(self, world: World) -> list[tuple[int, int]]:
        """The way to the objective around the enemies the player knows of, when there is such a way."""
        known = [
            n
            for n in world.living_npcs()
            if n.kind is _ENEMY and (n.sees_player or n.revealed_until > world.tick)
        ]
        way = path_to_objective(world)
        if not known or not way:
            return way
        walk = world.walkable() & (world.terrain != _HAZARD)
        for n in known:
            walk[max(0, n.y - 1) : n.y + 2, max(0, n.x - 1) : n.x + 2] = False
        p = world.player
        walk[p.y, p.x] = True
        around = shortest_path(walk, (p.x, p.y), [way[-1]])
        return around or way

    def _explore(self, world: World) -> list[tuple[int, int]]:
        p = world.player
        lo, hi = EXPLORE_STEPS
        dist = bfs_distances(world.walkable() & (world.terrain != _HAZARD), [(p.x, p.y)], hi)
        ys, xs = np.nonzero(dist >= lo)
        if len(xs) == 0:
            return []
        weights = np.array(
            [1.0 if area_of(int(x), int(y)) in self._areas else 4.0 for x, y in zip(xs, ys, strict=True)]
        )
        k = int(self.rng.choice(len(xs), p=weights / weights.sum()))
        return _safe_path(world, [(int(xs[k]), int(ys[k]))])

    # ---------------------------------------------------------------------------------------------- feel

    def in_flow(self) -> bool:
        """Neither bored nor frustrated past half of the threshold: the flow channel, for measuring."""
        return self.boredom < 0.5 and self.frustration < 0.5 * self.type.tolerance

    def feel(
        self,
        world: World,
        events: list[sim.Event],
        *,
        tension: float,
        stalled: bool,
        progressed: bool,
        said: Intervention | None = None,
        needed: bool = False,
    ) -> bool:
        """Update boredom and frustration for one tick; returns whether the player quits now. `said` is the
        narrator's intervention this tick (None: none chosen; SILENT counts as none), `needed` whether it was
        help the player needed."""
        if self.quit:
            return True
        t, p = self.type, world.player
        novelty = 0.0
        frustration = 0.0
        area = area_of(p.x, p.y)
        if area not in self._areas:
            self._areas.add(area)
            novelty += NOVELTY["area"]
        for e in events:
            match e:
                case sim.KeyPicked(by=sim.PLAYER_ID) | sim.KeyHandedOver():
                    novelty += NOVELTY["key"]
                    frustration -= KEY_RELIEF
                case sim.DoorOpened():
                    novelty += NOVELTY["door"]
                    frustration -= KEY_RELIEF
                case sim.TreasureFound():
                    novelty += NOVELTY["treasure"] * (0.5 + t.curiosity)
                case sim.DamageTaken(target=sim.PLAYER_ID, amount=a):
                    frustration += DAMAGE_FRUSTRATION * a * (1.0 - t.thrill / 2)
                case sim.DamageTaken(source="player"):
                    novelty += NOVELTY["fight"] * (0.5 + t.thrill)
                case sim.PickupTaken():
                    novelty += NOVELTY["pickup"]
                case sim.NpcSummoned():
                    novelty += 0.15 * t.thrill
        if said is not None and said is not Intervention.SILENT:
            self._lines.append(world.tick)
            while self._lines and self._lines[0] <= world.tick - TALK_WINDOW:
                self._lines.popleft()
            if len(self._lines) > t.chattiness:
                frustration += SPAM_FRUSTRATION * min(len(self._lines) - t.chattiness, 3.0)
            elif said.value in t.likes:
                novelty += NOVELTY["line"]
            if said in HELP and not needed:
                frustration += UNNEEDED_HELP_FRUSTRATION * t.pride
        if progressed:
            frustration -= PROGRESS_RELIEF
        if stalled:
            frustration += STALLED_FRUSTRATION * (1.0 - t.orientation) / TICKS_PER_SECOND
        wanting = max(0.0, t.thrill - tension)
        self.boredom = max(
            0.0, self.boredom + (1.0 + t.thrill * wanting) / (t.patience * TICKS_PER_SECOND) - novelty
        )
        self.frustration = max(0.0, self.frustration * (1.0 - 1.0 / FRUSTRATION_DECAY_TICKS) + frustration)
        excess = max(self.boredom - 1.0, self.frustration - t.tolerance, 0.0)
        if excess > 0.0 and self.rng.random() < QUIT_RATE * excess / TICKS_PER_SECOND:
            self.quit = True
        return self.quit


__all__ = ["ALL_TYPES", "HELD_OUT_TYPES", "TRAINING_TYPES", "PlayerType", "SimulatedPlayer"]
