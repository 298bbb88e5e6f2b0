# The two commands a new user needs: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
BIN := .venv/bin
BUF := .tools/node_modules/.bin/buf
PYTEST_ARGS ?=

.PHONY: help install run test generate check-generated lint bench envoy-config migrate clean

help:
	@echo "make run    - install what is missing, start PostgreSQL + server + Envoy on :8080"
	@echo "make test   - install what is missing, run the whole test suite"
	@echo "make lint   - buf lint, ruff, mypy (strict on server/ and clients/)"
	@echo "make generate | make bench | make migrate | make envoy-config | make clean"

install:
	@scripts/bootstrap.sh

run: install
	$(BIN)/interview-platform run

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

generate: install
	$(BIN)/python scripts/generate.py

check-generated: install
	$(BIN)/python scripts/generate.py --check

lint: install
	$(BUF) lint
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	@WITH_BENCH_TOOLS=1 scripts/bootstrap.sh
	$(BIN)/python bench/bench_foundation.py
	$(BIN)/python bench/bench_identity.py
	$(BIN)/python bench/bench_interviews.py
	$(BIN)/python bench/bench_evaluation.py
	$(BIN)/python bench/bench_ai_local.py
	$(BIN)/python bench/bench_sandbox.py
	$(BIN)/python bench/bench_resume_parse.py
	$(BIN)/python bench/bench_resume_rank.py
	$(BIN)/python bench/bench_speech.py
	$(BIN)/python bench/bench_speech_streams.py

migrate: install
	$(BIN)/interview-platform migrate

envoy-config: install
	$(BIN)/interview-platform envoy-config --production

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache *.egg-info
