"""What a job's worker process does, one function per kind. It runs in a fresh interpreter (see backend.jobs),
writes its files into `files/` and reports progress through `progress(stage, fraction)`."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

Progress = Callable[[str, float], None]


def die_with_parent(sent: int | None = None) -> None:
    """In a process the server starts (a job's worker, the generation process), first thing: Linux sends it
    `sent` (SIGTERM by default) if the server dies, even by SIGKILL, so none outlives its server (whose next
    start marks a job failed)."""
    import sys

    if sys.platform != "linux":
        return
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sent or signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_task(task: dict[str, Any], files: Path, progress: Progress) -> dict[str, Any]:
    import torch

    torch.set_num_threads(int(task.get("threads", 1)))  # leave the server its cores
    files.mkdir(parents=True, exist_ok=True)
    kind = task["spec"]["kind"]
    run = {
        "train-levels": train_levels,
        "levels": levels,
        "sprites": sprites,
        "style-transfer": style_transfer,
    }
    return run[kind](task, files, progress)


def train_levels(task: dict[str, Any], files: Path, progress: Progress) -> dict[str, Any]:
    """The project's own level trainer on the caller's corpus: the zip is checked before anything is extracted
    (traversal, bombs, file count), then `procgen.levels.train` runs with the job's iteration budget."""
    from engine.outside import extract_zip
    from procgen.levels.corpus import SHARED_LEGEND_NAME
    from procgen.levels.train import Args, train

    spec = task["spec"]
    home = Path(task["generator_dir"])
    progress("checking the corpus", 0.0)
    corpus = home / "corpus"
    extract_zip(
        Path(task["upload"]).read_bytes(),
        corpus,
        where="corpus zip",
        suffixes=(".txt", ".json", ".tmj", ".tmx"),
    )
    folder = _level_folder(corpus, SHARED_LEGEND_NAME)
    args = Args(
        corpus=str(folder),
        window=tuple(spec["window"]) if spec["window"] else None,
        stride=spec["stride"],
        iterations=spec["iterations"],
        seed=spec["seed"],
        eval_samples=spec["eval_samples"],
        name=home.name,
        run_dir=str(home / "run"),
        weights_out=str(home / "generator"),
        sample_every=max(1, spec["iterations"] // 4),
        checkpoint_every=spec["iterations"],
        threads=int(task.get("threads", 1)),
    )
    stages = {"training": (0.02, 0.9), "evaluating": (0.9, 0.99), "writing": (0.99, 1.0)}

    def trained(stage: str, done: float) -> None:
        lo, hi = stages.get(stage, (0.0, 0.02))
        progress(stage, lo + (hi - lo) * done)

    command = f"POST /v1/jobs train-levels {json.dumps(spec, sort_keys=True)}"
    weights = train(args, command=command, progress=trained)
    card = json.loads(weights.with_suffix(".json").read_text(encoding="utf-8"))
    (files / "card.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    return {
        "generator": home.name,
        "weights": str(weights.with_suffix("")),
        "card": {k: card.get(k) for k in ("weights_sha256", "date", "seed", "metrics", "data", "command")},
    }


def _level_folder(root: Path, legend_name: str) -> Path:
    """The folder of the zip that holds the levels: the root, or the one folder everything sits in."""
    folder = root
    while True:
        entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
        if len(entries) == 1 and entries[0].is_dir():
            folder = entries[0]
            continue
        return folder


def levels(task: dict[str, Any], files: Path, progress: Progress) -> dict[str, Any]:
    """Thousands of levels in chunks through `sample_batch`, each with its solver result, into levels.zip."""
    from backend.levels import solver_result
    from engine.formats import encode_level
    from procgen.levels.generator import LevelGenerator, SampleRequest
    from procgen.levels.solver import solve

    spec = task["spec"]
    generator = LevelGenerator.from_weights(task["weights"], device="cpu")
    room = generator.genre.name == "topdown"
    kind = "room" if room else "segment"
    entries = []
    chunk = 256
    with zipfile.ZipFile(files / "levels.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for start in range(0, spec["n"], chunk):
            progress("generating", start / spec["n"])
            n = min(chunk, spec["n"] - start)
            # each chunk is its own seed stream: chunk k of seed s is the request (n, seed=s * 100_003 + k)
            seed = (spec["seed"] * 100_003 + start // chunk) % (2**31 - 1)
            ((codes, report),) = generator.sample_batch(
                [SampleRequest(n, seed, task["conditions"], spec["repair"])]
            )
            for i, grid in enumerate(codes):
                index = start + i
                level = generator.as_level(grid, seed, "procgen.levels.gan", f"{kind}-{spec['seed']}-{index}")
                made = encode_level(level, spec["format"], f"level_{index:05d}")
                for name, data in made.items():
                    archive.writestr(name, data)
                entries.append(
                    {
                        "name": level.meta.name,
                        "index": index,
                        "files": list(made),
                        "solver": solver_result(solve(grid, generator.genre, room=room)),
                        "raw_playable": bool(report.raw_playable[i]),
                        "repair_edits": int(report.edits[i]),
                    }
                )
        archive.writestr("manifest.json", json.dumps({"generator": spec["generator"], "levels": entries}))
    playable = sum(e["solver"]["playable"] for e in entries)
    return {"levels": len(entries), "playable": playable}


def sprites(task: dict[str, Any], files: Path, progress: Progress) -> dict[str, Any]:
    from PIL import Image

    from procgen.characters.generator import SpriteGenerator

    spec = task["spec"]
    generator = SpriteGenerator.pretrained(device="cpu")
    with zipfile.ZipFile(files / "sprites.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for k, cls in enumerate(dict.fromkeys(spec["classes"])):
            progress("generating", k / len(spec["classes"]))
            for i, sprite in enumerate(generator.sample(cls, spec["n"], spec["seed"])):
                buf = io.BytesIO()
                Image.fromarray(sprite, "RGBA").save(buf, format="PNG")
                archive.writestr(f"{cls}/{cls}_{i:04d}.png", buf.getvalue())
    return {"sprites": spec["n"] * len(set(spec["classes"]))}


def style_transfer(task: dict[str, Any], files: Path, progress: Progress) -> dict[str, Any]:
    from PIL import Image

    from engine.outside import decode_image
    from procgen.textures.generator import TextureGenerator
    from procgen.textures.style import transfer

    spec = task["spec"]
    style = decode_image(Path(task["upload"]).read_bytes(), "style", max_pixels=2048 * 2048)
    progress("styling", 0.0)
    content = TextureGenerator.pretrained(spec["theme"], device="cpu").sample(spec["size"], spec["seed"])
    styled = transfer(content, style, steps=spec["steps"], periodic=True)
    Image.fromarray(styled).save(files / "styled.png")
    return {"size": spec["size"], "steps": spec["steps"]}
