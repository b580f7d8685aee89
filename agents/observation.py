"""The one NPC observation vector: what the Gymnasium envs return, what the batched VecEnv builds in numpy, and
what the game feeds a trained policy. Another engine that wants to run the shipped ONNX policies builds this
vector (docs/agents.md lists every entry).

Layout, float32, OBS_SIZE = 9 * 9 * 8 + 24 = 672:
- `[0, 648)`: the egocentric window, row-major (dy from -4 to 4, then dx from -4 to 4), eight one-hot channels per
  cell (CHANNELS). Off-level cells are `blocked`; floor is all zeros. The player is drawn only while seen.
- `[648, 672)`: FEATURES, in that order.
"""

from __future__ import annotations

import numpy as np

from engine.level import Semantic
from engine.sim.policy import MOVES, OBS_RADIUS, Action, NpcObservation, Role

WINDOW = 2 * OBS_RADIUS + 1
SIGHT_SCALE = 7.0  # the sight radius: offsets to a seen player are divided by it
HOME_SCALE = 8.0  # offsets home are divided by it and clipped to [-2, 2]

CHANNELS: tuple[str, ...] = ("blocked", "hazard", "locked_door", "exit", "key", "treasure", "player", "npc")
"""one-hot tile channels of the window"""

FEATURES: tuple[str, ...] = (
    "player_visible",
    "player_dx",  # (player x - own x) / 7 while seen, else 0
    "player_dy",
    "toward_player_up",  # the first move of a hazard-free shortest path to the player, one-hot (all 0: none)
    "toward_player_down",
    "toward_player_left",
    "toward_player_right",
    "toward_key_up",  # the same toward the nearest key on the floor
    "toward_key_down",
    "toward_key_left",
    "toward_key_right",
    "toward_home_up",  # the same toward home (the spawn cell; a guard's post)
    "toward_home_down",
    "toward_home_left",
    "toward_home_right",
    "home_dx",  # (home x - own x) / 8, clipped to [-2, 2]
    "home_dy",
    "at_home",
    "player_in_zone",  # the player is seen within the zone radius of home
    "health",  # own health / max health
    "keys_carried",  # min(keys the NPC carries, 1)
    "player_has_key",  # min(keys the player holds, 1)
    "alerted",
    "friendly",  # 1 for companions and villagers, 0 for enemies
)

WINDOW_SIZE = WINDOW * WINDOW * len(CHANNELS)
OBS_SIZE = WINDOW_SIZE + len(FEATURES)
FEATURE_INDEX = {name: WINDOW_SIZE + i for i, name in enumerate(FEATURES)}

# semantic code → channel (-1: floor-like, no channel)
CODE_TO_CHANNEL = np.full(256, -1, dtype=np.int8)
for _semantics, _channel in (
    ((Semantic.WALL, Semantic.VOID, Semantic.WATER, Semantic.SOLID), "blocked"),
    ((Semantic.HAZARD,), "hazard"),
    ((Semantic.LOCKED_DOOR,), "locked_door"),
    ((Semantic.EXIT,), "exit"),
    ((Semantic.KEY,), "key"),
    ((Semantic.TREASURE,), "treasure"),
    ((Semantic.ENEMY, Semantic.NPC), "npc"),
):
    for _s in _semantics:
        CODE_TO_CHANNEL[_s.code] = CHANNELS.index(_channel)
PLAYER_CHANNEL = CHANNELS.index("player")

# semantic code → its one-hot row, so a whole window encodes with one gather
ONE_HOT = np.zeros((256, len(CHANNELS)), dtype=np.float32)
ONE_HOT[CODE_TO_CHANNEL >= 0, CODE_TO_CHANNEL[CODE_TO_CHANNEL >= 0]] = 1.0

FRIENDLY_ROLES = (Role.COMPANION, Role.VILLAGER)


def observation_bounds() -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of every entry, for the Box space."""
    low, high = np.zeros(OBS_SIZE, np.float32), np.ones(OBS_SIZE, np.float32)
    for name in ("player_dx", "player_dy"):
        low[FEATURE_INDEX[name]] = -1.0
    for name in ("home_dx", "home_dy"):
        low[FEATURE_INDEX[name]], high[FEATURE_INDEX[name]] = -2.0, 2.0
    return low, high


def _direction(out: np.ndarray, name: str, action: Action | None) -> None:
    if action is not None:
        out[FEATURE_INDEX[f"{name}_{action.name.lower()}"]] = 1.0


def encode(obs: NpcObservation) -> np.ndarray:
    """The observation vector for one NpcObservation (float32, OBS_SIZE)."""
    out = np.zeros(OBS_SIZE, np.float32)
    window = ONE_HOT[obs.local_tiles]
    if obs.player_offset is not None:
        dx, dy = obs.player_offset
        if abs(dx) <= OBS_RADIUS and abs(dy) <= OBS_RADIUS:
            window[dy + OBS_RADIUS, dx + OBS_RADIUS, PLAYER_CHANNEL] = 1.0
        out[FEATURE_INDEX["player_visible"]] = 1.0
        out[FEATURE_INDEX["player_dx"]] = dx / SIGHT_SCALE
        out[FEATURE_INDEX["player_dy"]] = dy / SIGHT_SCALE
    out[:WINDOW_SIZE] = window.reshape(-1)
    _direction(out, "toward_player", obs.toward_player)
    _direction(out, "toward_key", obs.toward_key)
    _direction(out, "toward_home", obs.toward_home)
    hx, hy = obs.home_offset
    out[FEATURE_INDEX["home_dx"]] = np.clip(hx / HOME_SCALE, -2.0, 2.0)
    out[FEATURE_INDEX["home_dy"]] = np.clip(hy / HOME_SCALE, -2.0, 2.0)
    out[FEATURE_INDEX["at_home"]] = float(hx == 0 and hy == 0)
    out[FEATURE_INDEX["player_in_zone"]] = float(obs.player_in_zone())
    out[FEATURE_INDEX["health"]] = obs.health / max(obs.max_health, 1)
    out[FEATURE_INDEX["keys_carried"]] = float(obs.keys_carried > 0)
    out[FEATURE_INDEX["player_has_key"]] = float(obs.player_keys > 0)
    out[FEATURE_INDEX["alerted"]] = float(obs.alerted)
    out[FEATURE_INDEX["friendly"]] = float(obs.role in FRIENDLY_ROLES)
    return out


def layout_table() -> list[tuple[str, str]]:
    """(index range, meaning) rows for docs and model cards."""
    rows = [
        (
            f"0..{WINDOW_SIZE - 1}",
            f"{WINDOW}x{WINDOW} window, row-major from the top-left, {len(CHANNELS)} channels per cell: "
            + ", ".join(CHANNELS),
        )
    ]
    rows += [(str(FEATURE_INDEX[name]), name) for name in FEATURES]
    return rows


__all__ = [
    "CHANNELS",
    "FEATURES",
    "FEATURE_INDEX",
    "MOVES",
    "OBS_SIZE",
    "WINDOW",
    "encode",
    "layout_table",
    "observation_bounds",
]
