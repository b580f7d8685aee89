"""The content server under load: wrk on loopback, 32 connections, medians of 5 runs, against `ludoforge serve`.

Rows, each run alternately with its baseline in one process:
- a cached level, answered 304 to If-None-Match (and 200 from the cache, for comparison);
- fresh playable rooms (POST /v1/levels, n=1, repair on, a new seed every request): micro-batching on (ours)
  against the same server with it off (baseline); and, for context, batching on with the batches made on the
  server's worker threads instead of the generation process, and batching on with the answers also cached on
  disk (`--cache-dir`, written behind);
- the service's overhead: HTTP rooms/s over in-process batched rooms/s for the same work (sample, solve,
  encode), measured in this run.

wrk and the server share the 2-core machine. Usage: `python bench/bench_backend.py [--seconds 5]`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPEATS, save

CONNECTIONS = 32
FRESH_SCRIPT = """
counter = 0
local offset = tonumber(os.getenv("SEED_OFFSET") or "0")
local threads = 0
-- each wrk thread has its own Lua state: give each its own range of seeds, so no seed is sent twice
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  return wrk.format(nil, "/v1/levels", nil, '{"n": 1, "seed": ' .. (offset + tid * 1000000 + counter) .. '}')
end
"""
CACHED_SCRIPT = """
wrk.method = "POST"
wrk.path = "/v1/levels"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"n": 1, "seed": 7}'
local etag = os.getenv("ETAG")
if etag and etag ~= "" then wrk.headers["If-None-Match"] = etag end
"""


def start_server(port: int, *extra: str) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "demo_game", "serve", "--port", str(port), "--log-level", "warning", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"server on {port} did not start")


def wrk(port: int, script: str, seconds: float, env: dict[str, str]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{int(seconds)}s",
            "--latency",
            "-s",
            f.name,
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        check=True,
    ).stdout
    Path(f.name).unlink()
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if bad:  # a run that measured errors measures nothing: stop, and say so
        raise RuntimeError(f"wrk saw {bad.group(1)} error answers:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "p99_ms": p99,
        "p50_ms": p50,
        "bad": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def in_process_rooms_per_s(seed_base: int) -> float:
    """The same work as one fresh-room request, for 64 requests at once, without HTTP: the generation process's
    `make_batch` (sample, repair, solve) in this process, then the JSON encoding of each answer (backend.levels'
    own functions)."""
    from backend.content import json_bytes
    from backend.generation import make_batch
    from backend.levels import solver_result
    from engine.formats.json_level import level_to_dict
    from procgen.levels.generator import SampleRequest

    generator = _generator()
    requests = [SampleRequest(1, seed_base + i) for i in range(64)]
    start = time.perf_counter()
    rooms = 0

    def encode(outcomes: list, _final: bool) -> None:
        nonlocal rooms
        for _, (codes, _report, solutions) in outcomes:
            level = generator.as_level(codes[0], 0, "procgen.levels.gan", "room")
            json_bytes({"levels": [{"level": level_to_dict(level), "solver": solver_result(solutions[0])}]})
            rooms += 1

    while time.perf_counter() - start < 2.0:
        make_batch(generator, requests, encode)
        requests = [SampleRequest(1, r.seed + 64) for r in requests]
    return rooms / (time.perf_counter() - start)


_GEN = []


def _generator():
    if not _GEN:
        from procgen.levels.generator import LevelGenerator

        _GEN.append(LevelGenerator.pretrained("dungeon"))
    return _GEN[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_backend needs wrk (Debian: apt-get install wrk)")
    ours_port, base_port, threads_port, disk_port = 8791, 8792, 8793, 8794
    ours = start_server(ours_port)
    base = start_server(base_port, "--no-batching")
    threads = start_server(threads_port, "--no-generation-process")
    disk_home = tempfile.TemporaryDirectory(prefix="bench-backend-")
    disk = start_server(disk_port, "--cache-dir", disk_home.name)
    try:
        body = {"n": 1, "seed": 7}
        etag = httpx.post(f"http://127.0.0.1:{ours_port}/v1/levels", json=body).headers["etag"]
        again = httpx.post(
            f"http://127.0.0.1:{ours_port}/v1/levels", json=body, headers={"If-None-Match": etag}
        )
        assert again.status_code == 304, again.status_code  # what the cached row then measures
        for port in (
            ours_port,
            base_port,
            threads_port,
            disk_port,
        ):  # warm each: torch's first calls are slow
            wrk(port, FRESH_SCRIPT, 2, {"SEED_OFFSET": "900000000"})
        cached_304, cached_200, fresh_ours, fresh_base, fresh_threads, in_process = [], [], [], [], [], []
        fresh_disk: list[dict[str, float]] = []
        for run in range(REPEATS):
            cached_304.append(wrk(ours_port, CACHED_SCRIPT, args.seconds, {"ETAG": etag}))
            cached_200.append(wrk(ours_port, CACHED_SCRIPT, args.seconds, {}))
            offset = str(10_000_000 * (run + 1))
            fresh_ours.append(wrk(ours_port, FRESH_SCRIPT, args.seconds, {"SEED_OFFSET": offset}))
            fresh_base.append(wrk(base_port, FRESH_SCRIPT, args.seconds, {"SEED_OFFSET": offset}))
            fresh_threads.append(wrk(threads_port, FRESH_SCRIPT, args.seconds, {"SEED_OFFSET": offset}))
            fresh_disk.append(wrk(disk_port, FRESH_SCRIPT, args.seconds, {"SEED_OFFSET": offset}))
            in_process.append(in_process_rooms_per_s(500_000_000 + run * 100_000))
            print(
                f"run {run + 1}: 304 {cached_304[-1]['rps']:.0f}/s p99 {cached_304[-1]['p99_ms']:.1f} ms | "
                f"fresh batched {fresh_ours[-1]['rps']:.0f}/s p99 {fresh_ours[-1]['p99_ms']:.1f} ms | "
                f"unbatched {fresh_base[-1]['rps']:.0f}/s p99 {fresh_base[-1]['p99_ms']:.1f} ms | "
                f"on threads {fresh_threads[-1]['rps']:.0f}/s p99 {fresh_threads[-1]['p99_ms']:.1f} ms | "
                f"disk cache {fresh_disk[-1]['rps']:.0f}/s p99 {fresh_disk[-1]['p99_ms']:.1f} ms | "
                f"in-process {in_process[-1]:.0f} rooms/s"
            )
    finally:
        for server in (ours, base, threads, disk):
            server.terminate()
            server.wait(30)
        disk_home.cleanup()

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    fresh = {
        "name": f"content server: fresh playable rooms/s (POST /v1/levels n=1, repair on), {CONNECTIONS} "
        "connections: micro-batching off vs on",
        "unit": "requests/s",
        "repeats": REPEATS,
        "baseline_median": med(fresh_base, "rps"),
        "ours_median": med(fresh_ours, "rps"),
        "ratio": med(fresh_ours, "rps") / med(fresh_base, "rps"),
        "baseline_runs": fresh_base,
        "ours_runs": fresh_ours,
        "http": {
            "cached_304_rps": med(cached_304, "rps"),
            "cached_304_p99_ms": med(cached_304, "p99_ms"),
            "cached_200_rps": med(cached_200, "rps"),
            "cached_200_p99_ms": med(cached_200, "p99_ms"),
            "fresh_rps": med(fresh_ours, "rps"),
            "fresh_p99_ms": med(fresh_ours, "p99_ms"),
            "fresh_unbatched_p99_ms": med(fresh_base, "p99_ms"),
            "fresh_on_threads_rps": med(fresh_threads, "rps"),
            "fresh_on_threads_p99_ms": med(fresh_threads, "p99_ms"),
            "fresh_disk_cache_rps": med(fresh_disk, "rps"),
            "fresh_disk_cache_p99_ms": med(fresh_disk, "p99_ms"),
            "in_process_rooms_per_s": statistics.median(in_process),
            "overhead_ratio": med(fresh_ours, "rps") / statistics.median(in_process),
            "bad_responses": sum(
                r["bad"]
                for r in cached_304 + cached_200 + fresh_ours + fresh_base + fresh_threads + fresh_disk
            ),
            "cached_304_runs": cached_304,
            "cached_200_runs": cached_200,
            "fresh_on_threads_runs": fresh_threads,
            "fresh_disk_cache_runs": fresh_disk,
            "in_process_runs": in_process,
        },
    }
    save("backend", [fresh])
    h = fresh["http"]
    print(
        f"cached 304: {h['cached_304_rps']:.0f} req/s, p99 {h['cached_304_p99_ms']:.1f} ms (goal >= 2,000, < 20 ms)"
    )
    print(
        f"fresh rooms: {h['fresh_rps']:.0f} req/s, p99 {h['fresh_p99_ms']:.1f} ms (goal >= 500, < 100 ms); "
        f"x{fresh['ratio']:.2f} batching off (goal >= 3)"
    )
    print(f"batched on the worker threads instead: {h['fresh_on_threads_rps']:.0f} req/s")
    print(f"batched, answers also cached on disk (--cache-dir): {h['fresh_disk_cache_rps']:.0f} req/s")
    print(
        f"overhead: HTTP {h['fresh_rps']:.0f} / in-process {h['in_process_rooms_per_s']:.0f} rooms/s = "
        f"{h['overhead_ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
