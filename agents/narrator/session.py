"""A narrated run: the World, what the narrator perceives of it, and the narrator's turn.

One definition of the narrator's view, shared by the Gymnasium env (with a simulated player) and the game
(with a person): `tick(events)` after each World step keeps the beats, tension, progress and the talk
history; `observe()` is the policy's observation; `act(choice)` carries an intervention out and words it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from agents.narrator.beats import LOST_TICKS, BeatTracker
from agents.narrator.pacing import ProgressMeter, TensionMeter, help_needed, target_tension
from agents.narrator.player_model import TYPES, PlayerModel, WindowFeatures
from agents.narrator.text import BEATS, Facts, LineWriter
from engine.level import Semantic
from engine.sim import events as sim
from engine.sim.interventions import MAX_SUMMONED, Intervention, intervene
from engine.sim.objective import path_to_objective
from engine.sim.world import TICKS_PER_SECOND, Pickup, World
from procgen.levels.dungeon import GAP, MARGIN, ROOM_H, ROOM_W

DECISION_TICKS = 2 * TICKS_PER_SECOND
"""the narrator decides every two seconds"""
INTERVENTIONS: tuple[Intervention, ...] = tuple(Intervention)
"""the action space, in order: 0 is silent"""
TALK_WINDOW = 60 * TICKS_PER_SECOND
SINCE_LINE_SECONDS = 20.0
"""the observation's since_line reaches 1 this long after the last line"""
DAMAGE_WINDOW = 10 * TICKS_PER_SECOND

OBSERVATION: tuple[str, ...] = (
    *(f"beat_{b}" for b in BEATS),
    "health",
    "shield",
    "has_key",
    "lantern",
    "guide_shown",
    "progress",
    "stalled",
    "hunting_near",
    "tension",
    "target_tension",
    "treasure_left",
    "treasure_marked",
    "potion_waiting",
    "lantern_waiting",
    "lines_last_minute",
    "since_line",
    "difficulty",
    "summoned",
    "time",
    "recent_damage",
    *(f"last_{c.value}" for c in INTERVENTIONS),
    *(f"belief_{t}" for t in TYPES),
)
"""what each entry of the observation means; every entry lies in [-1, 1]"""
OBS_SIZE = len(OBSERVATION)


@dataclass(frozen=True)
class Turn:
    """The narrator's turn: what it chose, whether the World changed, whether the player needed it (for
    help), and the line that words it (None when silent or when text is off)."""

    choice: Intervention
    applied: bool
    needed: bool
    line: str | None
    events: list[sim.Event]


class NarratedRun:
    """Keeps the narrator's view of one run on `world`. `max_ticks` sets the time scale of the
    observation's `time` entry; `language` (None: no text) chooses the lines' language; `model` (None: the
    prior, uniform) is the player model whose belief the observation carries, updated every window."""

    def __init__(
        self,
        world: World,
        max_ticks: int,
        language: str | None = None,
        seed: int = 0,
        model: PlayerModel | None = None,
    ) -> None:
        self.world = world
        self.model = model
        self.window = WindowFeatures()
        self.windows: list[np.ndarray] = []
        self.max_ticks = max_ticks
        self.beats = BeatTracker()
        self.tension = TensionMeter()
        self.progress = ProgressMeter(world)
        self.writer = LineWriter(language, seed) if language else None
        self.window_beats: set[str] = set()
        self.last_beat = "intro"
        self.last_choice = Intervention.SILENT
        self.lines: deque[int] = deque()
        self.last_line_tick = -TALK_WINDOW
        self.damage: deque[int] = deque()
        self.treasure_total = max(1, sum(1 for k in world.items.values() if k is Semantic.TREASURE))
        self.interventions = 0

    # --------------------------------------------------------------------------------------- perception

    def tick(self, events: list[sim.Event]) -> tuple[list[str], bool]:
        """Digest one World tick: returns its beats and whether the player got closer to the objective."""
        before = self.beats.best_distance
        beats = self.beats.update(self.world, events)
        self.window_beats.update(beats)
        if beats:
            self.last_beat = beats[-1]
        self.tension.update(self.world)
        self.progress.update(self.world)
        t = self.world.tick
        for e in events:
            if isinstance(e, sim.DamageTaken) and e.target == sim.PLAYER_ID:
                self.damage.append(t)
        while self.damage and self.damage[0] <= t - DAMAGE_WINDOW:
            self.damage.popleft()
        while self.lines and self.lines[0] <= t - TALK_WINDOW:
            self.lines.popleft()
        best = self.beats.best_distance
        progressed = best is not None and (before is None or best < before)
        self.window.tick(self.world, events, progressed, self.stalled)
        return beats, progressed

    def close_window(self) -> None:
        """End the current window of play: the player model weighs it (once per decision). A window shorter
        than half a decision (the first tick of a run) carries on into the next."""
        if self.window.ticks < DECISION_TICKS // 2:
            return
        features = self.window.vector()
        self.windows.append(features)
        if self.model is not None:
            self.model.update(features)
        self.window.reset()

    def belief(self) -> np.ndarray:
        """The player model's posterior over the training personas (uniform without a model)."""
        return self.model.posterior() if self.model is not None else np.full(len(TYPES), 1.0 / len(TYPES))

    @property
    def stalled(self) -> bool:
        return self.beats.since_progress >= LOST_TICKS // 2

    def observe(self) -> np.ndarray:
        """The observation at a decision; it closes the window of play since the last one."""
        self.close_window()
        w, p = self.world, self.world.player
        progress = self.progress.best
        hunting = sum(
            1
            for n in w.npcs
            if n.alive and n.kind is Semantic.ENEMY and n.alerted and max(abs(n.x - p.x), abs(n.y - p.y)) <= 8
        )
        treasure_left = sum(1 for k in w.items.values() if k is Semantic.TREASURE)
        summoned = len(w.npcs) - w.initial_npcs
        values = [
            *(1.0 if b in self.window_beats else 0.0 for b in BEATS),
            p.health / p.max_health,
            min(p.shield, 1),
            min(p.keys, 1),
            float(p.lantern),
            float(w.guide_shown),
            progress,
            min(self.beats.since_progress / (2 * LOST_TICKS), 1.0),
            min(hunting, 3) / 3,
            self.tension.value,
            target_tension(progress),
            treasure_left / self.treasure_total,
            float(any(c in w.items for c in w.marked)),
            float(Pickup.POTION in w.pickups.values()),
            float(Pickup.LANTERN in w.pickups.values()),
            min(len(self.lines) / 6, 1.0),
            min((w.tick - self.last_line_tick) / (SINCE_LINE_SECONDS * TICKS_PER_SECOND), 1.0),
            w.difficulty / 2,
            summoned / MAX_SUMMONED,
            min(w.tick / self.max_ticks, 1.0),
            min(len(self.damage) / 3, 1.0),
            *(1.0 if c is self.last_choice else 0.0 for c in INTERVENTIONS),
            *self.belief(),
        ]
        return np.asarray(values, dtype=np.float32)

    # ------------------------------------------------------------------------------------------- acting

    def act(self, choice: Intervention | int | str) -> Turn:
        """The narrator's turn, between two ticks: carry `choice` out and word it. Starts a new decision
        window (the beats seen are cleared)."""
        choice = INTERVENTIONS[choice] if isinstance(choice, int | np.integer) else Intervention(choice)
        w = self.world
        needed = help_needed(choice, w, self.beats.since_progress, len(self.damage))
        events = intervene(w, choice)
        applied = isinstance(events[-1], sim.NarratorIntervened) and events[-1].applied
        line = None
        if choice is not Intervention.SILENT:
            self.interventions += 1
            self.lines.append(w.tick)
            self.last_line_tick = w.tick
            if self.writer is not None:
                line = self.writer.line(choice.value, self.last_beat, self.facts(choice))
        self.last_choice = choice
        self.window_beats.clear()
        return Turn(choice, applied, needed, line, events)

    def facts(self, choice: Intervention) -> Facts:
        """What the line may mention: rooms, the objective's direction, the item or enemy concerned."""
        w, p = self.world, self.world.player
        way = path_to_objective(w)
        goal = way[-1] if way else (p.x, p.y)
        dx, dy = goal[0] - p.x, goal[1] - p.y
        if not way:
            direction = "here"
        elif abs(dx) >= abs(dy):
            direction = "east" if dx > 0 else "west"
        else:
            direction = "south" if dy > 0 else "north"
        item = {
            Intervention.POTION: "potion",
            Intervention.HELPER_ITEM: "helper",
            Intervention.LORE: "treasure",
        }.get(choice, "key")
        enemies = [n for n in w.living_npcs() if n.kind is Semantic.ENEMY]
        nearest = min(enemies, key=lambda n: abs(n.x - p.x) + abs(n.y - p.y), default=None)
        return Facts(
            room_id=self.room_of(p.x, p.y),
            next_room_id=self.room_of(*goal),
            item=item,
            enemy="guard" if nearest is not None and nearest.role.value == "guard" else "hunter",
            direction=direction,
            health=p.health,
            keys_held=p.keys,
            treasures=p.treasure,
        )

    @staticmethod
    def room_of(x: int, y: int) -> int:
        """The dungeon room a cell lies in (rooms sit on procgen.levels.dungeon's grid), as an id that names
        it."""
        return (x - MARGIN) // (ROOM_W + GAP) + 64 * ((y - MARGIN) // (ROOM_H + GAP))


__all__ = ["DECISION_TICKS", "INTERVENTIONS", "OBSERVATION", "OBS_SIZE", "NarratedRun", "Turn"]
