"""The World: one Level in play, stepped on a fixed timestep, deterministic given the seed and the actions.

The game, the headless autoplay and the RL envs all drive this same class; none has a simulation of its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from engine.errors import LevelValidationError
from engine.formats.json_level import level_from_dict, level_to_dict
from engine.level import SPAWN_INT_PROPERTIES, SPAWN_KINDS, Level, PropertyValue, Semantic
from engine.sim.events import (
    PLAYER_ID,
    DamageTaken,
    Death,
    DoorOpened,
    Event,
    ExitReached,
    HitBlocked,
    KeyHandedOver,
    KeyPicked,
    NpcSawPlayer,
    PickupTaken,
    TreasureFound,
)
from engine.sim.grid import (
    SIGHT_BLOCKERS,
    UNREACHED,
    WALKABLE_LUT,
    bfs_distances,
    line_of_sight,
    step_towards,
)
from engine.sim.noise import tick_noise_int
from engine.sim.objective import path_to_objective
from engine.sim.policy import (
    GUARD_ZONE_RADIUS,
    MOVES,
    OBS_RADIUS,
    SCRIPTED_POLICIES,
    Action,
    NpcObservation,
    Policy,
    Role,
)

TICKS_PER_SECOND = 8
TICK_SECONDS = 1.0 / TICKS_PER_SECOND
PLAYER_MAX_HEALTH = 8
ENEMY_HEALTH = 2
NPC_HEALTH = 3
SIGHT_RADIUS = 7
CHASE_RADIUS = 14  # path length beyond which an alerted enemy gives up
INVULNERABLE_TICKS = TICKS_PER_SECOND  # one second of grace after each hit
ENEMY_MOVE_PERIOD = 2  # enemies move every other tick: half the player's speed
NPC_MOVE_PERIOD = 3
COMPANION_MOVE_PERIOD = 1  # a companion keeps pace with the player
POTION_HEAL = 3
MIN_DIFFICULTY, MAX_DIFFICULTY = -2, 2
"""the narrator's difficulty nudges: each step changes enemies' sight by 2 cells, and their speed at the ends"""
SNAPSHOT_VERSION = 3
MAX_TICK = 2**48
"""far beyond any run (about a million years at 8 ticks a second); saves are read only up to 2**40 of it, so a
run loaded from one can never step past this"""
MAX_HEALTH = SPAWN_INT_PROPERTIES["health"][1]
MAX_COUNT = 2**31 - 1
MAX_MOVE_PERIOD = SPAWN_INT_PROPERTIES["move_period"][1]
MAX_NPCS = 512
"""NPCs act every tick against each other: past a few hundred a tick costs more than the frame it serves"""

_MARKER_CODES = np.array([s.code for s in SPAWN_KINDS], dtype=np.uint8)
_FLOOR, _HAZARD, _EXIT = Semantic.FLOOR.code, Semantic.HAZARD.code, Semantic.EXIT.code
_LOCKED, _DOOR, _VOID = Semantic.LOCKED_DOOR.code, Semantic.DOOR.code, Semantic.VOID.code
_ENEMY_ROLES = (Role.HUNTER, Role.GUARD)  # the first is the default
_FRIEND_ROLES = (Role.VILLAGER, Role.COMPANION)  # the first is the default


class Outcome(StrEnum):
    RUNNING = "running"
    WON = "won"
    DIED = "died"


class Pickup(StrEnum):
    """Things only the narrator places (not level content, so not in the Level's semantics)."""

    POTION = "potion"  # heals POTION_HEAL
    LANTERN = "lantern"  # shows the way to the objective for the rest of the run


@dataclass
class Player:
    x: int
    y: int
    health: int = PLAYER_MAX_HEALTH
    max_health: int = PLAYER_MAX_HEALTH
    keys: int = 0
    treasure: int = 0
    facing: int = int(Action.DOWN)
    invulnerable: int = 0
    prev_x: int = 0
    prev_y: int = 0
    bumped: int = 0  # the friendly NPC the player bumped into last tick (0: none): a second bump swaps places
    shield: int = 0  # hits absorbed before health is lost (the narrator's encouragement)
    lantern: bool = False  # carries a lantern: the way to the objective is always shown


@dataclass
class Npc:
    id: int
    kind: Semantic
    x: int
    y: int
    health: int
    move_period: int
    cooldown: int = 0
    facing: int = int(Action.DOWN)
    alerted: bool = False
    sees_player: bool = False
    alive: bool = True
    prev_x: int = 0
    prev_y: int = 0
    properties: dict[str, PropertyValue] = field(default_factory=dict)
    role: Role = Role.HUNTER
    max_health: int = ENEMY_HEALTH
    home_x: int = 0  # the spawn cell: a guard's post, where any NPC heads "home"
    home_y: int = 0
    zone_radius: int = GUARD_ZONE_RADIUS
    keys: int = 0  # keys a companion carries to the player
    revealed_until: int = 0  # the narrator pointed this NPC out to the player until this tick


PolicyFactory = Callable[[Npc], Policy]


def scripted_policies(npc: Npc) -> Policy:
    """The default policy table, by role: hunters chase, guards keep their zone, companions follow, villagers
    wander."""
    return SCRIPTED_POLICIES[npc.role]()


def _role_of(kind: Semantic, props: Mapping[str, PropertyValue], where: str) -> Role:
    allowed = _ENEMY_ROLES if kind is Semantic.ENEMY else _FRIEND_ROLES
    name = props.get("role", allowed[0].value)
    if name not in {r.value for r in allowed}:
        expected = " or ".join(r.value for r in allowed)
        raise LevelValidationError(
            f"{where}.properties.role", f"{name!r} is not a {kind.value} role ({expected})"
        )
    return Role(name)


class World:
    """Player, NPCs, keys, locked doors, hazards, treasure and the exit on one Level.

    `step(action)` advances one fixed tick (TICK_SECONDS) and returns the events of that tick.
    """

    def __init__(self, level: Level, seed: int = 0, policies: PolicyFactory = scripted_policies) -> None:
        level.validate()
        self.level = level
        self.seed = int(seed)
        self.tick = 0
        self.outcome = Outcome.RUNNING
        self.terrain = level.semantic_grid().copy()
        self.items: dict[tuple[int, int], Semantic] = {}
        self.npcs: list[Npc] = []
        # What the narrator changes (engine.sim.interventions): pickups it placed, treasure it pointed out,
        # the tick until which its hint shows the way, and its difficulty nudge.
        self.pickups: dict[tuple[int, int], Pickup] = {}
        self.marked: set[tuple[int, int]] = set()
        self.guide_until = 0
        self.difficulty = 0

        starts = [(x, y) for x, y in level.positions_of(Semantic.START)]
        starts += [(s.x, s.y) for s in level.spawns if s.kind is Semantic.START]
        if len(starts) != 1:
            raise LevelValidationError("tiles", f"expected exactly one start, found {len(starts)}")
        markers = [(x, y, Semantic.ENEMY, {}) for x, y in level.positions_of(Semantic.ENEMY)]
        markers += [(x, y, Semantic.NPC, {}) for x, y in level.positions_of(Semantic.NPC)]
        markers += [(x, y, Semantic.KEY, {}) for x, y in level.positions_of(Semantic.KEY)]
        markers += [(x, y, Semantic.TREASURE, {}) for x, y in level.positions_of(Semantic.TREASURE)]
        markers += [
            (s.x, s.y, s.kind, s.properties | {"_where": f"spawns[{i}]"})
            for i, s in enumerate(level.spawns)
            if s.kind is not Semantic.START
        ]
        # Markers stand on floor: the entity comes alive and the tile underneath becomes plain floor.
        self.terrain[np.isin(self.terrain, _MARKER_CODES)] = _FLOOR
        for x, y, kind, props in markers:
            if kind in (Semantic.KEY, Semantic.TREASURE):
                self.items[(x, y)] = kind
            else:
                props = dict(props)
                role = _role_of(kind, props, str(props.pop("_where", f"tiles[{y}][{x}]")))
                health = int(props.get("health", ENEMY_HEALTH if kind is Semantic.ENEMY else NPC_HEALTH))
                period = {Role.COMPANION: COMPANION_MOVE_PERIOD, Role.VILLAGER: NPC_MOVE_PERIOD}
                self.npcs.append(
                    Npc(
                        id=len(self.npcs) + 1,
                        kind=kind,
                        x=x,
                        y=y,
                        health=health,
                        move_period=int(props.get("move_period", period.get(role, ENEMY_MOVE_PERIOD))),
                        prev_x=x,
                        prev_y=y,
                        properties=props,
                        role=role,
                        max_health=health,
                        home_x=x,
                        home_y=y,
                        zone_radius=int(props.get("zone_radius", GUARD_ZONE_RADIUS)),
                    )
                )
        if len(self.npcs) > MAX_NPCS:
            raise LevelValidationError("spawns", f"{len(self.npcs)} enemies and NPCs; at most {MAX_NPCS}")
        sx, sy = starts[0]
        self.player = Player(x=sx, y=sy, prev_x=sx, prev_y=sy)
        self._policy_factory = policies
        self._mid_tick = False
        self._policies = {npc.id: policies(npc) for npc in self.npcs}
        self.initial_npcs = len(self.npcs)  # those with higher ids entered mid-run
        self._guide_key: tuple[int, ...] | None = None
        self._guide: list[tuple[int, int]] = []
        self._terrain_changed()

    # ------------------------------------------------------------------------------------------ queries

    @property
    def width(self) -> int:
        return int(self.terrain.shape[1])

    @property
    def height(self) -> int:
        return int(self.terrain.shape[0])

    def in_bounds(self, x: int, y: int) -> bool:
        return 0 <= x < self.width and 0 <= y < self.height

    def walkable(self) -> np.ndarray:
        """The current walkability mask (doors opened so far included). Read-only view."""
        return self._walkable

    def sight_blockers(self) -> np.ndarray:
        """Cells that block sight now (walls, closed locked doors, void). Read-only view."""
        return self._blocks_sight

    def npc_at(self, x: int, y: int) -> Npc | None:
        for npc in self.npcs:
            if npc.alive and npc.x == x and npc.y == y:
                return npc
        return None

    def living_npcs(self) -> list[Npc]:
        return [n for n in self.npcs if n.alive]

    @property
    def guide_shown(self) -> bool:
        """Whether the way to the objective is shown now (a recent hint, or the lantern)."""
        return self.player.lantern or self.tick < self.guide_until

    def guide_path(self) -> list[tuple[int, int]]:
        """The way to the objective the narrator shows (engine.sim.objective), cached until the player, the
        doors or the items change; [] while no guide is shown."""
        if not self.guide_shown:
            return []
        p = self.player
        key = (p.x, p.y, p.keys, self.terrain_version, len(self.items))
        if key != self._guide_key:
            self._guide, self._guide_key = path_to_objective(self), key
        return self._guide

    def move_period(self, npc: Npc) -> int:
        """Ticks between the NPC's moves: enemies slow down when the narrator eases the game, and at the
        hardest setting those slower than the player speed up by one."""
        if npc.kind is not Semantic.ENEMY:
            return npc.move_period
        if self.difficulty >= MAX_DIFFICULTY:
            return max(1, npc.move_period - 1)
        return npc.move_period + max(0, -self.difficulty)

    def sight_radius(self, npc: Npc) -> int:
        """How far the NPC sees: an enemy's sight grows or shrinks by 2 cells per difficulty step."""
        if npc.kind is not Semantic.ENEMY:
            return SIGHT_RADIUS
        return max(3, SIGHT_RADIUS + 2 * self.difficulty)

    def spawn_npc(self, kind: Semantic, role: Role, x: int, y: int, *, alerted: bool = False) -> Npc:
        """Bring a new NPC into the run at (x, y), acting through the World's policy table."""
        if not (self.in_bounds(x, y) and self._walkable[y, x]) or self.npc_at(x, y) is not None:
            raise ValueError(f"spawn_npc: ({x}, {y}) is not a free walkable cell")
        if len(self.npcs) >= MAX_NPCS:
            raise ValueError(f"spawn_npc: the run already has {MAX_NPCS} NPCs, the most it may")
        health = ENEMY_HEALTH if kind is Semantic.ENEMY else NPC_HEALTH
        period = {Role.COMPANION: COMPANION_MOVE_PERIOD, Role.VILLAGER: NPC_MOVE_PERIOD}.get(
            role, ENEMY_MOVE_PERIOD
        )
        npc = Npc(
            id=len(self.npcs) + 1,
            kind=kind,
            x=x,
            y=y,
            health=health,
            move_period=period,
            alerted=alerted,
            prev_x=x,
            prev_y=y,
            role=role,
            max_health=health,
            home_x=x,
            home_y=y,
        )
        self.npcs.append(npc)
        self._policies[npc.id] = self._policy_factory(npc)
        return npc

    # ------------------------------------------------------------------------------------------ stepping

    def step(self, action: Action | int, npc_actions: Mapping[int, Action] | None = None) -> list[Event]:
        """Advance one tick with the player's action; NPCs act through their policies, except those whose id
        is in `npc_actions` (an RL agent's choice), which take that action if they are due to act."""
        events = self.begin_tick(action)
        self.end_tick(events, npc_actions)
        return events

    def begin_tick(self, action: Action | int) -> list[Event]:
        """The first half of `step`: the player's turn. An RL env observes its NPC between the two halves,
        which is exactly the state a policy sees when the game calls it."""
        if self.outcome is not Outcome.RUNNING or self._mid_tick:
            return []
        self._mid_tick = True
        self.tick += 1
        events: list[Event] = []
        p = self.player
        p.prev_x, p.prev_y = p.x, p.y
        for npc in self.npcs:
            npc.prev_x, npc.prev_y = npc.x, npc.y
        self._player_turn(Action(action), events)
        return events

    def end_tick(self, events: list[Event], npc_actions: Mapping[int, Action] | None = None) -> None:
        """The second half of `step`: the NPCs' turns, then the player's grace period runs down."""
        if not self._mid_tick:
            return
        self._mid_tick = False
        if self.outcome is Outcome.RUNNING:
            self._npc_turns(events, npc_actions or {})
        self.player.invulnerable = max(0, self.player.invulnerable - 1)

    def npc_due(self, npc: Npc) -> bool:
        """Whether the NPC acts on its turn this tick (its cooldown has run out)."""
        return npc.alive and npc.cooldown == 0

    def _player_turn(self, action: Action, events: list[Event]) -> None:
        p = self.player
        bumped_before, p.bumped = p.bumped, 0
        if action is Action.INTERACT:
            dx, dy = Action(p.facing).delta
            if self.in_bounds(p.x + dx, p.y + dy) and self.terrain[p.y + dy, p.x + dx] == _LOCKED:
                self._open_door(p.x + dx, p.y + dy, events)
            return
        if action not in MOVES:
            return
        p.facing = int(action)
        tx, ty = p.x + action.delta[0], p.y + action.delta[1]
        if not self.in_bounds(tx, ty):
            return
        other = self.npc_at(tx, ty)
        if other is not None:
            # Bumping an enemy attacks it (roguelike convention). A friendly NPC blocks the way, but bumping it
            # twice in a row swaps places with it, so no friend can wall the player in.
            if other.kind is Semantic.ENEMY:
                self._hurt_npc(other, 1, events)
            elif bumped_before == other.id:
                other.x, other.y = p.x, p.y
                p.x, p.y = tx, ty
                self._enter_cell(events)
            else:
                p.bumped = other.id
            return
        tile = self.terrain[ty, tx]
        if tile == _LOCKED:
            self._open_door(tx, ty, events)
        elif self._walkable[ty, tx]:
            p.x, p.y = tx, ty
            self._enter_cell(events)

    def _open_door(self, x: int, y: int, events: list[Event]) -> None:
        p = self.player
        if p.keys <= 0:
            return
        p.keys -= 1
        self.terrain[y, x] = _DOOR
        self._terrain_changed()
        events.append(DoorOpened(self.tick, x, y, p.keys))

    def _enter_cell(self, events: list[Event]) -> None:
        p = self.player
        item = self.items.pop((p.x, p.y), None)
        if item is Semantic.KEY:
            p.keys += 1
            events.append(KeyPicked(self.tick, p.x, p.y, p.keys))
        elif item is Semantic.TREASURE:
            p.treasure += 1
            events.append(TreasureFound(self.tick, p.x, p.y, p.treasure))
        self.marked.discard((p.x, p.y))
        pickup = self.pickups.pop((p.x, p.y), None)
        if pickup is Pickup.POTION:
            p.health = min(p.max_health, p.health + POTION_HEAL)
        elif pickup is Pickup.LANTERN:
            p.lantern = True
        if pickup is not None:
            events.append(PickupTaken(self.tick, p.x, p.y, pickup.value, p.health))
        tile = self.terrain[p.y, p.x]
        if tile == _HAZARD:
            self._hurt_player(1, "hazard", events)
        elif tile == _EXIT and self.outcome is Outcome.RUNNING:
            self.outcome = Outcome.WON
            events.append(ExitReached(self.tick, p.x, p.y))

    def _hurt_player(self, amount: int, source: str, events: list[Event]) -> None:
        p = self.player
        if p.invulnerable > 0:
            return
        if p.shield > 0:
            p.shield -= 1
            p.invulnerable = INVULNERABLE_TICKS
            events.append(HitBlocked(self.tick, source, p.shield))
            return
        p.health = max(0, p.health - amount)
        p.invulnerable = INVULNERABLE_TICKS
        events.append(DamageTaken(self.tick, PLAYER_ID, amount, source, p.health))
        if p.health == 0:
            self.outcome = Outcome.DIED
            events.append(Death(self.tick, PLAYER_ID, "player"))

    def _hurt_npc(self, npc: Npc, amount: int, events: list[Event], source: str = "player") -> None:
        npc.health = max(0, npc.health - amount)
        npc.alerted = True
        events.append(DamageTaken(self.tick, npc.id, amount, source, npc.health))
        if npc.health == 0:
            npc.alive = False
            events.append(Death(self.tick, npc.id, npc.kind.value))

    def _npc_turns(self, events: list[Event], npc_actions: Mapping[int, Action]) -> None:
        for npc in self.npcs:
            if not npc.alive or self.outcome is not Outcome.RUNNING:
                continue
            self.update_sight(npc, events)
            if npc.cooldown > 0:
                npc.cooldown -= 1
                continue
            npc.cooldown = self.move_period(npc) - 1
            chosen = npc_actions.get(npc.id)
            action = Action(chosen if chosen is not None else self._policies[npc.id].act(self.observe(npc)))
            if action in MOVES:
                self._npc_move(npc, action, events)
            if npc.role is Role.COMPANION and npc.alive:
                self._hand_over_keys(npc, events)

    def _npc_move(self, npc: Npc, action: Action, events: list[Event]) -> None:
        npc.facing = int(action)
        tx, ty = npc.x + action.delta[0], npc.y + action.delta[1]
        companion = npc.role is Role.COMPANION
        if (tx, ty) == (self.player.x, self.player.y):
            if npc.kind is Semantic.ENEMY:
                self._hurt_player(1, "enemy", events)
            return
        # Companions may cross hazards, like the player, and get hurt doing so; other NPCs keep off them.
        walkable = self._walkable if companion else self._npc_walkable
        if not (self.in_bounds(tx, ty) and walkable[ty, tx] and self.npc_at(tx, ty) is None):
            return
        npc.x, npc.y = tx, ty
        if not companion:
            return
        if self.items.get((tx, ty)) is Semantic.KEY:
            del self.items[(tx, ty)]
            npc.keys += 1
            events.append(KeyPicked(self.tick, tx, ty, npc.keys, by=npc.id))
        if self.terrain[ty, tx] == _HAZARD:
            self._hurt_npc(npc, 1, events, source="hazard")

    def _hand_over_keys(self, npc: Npc, events: list[Event]) -> None:
        p = self.player
        if npc.keys > 0 and abs(npc.x - p.x) + abs(npc.y - p.y) == 1:
            p.keys += npc.keys
            events.append(KeyHandedOver(self.tick, npc.id, npc.keys, p.keys))
            npc.keys = 0

    def update_sight(self, npc: Npc, events: list[Event]) -> None:
        """Whether the NPC sees the player now; emits NpcSawPlayer when it first does. The World calls this at
        the start of each NPC's turn; an RL env calls it before observing its NPC between the tick halves."""
        p = self.player
        near = max(abs(npc.x - p.x), abs(npc.y - p.y)) <= self.sight_radius(npc)
        sees = near and line_of_sight(self._blocks_sight, npc.x, npc.y, p.x, p.y)
        if sees and not npc.sees_player:
            events.append(
                NpcSawPlayer(self.tick, npc.id, npc.kind.value, abs(npc.x - p.x) + abs(npc.y - p.y))
            )
        npc.sees_player = sees
        if sees:
            npc.alerted = True
        elif npc.alerted and self._player_distances()[npc.y, npc.x] == UNREACHED:
            npc.alerted = False  # out of sight and out of reach: the enemy gives up

    # ------------------------------------------------------------------------------------------ observation

    def _player_distances(self) -> np.ndarray:
        """BFS distances from the player over NPC-walkable cells, cached per player cell and terrain state."""
        key = (self.player.x, self.player.y, self.terrain_version)
        if self._dist_key != key:
            self._dist = bfs_distances(self._npc_walkable, [(self.player.x, self.player.y)], CHASE_RADIUS)
            self._dist_key = key
        return self._dist

    def _distances_from(self, cells: tuple[tuple[int, int], ...]) -> np.ndarray | None:
        """BFS distances from `cells` over NPC-walkable cells, cached until the terrain changes."""
        if not cells:
            return None
        if self._fields_version != self.terrain_version:
            self._fields.clear()
            self._fields_version = self.terrain_version
        dist = self._fields.get(cells)
        if dist is None:
            dist = self._fields[cells] = bfs_distances(self._npc_walkable, cells)
        return dist

    def _toward(self, dist: np.ndarray | None, npc: Npc) -> Action | None:
        k = None if dist is None else step_towards(dist, npc.x, npc.y)
        return None if k is None else MOVES[k]

    def observe(self, npc: Npc) -> NpcObservation:
        p = self.player
        r = OBS_RADIUS
        window = self._padded_terrain[npc.y : npc.y + 2 * r + 1, npc.x : npc.x + 2 * r + 1].copy()
        for (ix, iy), kind in self.items.items():
            if abs(ix - npc.x) <= r and abs(iy - npc.y) <= r:
                window[iy - npc.y + r, ix - npc.x + r] = kind.code
        for other in self.npcs:
            if other.alive and other is not npc and abs(other.x - npc.x) <= r and abs(other.y - npc.y) <= r:
                window[other.y - npc.y + r, other.x - npc.x + r] = other.kind.code
        # NPCs track the player only while alerted, except a companion, which always knows where the player is.
        # (A search from the player each time they move: only the NPCs that use it pay for it.)
        knows = npc.alerted or npc.role is Role.COMPANION
        keys = tuple(sorted(pos for pos, kind in self.items.items() if kind is Semantic.KEY))
        noise = tick_noise_int(self.seed, self.tick, npc.id)
        return NpcObservation(
            tick=self.tick,
            x=npc.x,
            y=npc.y,
            health=npc.health,
            local_tiles=window,
            player_visible=npc.sees_player,
            player_offset=(p.x - npc.x, p.y - npc.y) if npc.sees_player else None,
            toward_player=self._toward(self._player_distances(), npc) if knows else None,
            noise=noise,
            role=npc.role,
            max_health=max(npc.max_health, npc.health),
            alerted=npc.alerted,
            toward_key=self._toward(self._distances_from(keys), npc),
            toward_home=self._toward(self._distances_from(((npc.home_x, npc.home_y),)), npc),
            home_offset=(npc.home_x - npc.x, npc.home_y - npc.y),
            zone_radius=npc.zone_radius,
            keys_carried=npc.keys,
            player_keys=p.keys,
        )

    def _terrain_changed(self) -> None:
        self._walkable = WALKABLE_LUT[self.terrain]
        # Enemies and NPCs keep off hazards; only the player is reckless enough to cross them.
        self._npc_walkable = self._walkable & (self.terrain != _HAZARD)
        self._blocks_sight = SIGHT_BLOCKERS[self.terrain]
        self._padded_terrain = np.pad(self.terrain, OBS_RADIUS, constant_values=_VOID)
        self.terrain_version = getattr(self, "terrain_version", 0) + 1
        self._dist_key: tuple[int, int, int] | None = None
        self._dist = np.empty(0)
        self._fields: dict[tuple[tuple[int, int], ...], np.ndarray] = {}
        self._fields_version = self.terrain_version

    # ------------------------------------------------------------------------------------------ state

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to continue this run exactly, as JSON-ready primitives."""
        return {
            "version": SNAPSHOT_VERSION,
            "seed": self.seed,
            "tick": self.tick,
            "outcome": self.outcome.value,
            "level": level_to_dict(self.level),
            "terrain": base64.b64encode(self.terrain.tobytes()).decode("ascii"),
            "player": asdict(self.player),
            "npcs": [{**asdict(n), "kind": n.kind.value, "role": n.role.value} for n in self.npcs],
            "items": sorted([x, y, kind.value] for (x, y), kind in self.items.items()),
            "pickups": sorted([x, y, kind.value] for (x, y), kind in self.pickups.items()),
            "marked": sorted([x, y] for x, y in self.marked),
            "guide_until": self.guide_until,
            "difficulty": self.difficulty,
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any], policies: PolicyFactory = scripted_policies) -> World:
        """Rebuild a World from `snapshot()`; raises KeyError/ValueError/TypeError on a malformed one."""
        if data["version"] not in range(1, SNAPSHOT_VERSION + 1):
            raise ValueError(f"snapshot version {data['version']} is not 1 to {SNAPSHOT_VERSION}")
        world = cls(level_from_dict(data["level"]), seed=data["seed"], policies=policies)
        world.tick = int(data["tick"])
        world.outcome = Outcome(data["outcome"])
        terrain = np.frombuffer(base64.b64decode(data["terrain"], validate=True), dtype=np.uint8)
        world.terrain = terrain.reshape(world.terrain.shape).copy()
        world.player = Player(**data["player"])
        world.npcs = [_npc_from_dict(n) for n in data["npcs"]]
        world.items = {(int(x), int(y)): Semantic(k) for x, y, k in data["items"]}
        # the narrator's changes came with version 3; earlier snapshots had none
        world.pickups = {(int(x), int(y)): Pickup(k) for x, y, k in data.get("pickups", [])}
        world.marked = {(int(x), int(y)) for x, y in data.get("marked", [])}
        world.guide_until = int(data.get("guide_until", 0))
        world.difficulty = int(data.get("difficulty", 0))
        world._terrain_changed()
        world.check_state()
        world._policies = {npc.id: policies(npc) for npc in world.npcs}
        return world

    def check_state(self) -> None:
        """Raise ValueError("<field>: <what was expected>") unless the dynamic state keeps the World's invariants:
        every position on the map, every terrain byte a known tile, counts and ticks finite and in range, health
        within its maximum. A restored snapshot is checked before anything steps or draws it."""
        h, w = self.terrain.shape
        known = np.zeros(256, bool)
        known[[s.code for s in Semantic]] = True
        known[list(_MARKER_CODES)] = False  # enemies, NPCs, keys and treasure live off the terrain
        if not known[self.terrain].all():
            y, x = np.argwhere(~known[self.terrain])[0]
            raise ValueError(f"terrain: cell ({x}, {y}) holds {self.terrain[y, x]}, not a terrain tile code")
        if len(self.npcs) > MAX_NPCS:
            raise ValueError(f"npcs: {len(self.npcs)} of them; at most {MAX_NPCS}")

        def check(field: str, value: int, low: int, high: int) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{field}: expected an integer {low}..{high}, got {value!r}")

        def on_map(field: str, x: int, y: int) -> None:
            check(f"{field}.x", x, 0, w - 1)
            check(f"{field}.y", y, 0, h - 1)

        check("tick", self.tick, 0, MAX_TICK)
        check("guide_until", self.guide_until, 0, MAX_TICK)
        check("difficulty", self.difficulty, MIN_DIFFICULTY, MAX_DIFFICULTY)
        p = self.player
        on_map("player", p.x, p.y)
        on_map("player.prev", p.prev_x, p.prev_y)
        check("player.max_health", p.max_health, 1, MAX_HEALTH)
        check("player.health", p.health, 0, p.max_health)
        check("player.facing", p.facing, 0, len(Action) - 1)
        for name in ("keys", "treasure", "invulnerable", "shield", "bumped"):
            check(f"player.{name}", getattr(p, name), 0, MAX_COUNT)
        ids = set()
        for i, n in enumerate(self.npcs):
            f = f"npcs[{i}]"
            check(f"{f}.id", n.id, 1, MAX_COUNT)
            if n.id in ids:
                raise ValueError(f"{f}.id: {n.id} is used twice")
            ids.add(n.id)
            on_map(f, n.x, n.y)
            on_map(f"{f}.prev", n.prev_x, n.prev_y)
            on_map(f"{f}.home", n.home_x, n.home_y)
            allowed = (
                _ENEMY_ROLES if n.kind is Semantic.ENEMY else _FRIEND_ROLES if n.kind is Semantic.NPC else ()
            )
            if n.role not in allowed:
                raise ValueError(f"{f}.role: {n.role.value!r} is not a role of kind {n.kind.value!r}")
            check(f"{f}.max_health", n.max_health, 1, MAX_HEALTH)
            check(f"{f}.health", n.health, 1 if n.alive else 0, n.max_health)
            check(f"{f}.move_period", n.move_period, 1, MAX_MOVE_PERIOD)
            check(f"{f}.facing", n.facing, 0, len(Action) - 1)
            check(f"{f}.zone_radius", n.zone_radius, *SPAWN_INT_PROPERTIES["zone_radius"])
            for name in ("cooldown", "keys", "revealed_until"):
                check(f"{f}.{name}", getattr(n, name), 0, MAX_TICK)
        for name, cells in (("items", self.items), ("pickups", self.pickups), ("marked", self.marked)):
            for x, y in cells:
                on_map(name, x, y)
        for (x, y), kind in self.items.items():
            if kind not in (Semantic.KEY, Semantic.TREASURE):
                raise ValueError(f"items: ({x}, {y}) holds {kind.value!r}, not a key or treasure")

    def state_hash(self) -> str:
        """A SHA-256 of the whole dynamic state: equal hashes mean equal worlds."""
        state = self.snapshot()
        del state["level"]  # fixed for the run; its effect is in `terrain`
        return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def _npc_from_dict(data: dict[str, Any]) -> Npc:
    kind = Semantic(data["kind"])
    if "role" not in data:  # a version-1 snapshot: no roles yet, and home is where the NPC stands now
        data = data | {
            "role": "hunter" if kind is Semantic.ENEMY else "villager",
            "max_health": data["health"],
        }
        data |= {"home_x": data["x"], "home_y": data["y"]}
    return Npc(**{**data, "kind": kind, "role": Role(data["role"])})


__all__ = [
    "TICKS_PER_SECOND",
    "TICK_SECONDS",
    "Npc",
    "Outcome",
    "Pickup",
    "Player",
    "PolicyFactory",
    "World",
    "scripted_policies",
]
