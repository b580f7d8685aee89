"""Shared benchmark plumbing: repeats, medians, the machine description and the JSON result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
REPEATS = 5


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    import pygame

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pygame-ce": pygame.version.ver,
        "sdl": ".".join(map(str, pygame.get_sdl_version())),
        "os": platform.platform(),
    }


def rate(work: Callable[[], int]) -> float:
    """Items per second for one call of `work`, which returns how many items it did."""
    start = time.perf_counter()
    n = work()
    return n / (time.perf_counter() - start)


def compare(
    name: str, unit: str, baseline: Callable[[], int], ours: Callable[[], int], **extra: Any
) -> dict[str, Any]:
    """Run baseline and ours alternately REPEATS times in this process; report medians and their ratio."""
    base_runs, our_runs = [], []
    for _ in range(REPEATS):
        base_runs.append(rate(baseline))
        our_runs.append(rate(ours))
    result = {
        "name": name,
        "unit": unit,
        "repeats": REPEATS,
        "baseline_median": statistics.median(base_runs),
        "ours_median": statistics.median(our_runs),
        "ratio": statistics.median(our_runs) / statistics.median(base_runs),
        "baseline_runs": base_runs,
        "ours_runs": our_runs,
        **extra,
    }
    print(
        f"{name:<44} baseline {result['baseline_median']:>10.1f} {unit}   ours {result['ours_median']:>10.1f} {unit}"
        f"   x{result['ratio']:.2f}"
    )
    return result


def save(file_stem: str, results: list[dict[str, Any]]) -> None:
    RESULTS.mkdir(exist_ok=True)
    payload = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "results": results}
    (RESULTS / f"{file_stem}.json").write_text(json.dumps(payload, indent=1) + "\n")
