"""Curricula over difficulty, written in YAML in the spirit of ML-Agents' `environment_parameters`, and the SB3
callback that applies them through `env_method("set_params", ...)`.

```yaml
environment_parameters:
  spawn_min_distance:          # a parameter NpcEnv.set_params takes
    curriculum:
      - name: close
        value: 3
        completion_criteria: {measure: success, threshold: 0.5, min_lesson_length: 300}
      - name: far
        value: 6               # the last lesson has no criterion: it lasts to the end
```

A lesson ends when, over the last `min_lesson_length` training episodes (and at least that many since the lesson
began), the success rate reaches `threshold`. Every parameter moves through its own lessons.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from stable_baselines3.common.callbacks import BaseCallback

from engine.errors import FileFormatError
from engine.outside import read_outside_text

CURRICULA_DIR = Path(__file__).parent / "curricula"
MAX_LESSON_LENGTH = 1_000_000


class CurriculumError(FileFormatError):
    """A curriculum file that cannot be used: names the file, the field and what was expected."""


@dataclass(frozen=True)
class Lesson:
    name: str
    value: Any
    threshold: float | None  # None: the last lesson
    min_length: int


def load_curriculum(path: str | Path) -> dict[str, list[Lesson]]:
    """Parameter name → its lessons, validated (a bad file names the field at fault)."""
    path = Path(path)
    try:
        data = yaml.safe_load(read_outside_text(path, limit=1024 * 1024, error=CurriculumError))
    except (OSError, yaml.YAMLError, RecursionError) as e:
        raise CurriculumError(path, "file", f"cannot be read as YAML ({e})") from None
    params = data.get("environment_parameters") if isinstance(data, dict) else None
    if not isinstance(params, dict) or not params:
        raise CurriculumError(path, "environment_parameters", "expected a mapping of parameter → curriculum")
    out: dict[str, list[Lesson]] = {}
    for name, spec in params.items():
        where = f"environment_parameters.{name}.curriculum"
        lessons = spec.get("curriculum") if isinstance(spec, dict) else None
        if not isinstance(lessons, list) or not lessons:
            raise CurriculumError(path, where, "expected a non-empty list of lessons")
        parsed = []
        for i, lesson in enumerate(lessons):
            if not isinstance(lesson, dict) or "value" not in lesson:
                raise CurriculumError(path, f"{where}[{i}]", "expected a mapping with a 'value'")
            criteria = lesson.get("completion_criteria")
            last = i == len(lessons) - 1
            if criteria is None and not last:
                raise CurriculumError(
                    path, f"{where}[{i}].completion_criteria", "only the last lesson may omit it"
                )
            threshold, length = None, 0
            if criteria is not None:
                if criteria.get("measure", "success") != "success":
                    raise CurriculumError(
                        path, f"{where}[{i}].completion_criteria.measure", "expected 'success'"
                    )
                threshold = float(criteria.get("threshold", -1))
                length = int(criteria.get("min_lesson_length", 100))
                if not 0 <= threshold <= 1:
                    raise CurriculumError(
                        path, f"{where}[{i}].completion_criteria.threshold", "expected 0..1"
                    )
                if not 1 <= length <= MAX_LESSON_LENGTH:
                    raise CurriculumError(
                        path,
                        f"{where}[{i}].completion_criteria.min_lesson_length",
                        f"expected 1..{MAX_LESSON_LENGTH}",
                    )
            parsed.append(Lesson(str(lesson.get("name", f"lesson{i}")), lesson["value"], threshold, length))
        out[str(name)] = parsed
    return out


class CurriculumCallback(BaseCallback):
    """Moves each parameter to its next lesson when the training success rate allows, via env_method."""

    def __init__(self, curriculum: dict[str, list[Lesson]]) -> None:
        super().__init__()
        self.curriculum = curriculum
        self.stage = dict.fromkeys(curriculum, 0)
        longest = max(lesson.min_length for lessons in curriculum.values() for lesson in lessons)
        self.recent: deque[bool] = deque(maxlen=max(longest, 1))
        self.since = dict.fromkeys(curriculum, 0)
        self.history: list[tuple[int, str, str]] = []

    def _on_training_start(self) -> None:
        self._apply_all()

    def _apply_all(self) -> None:
        values = {name: lessons[self.stage[name]].value for name, lessons in self.curriculum.items()}
        self.training_env.env_method("set_params", **values)

    def _on_step(self) -> bool:
        for info, done in zip(self.locals["infos"], self.locals["dones"], strict=True):
            if done and "is_success" in info:
                self.recent.append(bool(info["is_success"]))
                for name in self.since:
                    self.since[name] += 1
        changed = False
        for name, lessons in self.curriculum.items():
            lesson = lessons[self.stage[name]]
            if lesson.threshold is None or self.since[name] < lesson.min_length:
                continue
            window = list(self.recent)[-lesson.min_length :]
            if np.mean(window) >= lesson.threshold:
                self.stage[name] += 1
                self.since[name] = 0
                self.history.append((self.num_timesteps, name, lessons[self.stage[name]].name))
                changed = True
        if changed:
            self._apply_all()
        for name in self.curriculum:
            self.logger.record(f"curriculum/{name}", self.stage[name])
        return True
