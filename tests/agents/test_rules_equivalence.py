"""The batched env's compiled rules (agents/vector_kernels.py) are the World's: on generated dungeon-like levels
with several NPCs of mixed roles, a key and a locked door, hazards and treasure, the kernels and
`engine.sim.World` are stepped with the same actions and must hold the same state after every tick, and the
same observation for the NPC of slot 0.

The levels are small (at most 12x9) because the kernels read all-pairs distance and sight tables; the rules
do not depend on the size. The player's actions mix random moves with the scripted player's, which both sides
compute (the kernels from their own state, the test from the World's) and which must agree. NPC actions are
random moves and steps toward the key or the player, given to every NPC (the kernels compile no scripted NPC policy).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents import vector_kernels as vk
from agents.envs.arenas import Arena, ArenaBank, arena_tables
from agents.envs.players import STYLES, PlayerView, player_actions, player_noise
from agents.envs.roles import Tally
from agents.observation import OBS_SIZE, encode
from agents.vector import compiled_rules, npc_constants
from engine.level import Legend, Level, LevelMeta, Semantic, Spawn
from engine.sim import Action, Outcome, Role, World
from engine.sim.events import DamageTaken, Death, DoorOpened, KeyHandedOver, KeyPicked

FLOOR, WALL, DOOR, LOCKED = (
    s.code for s in (Semantic.FLOOR, Semantic.WALL, Semantic.DOOR, Semantic.LOCKED_DOOR)
)
HAZARD, KEY, TREASURE = Semantic.HAZARD.code, Semantic.KEY.code, Semantic.TREASURE.code
START, EXIT = Semantic.START.code, Semantic.EXIT.code
SHAPES = ((9, 7), (12, 9))  # (width, height): few shapes, so the arena sight lines are built once each
ROLES = (Role.HUNTER, Role.GUARD, Role.COMPANION, Role.VILLAGER)
TICKS = 120
MOVE_ACTIONS = (Action.NOOP, Action.UP, Action.DOWN, Action.LEFT, Action.RIGHT)


@st.composite
def dungeons(draw: st.DrawFn) -> tuple[Level, int]:
    """(a level, a player style): two or three rooms split by walls with doorways, one of them locked, a key
    somewhere, hazards, treasure, the start and the exit, and 2 to 4 NPCs of any roles."""
    w, h = draw(st.sampled_from(SHAPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    tiles = np.full((h, w), FLOOR, np.uint8)
    tiles[[0, -1], :] = tiles[:, [0, -1]] = WALL
    # a wall down the middle with one doorway, and maybe a wall across one half with another
    split = int(rng.integers(3, w - 3))
    tiles[1:-1, split] = WALL
    doorways = [(int(rng.integers(1, h - 1)), split)]
    if draw(st.booleans()):
        across = int(rng.integers(2, h - 2))
        lo, hi = (1, split) if rng.random() < 0.5 else (split + 1, w - 1)
        tiles[across, lo:hi] = WALL
        doorways.append((across, int(rng.integers(lo, hi))))
    locked = int(rng.integers(len(doorways))) if draw(st.booleans()) else -1
    for j, (y, x) in enumerate(doorways):
        tiles[y, x] = LOCKED if j == locked else DOOR
    inner = tiles == FLOOR
    tiles[inner & (rng.random((h, w)) < draw(st.sampled_from((0.0, 0.08, 0.2))))] = HAZARD
    tiles[inner & (rng.random((h, w)) < 0.06)] = WALL
    free = [(int(x), int(y)) for y, x in np.argwhere(tiles == FLOOR)]
    n_npcs = draw(st.integers(2, 4))
    n_treasures = draw(st.integers(0, 3))
    has_key = locked >= 0 or draw(st.booleans())
    need = 2 + n_npcs + n_treasures + has_key
    if len(free) < need:
        tiles[tiles == HAZARD] = FLOOR
        free = [(int(x), int(y)) for y, x in np.argwhere(tiles == FLOOR)]
    picks = [free[i] for i in rng.choice(len(free), need, replace=False)]
    (sx, sy), (ex, ey), *rest = picks
    tiles[sy, sx], tiles[ey, ex] = START, EXIT
    if has_key:
        kx, ky = rest.pop()
        tiles[ky, kx] = KEY
    for _ in range(n_treasures):
        tx, ty = rest.pop()
        tiles[ty, tx] = TREASURE
    roles = draw(st.lists(st.sampled_from(ROLES), min_size=n_npcs, max_size=n_npcs))
    spawns = []
    for (x, y), role in zip(rest, roles, strict=True):
        kind = Semantic.ENEMY if role in (Role.HUNTER, Role.GUARD) else Semantic.NPC
        props: dict[str, str | int] = {"role": role.value}
        if role is Role.GUARD:
            props["zone_radius"] = draw(st.integers(2, 4))
        spawns.append(Spawn(kind, x, y, props))
    level = Level(
        tiles=tiles, legend=Legend.default(), spawns=tuple(spawns), meta=LevelMeta(name="generated")
    )
    return level.validate(), draw(st.integers(0, len(STYLES) - 1))


class Kernels:
    """The kernels on one env holding `world`'s level, with the World's NPCs in slots by id."""

    def __init__(self, world: World, style: int) -> None:
        w = world.width
        terrain = world.terrain.copy()
        flat = terrain.reshape(-1)
        cells = {kind: [y * w + x for (x, y), k in world.items.items() if k is kind] for kind in Semantic}
        locked = np.flatnonzero(flat == LOCKED)
        exit_ = int(np.flatnonzero(flat == EXIT)[0])
        walk, safe, sight = arena_tables(terrain, int(locked[0]) if len(locked) else -1)
        npc0 = world.npcs[0]
        self.arena = Arena(
            seed=0,
            role=npc0.role,
            terrain=terrain,
            start=world.player.y * w + world.player.x,
            exit=exit_,
            treasures=tuple(cells[Semantic.TREASURE]),
            key=cells[Semantic.KEY][0] if cells[Semantic.KEY] else -1,
            locked=int(locked[0]) if len(locked) else -1,
            home=-1,
            spawn_cells=np.array([npc0.y * w + npc0.x], np.int32),
            walk=walk,
            safe=safe,
            sight=sight,
        )
        self.bank = ArenaBank.of((self.arena,))
        slots = [npc_constants(n.role, n.zone_radius) for n in world.npcs]
        self.rules = compiled_rules(self.bank, slots, npc0.role is Role.GUARD)
        s = self.state = vk.new_state(1, len(slots), len(self.arena.treasures), vars(Tally.zeros(1)))
        s.style[0], s.seed[0] = style, np.uint64(world.seed)
        s.player[0], s.health[0] = self.arena.start, world.player.health
        s.key[0] = self.arena.key
        s.treasures[0, : len(self.arena.treasures)] = self.arena.treasures
        for k, n in enumerate(world.npcs):
            s.npc[0, k] = s.home[0, k] = n.y * w + n.x
            s.npc_health[0, k], s.alive[0, k] = n.health, True

    def scripted_action(self) -> int:
        out = np.zeros(1, np.int64)
        vk.scripted_actions(self.rules, self.state, out)
        return int(out[0])

    def step(self, action: int, npc_actions: list[int]) -> None:
        vk.player_turns(self.rules, self.state, np.array([action], np.int64))
        vk.npc_turns(self.rules, self.state, np.array([npc_actions], np.int64))

    def observe(self) -> np.ndarray:
        out = np.zeros((1, OBS_SIZE), np.float32)
        vk.observe_envs(self.rules, self.state, out)
        return out[0]

    def facts(self) -> dict[str, object]:
        s, outcome = self.state, {vk.RUNNING: "running", vk.WON: "won", vk.DIED: "died"}
        return {
            "tick": int(s.tick[0]),
            "outcome": outcome[int(s.outcome[0])],
            "player": int(s.player[0]),
            "health": int(s.health[0]),
            "keys": int(s.keys[0]),
            "invulnerable": int(s.invulnerable[0]),
            "bumped": int(s.bumped[0]),
            "door_open": bool(s.table[0] != self.rules.base[0]),
            "key": int(s.key[0]),
            "treasures": sorted(int(c) for c in s.treasures[0] if c >= 0),
            "npcs": [
                (
                    int(s.npc[0, k]),
                    int(s.npc_health[0, k]),
                    int(s.cooldown[0, k]),
                    bool(s.alive[0, k]),
                    bool(s.alerted[0, k]),
                    bool(s.sees[0, k]),
                    int(s.carried[0, k]),
                )
                for k in range(s.npc.shape[1])
            ],
        }


def world_facts(world: World, arena: Arena) -> dict[str, object]:
    w, p = world.width, world.player
    keys = [y * w + x for (x, y), k in world.items.items() if k is Semantic.KEY]
    return {
        "tick": world.tick,
        "outcome": world.outcome.value,
        "player": p.y * w + p.x,
        "health": p.health,
        "keys": p.keys,
        "invulnerable": p.invulnerable,
        "bumped": p.bumped,  # an NPC's id, which is its slot + 1
        "door_open": arena.locked >= 0 and world.terrain.reshape(-1)[arena.locked] != LOCKED,
        "key": keys[0] if keys else -1,
        "treasures": sorted(y * w + x for (x, y), k in world.items.items() if k is Semantic.TREASURE),
        "npcs": [
            (n.y * w + n.x, n.health, n.cooldown, n.alive, n.alerted, n.sees_player, n.keys)
            for n in world.npcs
        ],
    }


def world_player_action(world: World, kernels: Kernels, style: int) -> int:
    """The scripted player's action from the World's state (what NpcEnv hands `player_actions`)."""
    arena, w, p, npc = kernels.arena, world.width, world.player, world.npcs[0]
    facts = world_facts(world, arena)
    treasures = np.full((1, max(len(arena.treasures), 1)), -1, np.int64)
    for j, cell in enumerate(arena.treasures):
        if cell in facts["treasures"]:
            treasures[0, j] = cell
    view = PlayerView(
        table=np.array([int(facts["door_open"])]),
        style=np.array([style]),
        player=np.array([p.y * w + p.x]),
        keys=np.array([p.keys]),
        exit=np.array([arena.exit]),
        key=np.array([facts["key"]]),
        locked=np.array([-1 if facts["door_open"] else arena.locked]),
        treasures=treasures,
        agent=np.array([npc.y * w + npc.x]),
        agent_enemy=np.array([npc.alive and npc.kind is Semantic.ENEMY]),
        agent_seen=np.array([npc.alive and npc.sees_player]),
        noise=player_noise(np.array([world.seed], np.uint64), np.array([world.tick + 1])),
    )
    return int(player_actions(kernels.bank, view)[0])


def play(level: Level, style: int, seed: int, seen: Counter) -> None:
    world = World(level, seed=seed)
    kernels = Kernels(world, style)
    rng = np.random.default_rng(seed)
    assert kernels.facts() == world_facts(world, kernels.arena)
    for _ in range(TICKS):
        if rng.random() < 0.5:
            action = world_player_action(world, kernels, style)
            assert kernels.scripted_action() == action
            seen["scripted"] += 1
        else:
            action = int(rng.choice(MOVE_ACTIONS))
        npc_actions = []
        for npc in world.npcs:
            obs = world.observe(npc) if npc.alive else None
            # toward the key, then the player, half the time each when known: keys get carried, players hit
            goals = [] if obs is None else [obs.toward_key, obs.toward_player]
            goal = next((g for g in goals if g is not None and rng.random() < 0.5), None)
            npc_actions.append(int(goal if goal is not None else rng.choice(MOVE_ACTIONS)))
        events = world.step(
            Action(action), {n.id: Action(a) for n, a in zip(world.npcs, npc_actions, strict=True)}
        )
        kernels.step(action, npc_actions)
        assert kernels.facts() == world_facts(world, kernels.arena)
        if world.npcs[0].alive:
            assert np.array_equal(kernels.observe(), encode(world.observe(world.npcs[0])))
        seen.update(type(e).__name__ for e in events)
        seen.update(f"{type(e).__name__}:{e.source}" for e in events if isinstance(e, DamageTaken))
        if world.outcome is not Outcome.RUNNING:
            seen[world.outcome.value] += 1
            break
        p = world.player
        seen["swapped"] += any(
            (n.x, n.y, n.prev_x, n.prev_y) == (p.prev_x, p.prev_y, p.x, p.y) for n in world.npcs if n.alive
        )


def test_the_kernels_are_the_world_on_generated_multi_npc_dungeons() -> None:
    seen: Counter = Counter()

    @settings(
        max_examples=100,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(dungeon=dungeons(), seed=st.integers(0, 2**31 - 1))
    def check(dungeon: tuple[Level, int], seed: int) -> None:
        level, style = dungeon
        play(level, style, seed, seen)

    check()
    # every rule got exercised somewhere: doors, keys carried and handed over, hits both ways, hazards,
    # deaths, bumps and swaps, the scripted player, and episodes ending both ways
    for name in (DoorOpened, KeyPicked, KeyHandedOver, Death):
        assert seen[name.__name__] > 0, name.__name__
    for what in (
        "DamageTaken:enemy",
        "DamageTaken:player",
        "DamageTaken:hazard",
        "swapped",
        "scripted",
        "won",
    ):
        assert seen[what] > 0, (what, seen)
