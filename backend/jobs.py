"""Jobs: work longer than a request should take, each in its own worker process.

    POST /v1/uploads         a corpus zip or a style image, by its bytes → its sha256
    POST /v1/jobs            202 and the job: train-levels (a generator from your corpus), levels and sprites
                             (big batches), style-transfer (bigger and longer than the request allows)
    GET  /v1/jobs/{id}       state, progress (0..1, the stage, an ETA) and, when done, the result's URLs
    DELETE /v1/jobs/{id}     cancel: the worker process is stopped
    GET  /v1/jobs/{id}/files/{name}   a result file

A job lives in `<cache-dir>/jobs/<id>/`: its spec, its progress (written by the worker), its result or error. It
survives the client going away. A server that restarts marks the jobs it was running failed, with the reason;
none is left hanging. Several server processes may share one cache folder (see `Jobs`). A trained generator
lives in `<cache-dir>/generators/g-<id>/`; every process loads it at start-up, or when a request first names
it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from backend.art import SpriteClass, Theme
from backend.levels import MAX_JOB_LEVELS, Conditions, LevelFormat, Seed, Strict, _conditions
from backend.worker import die_with_parent
from engine.atomic import atomic_write_json
from engine.errors import InputError

router = APIRouter(tags=["jobs"])

Sha256 = Annotated[
    str, Field(pattern=r"^[0-9a-f]{64}$", description="an upload's sha256, from POST /v1/uploads")
]
JobId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$")]
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
WATCH_S = 0.2
"""how often a server process looks at its workers"""
HEARTBEAT_S = 1.0
SWEEP_S = 5.0
"""how often it looks for jobs whose server process has stopped"""
OWNER_STALE_S = 15.0
"""a server process whose heartbeat is older than this has stopped"""
CORPUS_SUFFIXES = (".txt", ".json", ".tmj", ".tmx")
States = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class TrainLevels(Strict):
    kind: Literal["train-levels"]
    corpus: Sha256
    """a zip of VGLC text levels with a legend.json, or of Tiled maps (.tmj/.tmx) or ludoforge .json levels"""
    window: tuple[Annotated[int, Field(ge=2, le=64)], Annotated[int, Field(ge=2, le=64)]] | None = Field(
        None, description="(width, height) of the training windows; omit when every level has one size"
    )
    stride: int = Field(2, ge=1, le=16)
    iterations: int = Field(1000, ge=1, le=5000, description="generator updates: the job's budget")
    seed: Seed = 1
    eval_samples: int = Field(200, ge=16, le=1000, description="samples for the card's metrics")


class LevelsBatch(Strict):
    kind: Literal["levels"]
    generator: str = Field("dungeon", min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")
    n: int = Field(ge=1, le=MAX_JOB_LEVELS)
    seed: Seed = 0
    conditions: Conditions | None = None
    repair: bool = True
    format: LevelFormat = "json"


class SpritesBatch(Strict):
    kind: Literal["sprites"]
    classes: list[SpriteClass] = Field(min_length=1, max_length=6)
    n: int = Field(ge=1, le=4096, description="sprites per class")
    seed: Seed = 0


class StyleTransferJob(Strict):
    kind: Literal["style-transfer"]
    style: Sha256
    theme: Theme = "stone_floor"
    seed: Seed = 0
    size: int = Field(256, ge=16, le=1024)
    steps: int = Field(200, ge=1, le=500)


JobSpec = Annotated[TrainLevels | LevelsBatch | SpritesBatch | StyleTransferJob, Field(discriminator="kind")]


class JobRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"job": {"kind": "levels", "n": 2000, "seed": 7}}]},
    )
    job: JobSpec


class JobStatus(BaseModel):
    id: str
    kind: str
    state: States
    progress: float = Field(ge=0, le=1)
    stage: str
    eta_s: float | None = Field(None, description="seconds left, estimated from the progress so far")
    created: float
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    result: dict[str, Any] | None = Field(None, description="when succeeded: what was made, with its URLs")


class Upload(BaseModel):
    sha256: str
    bytes: int


class Jobs:
    """The jobs in one cache folder, as one server process sees them: the workers it runs, and the thread that
    watches them.

    Several server processes (`--workers N`, one `--cache-dir`) may share the folder. A job belongs to the
    process that accepted it (its `owner`), which alone starts and stops its worker; every process reads
    every job's state from the folder, so any of them answers a poll. Each process touches a heartbeat file
    every second; a job whose owner's heartbeat is older than `OWNER_STALE_S` (that process died) is marked
    failed by whichever process sees it first, and a process that starts fails only such jobs, not the ones
    its live siblings run. A cancel that reaches another process marks the job cancelled, and its owner stops
    the worker within a watch tick. Each job's record changes under a lock file of its own."""

    def __init__(self, home: Path, state: Any, max_running: int = 1, worker_threads: int = 1) -> None:
        self.home = home
        self.folder = home / "jobs"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.servers = home / "servers"
        self.servers.mkdir(parents=True, exist_ok=True)
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        """this server process, as job records name it"""
        self.state = state
        self.max_running = max_running
        self.worker_threads = worker_threads
        self.processes: dict[str, subprocess.Popen] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # ------------------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Mark what a stopped server left queued or running as failed, load the generators earlier jobs
        trained, and start watching."""
        self._beat()
        self._fail_orphans(lambda was: f"the server restarted while this job was {was}; submit it again")
        for card in sorted((self.home / "generators").glob("g-*/generator.json")):
            self._register_generator(card.parent.name, card.with_suffix(""))
        self._watcher = threading.Thread(target=self._watch, name="ludoforge-jobs", daemon=True)
        self._watcher.start()
        # its own thread: a watcher busy loading a trained generator must not look like a dead server
        threading.Thread(target=self._heartbeat, name="ludoforge-heartbeat", daemon=True).start()

    def stop(self) -> None:
        """On shutdown: stop the workers and mark their jobs failed, saying why; this process's queued jobs
        fail too (no one else will start them)."""
        self._stop.set()
        with self._lock:
            for job_id, process in list(self.processes.items()):
                _terminate(process)
                self._finish(
                    job_id, "failed", error="the server shut down while this job ran; submit it again"
                )
            self.processes.clear()
            for record in self._records():
                if record.get("owner") == self.owner and record.get("state") == "queued":
                    self._finish(
                        record["id"], "failed", error="the server shut down while this job was queued"
                    )
        (self.servers / self.owner).unlink(missing_ok=True)

    # -------------------------------------------------------------------------------------------- requests
    def submit(self, spec: BaseModel) -> dict[str, Any]:
        with self._lock:
            queued = sum(1 for r in self._records() if r.get("state") == "queued")
            if queued >= self.state.settings.queued_jobs:
                from backend.content import Busy

                raise Busy
            job_id = uuid.uuid4().hex[:16]
            folder = self.folder / job_id
            folder.mkdir()
            task = self._task(job_id, spec)
            atomic_write_json(folder / "task.json", task, indent=1)
            record = {
                "id": job_id,
                "kind": spec.kind,  # type: ignore[attr-defined]
                "state": "queued",
                "created": time.time(),
                "started": None,
                "finished": None,
                "error": None,
                "result": None,
                "owner": self.owner,
            }
            atomic_write_json(folder / "job.json", record, indent=1)
            self._start_queued()
            return self.status(job_id)

    def status(self, job_id: str) -> dict[str, Any]:
        record = self._record(job_id)
        progress = _read(self.folder / job_id / "progress.json") if record["state"] == "running" else {}
        done = {"succeeded": 1.0}.get(record["state"], float(progress.get("progress", 0.0)))
        stage = progress.get("stage", record["state"]) if record["state"] == "running" else record["state"]
        eta = None
        if record["state"] == "running" and record["started"] and 0 < done < 1:
            elapsed = time.time() - record["started"]
            eta = round(elapsed * (1 - done) / done, 1)
        shown = {k: v for k, v in record.items() if k != "owner"}
        return {**shown, "progress": min(1.0, max(0.0, done)), "stage": stage, "eta_s": eta}

    def cancel(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            self._record(job_id)  # 404 for no such job
            if self._finish(job_id, "cancelled", error="cancelled by a client"):
                process = self.processes.pop(job_id, None)
                if process is not None:  # ours; another owner stops its own at its next watch tick
                    _terminate(process)
                self._start_queued()
        return self.status(job_id)

    def file(self, job_id: str, name: str) -> Path:
        self._record(job_id)
        path = self.folder / job_id / "files" / name
        if not FILE_NAME.fullmatch(name) or not path.is_file():
            raise HTTPException(404, f"job {job_id} has no file {name!r}")
        return path

    # ------------------------------------------------------------------------------------------- internals
    def _task(self, job_id: str, spec: BaseModel) -> dict[str, Any]:
        """What the worker needs, resolved here: uploads as paths, a generator as its weights."""
        task: dict[str, Any] = {"spec": spec.model_dump(mode="json"), "threads": self.worker_threads}
        if isinstance(spec, TrainLevels | StyleTransferJob):
            sha = spec.corpus if isinstance(spec, TrainLevels) else spec.style
            if sha not in self.state.uploads:
                raise InputError(
                    "job.corpus" if isinstance(spec, TrainLevels) else "job.style", f"no upload {sha}"
                )
            task["upload"] = str(self.state.uploads.folder / sha)
        if isinstance(spec, TrainLevels):
            task["generator_dir"] = str(self.home / "generators" / f"g-{job_id}")
        if isinstance(spec, LevelsBatch):
            generator = self.state.generator(spec.generator)
            if generator is None:
                raise InputError("job.generator", f"expected one of {sorted(self.state.generators)}")
            conditions = _conditions(spec.conditions)
            try:
                import numpy as np

                generator.conditions(1, np.random.default_rng(0), conditions)
            except ValueError as exc:
                raise InputError("job.conditions", str(exc)) from None
            task["weights"] = str(generator.weights_stem)
            task["conditions"] = conditions
        return task

    def _records(self) -> list[dict[str, Any]]:
        return [r for r in (_read(p) for p in self.folder.glob("*/job.json")) if r]

    def _record(self, job_id: str) -> dict[str, Any]:
        path = self.folder / job_id / "job.json"
        if not path.is_file():
            raise HTTPException(404, f"no job {job_id}")
        return _read(path)

    def _update(self, job_id: str, only_from: tuple[str, ...], **changes: Any) -> bool:
        """Change a job's record, under its lock, if its state is one of `only_from`; False if it was not (a
        job that has finished stays as it finished, whichever process comes second)."""
        path = self.folder / job_id / "job.json"
        with _locked(self.folder / job_id / "lock"):
            record = _read(path)
            if record.get("state") not in only_from:
                return False
            record.update(changes)
            atomic_write_json(path, record, indent=1)
        return True

    def _finish(self, job_id: str, state: str, error: str | None = None, result: Any = None) -> bool:
        return self._update(
            job_id, ("queued", "running"), state=state, finished=time.time(), error=error, result=result
        )

    def _start_queued(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            queued = sorted(
                (r for r in self._records() if r["state"] == "queued" and r.get("owner") == self.owner),
                key=lambda r: r["created"],
            )
            for record in queued[: max(0, self.max_running - len(self.processes))]:
                folder = self.folder / record["id"]
                if not self._update(record["id"], ("queued",), state="running", started=time.time()):
                    continue  # cancelled meanwhile
                # A fresh interpreter per job: nothing of the server (threads, sockets, loaded nets) is inherited.
                with open(folder / "worker.log", "ab") as log:
                    process = subprocess.Popen(
                        [sys.executable, "-m", "backend.jobs", str(folder)],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        preexec_fn=die_with_parent if sys.platform == "linux" else None,
                    )
                self.processes[record["id"]] = process

    def _watch(self) -> None:
        ticks = 0
        while not self._stop.wait(WATCH_S):
            ticks += 1
            with self._lock:
                for job_id, process in list(self.processes.items()):
                    if _read(self.folder / job_id / "job.json").get("state") != "running":
                        _terminate(process)  # another server process cancelled it
                        del self.processes[job_id]
                    elif process.poll() is not None:
                        del self.processes[job_id]
                        self._collect(job_id, process.returncode)
                self._start_queued()
            if ticks % round(SWEEP_S / WATCH_S) == 0:
                self._fail_orphans(lambda was: f"the server process that had this job {was} stopped")

    def _beat(self) -> None:
        (self.servers / self.owner).touch()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            self._beat()

    def _alive(self, owner: str | None) -> bool:
        if owner == self.owner:
            return True
        try:
            return owner is not None and time.time() - (self.servers / owner).stat().st_mtime < OWNER_STALE_S
        except OSError:  # no heartbeat at all: that process has stopped
            return False

    def _fail_orphans(self, why: Any) -> None:
        """Mark failed every queued or running job whose owner has stopped (no fresh heartbeat)."""
        for record in self._records():
            was = record.get("state")
            if was in ("queued", "running") and not self._alive(record.get("owner")):
                self._finish(record["id"], "failed", error=why(was))

    def _collect(self, job_id: str, exit_code: int | None) -> None:
        folder = self.folder / job_id
        outcome = _read(folder / "outcome.json")
        if exit_code == 0 and "result" in outcome:
            result = outcome["result"]
            weights = Path(result.pop("weights")) if "generator" in result else None
            files = (
                sorted(p.name for p in (folder / "files").glob("*")) if (folder / "files").is_dir() else []
            )
            result["files"] = [f"/v1/jobs/{job_id}/files/{name}" for name in files]
            # A job cancelled while it finished stays cancelled, and its generator is neither served nor kept.
            succeeded = self._finish(job_id, "succeeded", result=result)
            if weights is not None:
                if succeeded:
                    self._register_generator(result["generator"], weights)
                else:
                    shutil.rmtree(weights.parent, ignore_errors=True)
        else:
            self._finish(
                job_id, "failed", error=outcome.get("error") or f"the worker stopped (exit code {exit_code})"
            )

    def _register_generator(self, name: str, stem: Path) -> None:
        self.state.load_trained(name, stem)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` across processes (flock; where there is none, this process's own)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: one server process per cache folder
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _terminate(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ------------------------------------------------------------------------------------------------- worker


def run_job(folder: str) -> None:
    """The worker process (`python -m backend.jobs <folder>`): run the task in `folder`, writing progress.json as
    it goes and outcome.json at the end ({"result": ...} or {"error": ...}); exit 0 only on success."""
    from backend.worker import run_task

    path = Path(folder)
    task = json.loads((path / "task.json").read_text(encoding="utf-8"))
    last = [0.0]

    def progress(stage: str, done: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.25 or done >= 1:  # a few writes a second at most
            last[0] = now
            atomic_write_json(path / "progress.json", {"stage": stage, "progress": round(done, 4)})

    try:
        result = run_task(task, path / "files", progress)
    except Exception as exc:  # every failure becomes the job's error, in words
        atomic_write_json(path / "outcome.json", {"error": f"{type(exc).__name__}: {exc}"})
        sys.exit(1)
    atomic_write_json(path / "outcome.json", {"result": result})


# ------------------------------------------------------------------------------------------------- routes


def _jobs(request: Request) -> Jobs:
    return request.app.state.ludoforge.jobs


@router.post(
    "/uploads",
    response_model=Upload,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "a corpus zip (for train-levels) or a style image (for style-transfer), at most the "
            "body limit",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(request: Request) -> JSONResponse:
    """Keep a file for a job, named by its sha256 (the body limit bounds it; old uploads go first)."""
    import hashlib

    data = await request.body()
    if not data:
        raise InputError("body", "expected the file's bytes, got an empty body")
    sha = hashlib.sha256(data).hexdigest()
    # A durable write (fsync) of up to the body limit: on a thread, so the other requests do not wait for the disk.
    await run_in_threadpool(request.app.state.ludoforge.uploads.put, sha, data)
    return JSONResponse({"sha256": sha, "bytes": len(data)}, status_code=201)


@router.post("/jobs", response_model=JobStatus, status_code=202)
async def submit(body: JobRequest, request: Request) -> JSONResponse:
    """Start a job; poll `GET /v1/jobs/{id}` (the Location header) for its progress and result."""
    status = _jobs(request).submit(body.job)
    return JSONResponse(status, status_code=202, headers={"Location": f"/v1/jobs/{status['id']}"})


@router.get("/jobs/{job_id}", response_model=JobStatus)
async def job(job_id: JobId, request: Request) -> Mapping[str, Any]:
    """A job's state, progress, stage, ETA and, when it succeeded, its result and the URLs of its files."""
    return _jobs(request).status(job_id)


@router.delete("/jobs/{job_id}", response_model=JobStatus)
async def cancel(job_id: JobId, request: Request) -> Mapping[str, Any]:
    """Cancel a job: a queued one never starts, a running one's worker process is stopped."""
    return _jobs(request).cancel(job_id)


@router.get(
    "/jobs/{job_id}/files/{name}",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}, "image/png": {}, "application/json": {}}}},
)
async def job_file(
    job_id: JobId,
    name: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")],
    request: Request,
) -> FileResponse:
    """A file a finished job made."""
    from backend.content import media_type

    path = _jobs(request).file(job_id, name)
    return FileResponse(path, media_type=media_type(name), filename=name)


if __name__ == "__main__":
    run_job(sys.argv[1])
