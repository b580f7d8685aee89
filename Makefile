# The two user commands (play, test) create or refresh .venv themselves; a stamp makes a no-change run instant.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: play test test-fast bench lint format clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

play: $(STAMP)
	$(VENV)/bin/ludoforge play $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

# The developer's quick loop: everything but the shipped-weight quality suites (marked slow); CI runs `make test`.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" $(ARGS)

bench: $(STAMP)
	@# MiniGrid is the NPC-env baseline only; --no-deps keeps pygame-ce (it would pull in pygame).
	$(PY) -m pip install -q --no-deps minigrid==3.2.0
	@# EnvPool runs the same MiniGrid env batched in C++ (the equal-batch baseline; ~740 MB of its own assets).
	$(PY) -m pip install -q -c constraints.txt envpool==1.2.5
	$(PY) bench/bench_repair.py
	$(PY) bench/bench_agents.py
	$(PY) bench/bench_sim.py
	$(PY) bench/bench_render.py
	$(PY) bench/bench_levels.py
	$(PY) bench/bench_textures.py
	$(PY) bench/bench_sprites.py
	@# The content server under load needs wrk (Debian: apt-get install wrk).
	@if command -v wrk >/dev/null; then $(PY) bench/bench_backend.py; else echo "bench_backend skipped: no wrk"; fi
	$(PY) bench/write_report.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
