# The project's commands. `make run` and `make test` work on a fresh clone: they create the
# Python 3.10 environment, install the pinned dependencies and train when needed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/assistant.tar.gz
DATA ?= ../shared/eval/dev_intents.csv
FRUSTRATION_DATA ?= ../shared/eval/dev_frustration.csv
TRAINING_FILES := config.yml domain.yml $(wildcard data/*.yml)

# Quiet, offline, reproducible: no telemetry prompt, no TensorFlow chatter.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup train validate shell run run-scaled lint test test-fast eval eval-frustration bench bench-desk chaos lock clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	@python=$$(tools/find_python.sh) || exit 1; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --disable-pip-version-check "pip==24.0"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

setup: $(VENV)/.installed ## create the environment (Python 3.10) with the pinned packages

$(MODEL): $(VENV)/.installed $(TRAINING_FILES)
	@mkdir -p models var
	@echo "Training the assistant (config.yml, domain.yml, data/) ..."
	@start=$$(date +%s); \
	$(RASA) train --fixed-model-name assistant --out models --quiet || exit 1; \
	echo "Training time: $$(( $$(date +%s) - start )) s"
	@touch $@

train: $(MODEL) ## train the model when the training data changed

validate: $(VENV)/.installed ## check the training data and content (file and line on errors)
	$(PY) -m tools.content.check_data
	$(PY) -W ignore -m tools.content.validate

shell: $(MODEL) ## talk to the assistant in this terminal
	$(PY) -m tools.stack --shell

WORKERS ?=
RASA_SERVERS ?=

run: $(MODEL) ## start everything on 127.0.0.1: Rasa, action server, web app (shop + widget, agent desk)
	$(if $(WORKERS)$(RASA_SERVERS),$(PY) -m tools.stack.scaled --workers $(or $(WORKERS),1) --rasa-servers $(or $(RASA_SERVERS),1),$(PY) -m tools.stack)

run-scaled: $(MODEL) ## 2 web workers + 2 Rasa servers + 1 action server on Redis and PostgreSQL (under var/scaled)
	$(PY) -m tools.stack.scaled

LINT_PATHS := actions bot handoff tools tests
SCRIPTS := bot/static/widget.js handoff/static/desk.js handoff/static/desk_team.js handoff/static/admin.js

lint: $(VENV)/.installed ## ruff (rules E,F,W,I,B,UP), ruff format --check, mypy, node --check and node tests of the two scripts
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy
	@for script in $(SCRIPTS); do node --check $$script || exit 1; done
	node --test tests/js/widget.test.js tests/js/desk.test.js

test-fast: $(VENV)/.installed ## the unit tests only (no model, no browser, no servers): well under a minute
	$(PY) -m pytest -m unit -q

test: $(MODEL) ## validate, run the test stories and the test suites
	$(MAKE) --no-print-directory validate
	$(PY) -m tools.evaluation.story_test
	ASSISTANT_MODEL=$(MODEL) $(PY) -m pytest

eval: $(MODEL) ## measure answers on DATA=path.csv (text,topic columns)
	$(PY) -m tools.evaluation.evaluate --data "$(DATA)"

eval-frustration: $(VENV)/.installed ## measure the frustration detector on DATA=path.csv (text,label)
	$(PY) -m tools.evaluation.eval_frustration --data "$(if $(filter command line,$(origin DATA)),$(DATA),$(FRUSTRATION_DATA))"

bench: $(MODEL) ## latency, throughput, loss and memory of the whole stack vs Rasa alone, then the desk figures (BENCHMARKS.md; SCALED=1: 2 web workers + 2 Rasa vs 1 + 1)
	$(if $(SCALED),$(PY) -m tools.benchmark.bench_scaled,$(PY) -m tools.benchmark.bench) $(BENCH_ARGS)
	$(PY) -m tools.benchmark.bench_desk $(DESK_BENCH_ARGS)

bench-desk: $(VENV)/.installed ## desk figures: queue, thread and search times with 10,000 closed conversations (DESK_BENCH_ARGS)
	$(PY) -m tools.benchmark.bench_desk $(DESK_BENCH_ARGS)

chaos: $(MODEL) ## kill each process once under a light load: seconds until served again, lost messages, customers without notice (SCALED=1: the run-scaled stack)
	$(PY) -m tools.benchmark.chaos $(if $(SCALED),--scaled) $(CHAOS_ARGS)

lock: ## re-pin requirements.txt from requirements.in (after changing requirements.in)
	rm -rf .venv-lock && "$$(tools/find_python.sh)" -m venv .venv-lock
	.venv-lock/bin/pip install --quiet "pip==24.0" && .venv-lock/bin/pip install --quiet -r requirements.in
	{ echo "# Generated from requirements.in with 'make lock' (pip freeze --all)."; \
	  .venv-lock/bin/pip freeze --all --exclude-editable | grep -v '^pip=='; } > requirements.txt
	rm -rf .venv-lock

clean: ## remove trained models, reports and local databases (keeps the environment)
	rm -rf models results reports var
