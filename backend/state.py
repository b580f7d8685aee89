"""What one server process holds: the generators (loaded once, at start-up), the answer cache and blob store,
the worker threads, the level batchers and the jobs."""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.content import Workers
from backend.settings import ServerSettings
from backend.store import ByteStore
from engine.errors import LudoforgeError
from procgen.core.weights import WEIGHTS_DIR

if TYPE_CHECKING:
    from backend.batching import LevelBatcher
    from backend.generation import GenerationProcess

log = logging.getLogger("ludoforge.serve")
TRAINED_NAME = re.compile(r"g-[0-9a-f]{16}")
"""the name a training job gives its generator"""
UPLOAD_DISK_BYTES = 1024 * 1024 * 1024
RAW_MEMO_ENTRIES = 65_536
"""request bodies remembered by their bytes, so a repeated body skips parsing on its way to the cache"""


def card_sha(stem: Path) -> str:
    """The weights' sha256 from the card beside them."""
    card = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    return str(card.get("weights_sha256", ""))


class ServerState:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.ready = False
        self.generators: dict[str, Any] = {}
        """level generators by name: the shipped corpora, then those trained by jobs"""
        self.weights: dict[str, str] = {}
        """the sha256 of each loaded weights file, by the name a request gives for it"""
        self.textures: dict[str, Any] = {}
        self.sprites: Any = None
        self.batchers: dict[str, LevelBatcher] = {}
        self.generation: GenerationProcess | None = None
        """the child process that makes level batches (settings.generation_process), started by `load`"""
        self._scratch: tempfile.TemporaryDirectory | None = None
        if settings.cache_dir is not None:
            self.home = Path(settings.cache_dir)
        else:
            self._scratch = tempfile.TemporaryDirectory(prefix="ludoforge-serve-")
            self.home = Path(self._scratch.name)
        on_disk = settings.cache_dir is not None
        self.answers = ByteStore(
            settings.cache_memory_bytes,
            self.home / "answers" if on_disk else None,
            settings.cache_disk_bytes,
            write_behind=True,
        )
        self.blobs = ByteStore(
            settings.cache_memory_bytes,
            self.home / "blobs" if on_disk else None,
            settings.cache_disk_bytes,
            write_behind=True,
        )
        self.uploads = ByteStore(0, self.home / "uploads", UPLOAD_DISK_BYTES)
        """a job's inputs (corpus zips, style images) by sha256, always on disk: the workers read them there"""
        self.workers = Workers(settings.threads, settings.queue, settings.timeout_s)
        self._raw: OrderedDict[str, str] = OrderedDict()
        self._unloadable: set[str] = set()
        self.jobs: Any = None

    def load(self) -> None:
        """Every shipped generator, once: the level GANs, the six texture themes and the sprite GAN."""
        from procgen.characters.generator import SpriteGenerator
        from procgen.levels.corpus import SHIPPED_CORPORA
        from procgen.levels.generator import LevelGenerator
        from procgen.textures.generator import THEMES, TextureGenerator

        if self.settings.generation_process:
            from backend.generation import GenerationProcess

            self.generation = GenerationProcess()  # it imports torch and loads its copies meanwhile
        for name in sorted(SHIPPED_CORPORA):
            self.add_generator(name, LevelGenerator.pretrained(name))
        for theme in THEMES:
            self.textures[theme] = TextureGenerator.pretrained(theme, device="cpu")
            self.weights[f"textures_{theme}"] = card_sha(WEIGHTS_DIR / f"textures_{theme}")
        self.sprites = SpriteGenerator.pretrained()
        self.weights["sprites"] = card_sha(WEIGHTS_DIR / "sprites")
        if self.generation is not None:
            self.generation.wait_ready()
        self.ready = True

    def add_generator(self, name: str, generator: Any) -> None:
        from backend.batching import LevelBatcher

        self.generators[name] = generator
        self.weights[name] = card_sha(generator.weights_stem) if generator.weights_stem else ""
        # A generator built in memory (no weights file) has no copy in the generation process: its batches
        # are made on the workers.
        process = self.generation if generator.weights_stem is not None else None
        if process is not None:
            process.load(name, generator.weights_stem)
        self.batchers[name] = LevelBatcher(name, generator, self.workers, self.settings, process)

    def generator(self, name: str) -> Any:
        """The level generator a request names, or None. A trained one another server process's job made (in
        the shared cache folder) is loaded here the first time it is named."""
        found = self.generators.get(name)
        if found is None and TRAINED_NAME.fullmatch(name) and name not in self._unloadable:
            stem = self.home / "generators" / name / "generator"
            if stem.with_suffix(".json").is_file():
                self.load_trained(name, stem)
                found = self.generators.get(name)
        return found

    def load_trained(self, name: str, stem: Path) -> None:
        """A generator a training job made; one that no longer loads is left out, and said so, not fatal."""
        from procgen.levels.generator import LevelGenerator

        try:
            self.add_generator(name, LevelGenerator.from_weights(stem))
        except (LudoforgeError, OSError) as exc:
            self._unloadable.add(name)
            log.warning("trained generator %s not loaded: %s", name, exc)

    def remember_raw(self, raw_key: str, key: str) -> None:
        self._raw[raw_key] = key
        self._raw.move_to_end(raw_key)
        if len(self._raw) > RAW_MEMO_ENTRIES:
            self._raw.popitem(last=False)

    def known_raw(self, raw_key: str) -> str | None:
        return self._raw.get(raw_key)

    def close(self) -> None:
        if self.generation is not None:
            self.generation.close()
        self.workers.shutdown()
        self.answers.close()  # after the workers, whose last answers it writes
        self.blobs.close()
        if self._scratch is not None:
            self._scratch.cleanup()
