# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WORKDIR ?= runs/demo
# MNIST and other IDX sets resolve through $AEJAX_DATA_DIR/<name>; use the shared copy when present.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/mnist),)
export AEJAX_DATA_DIR ?= $(SHARED_DATA)
endif
# XLA on CPU: let the step use every core; no TensorFlow is imported at train time.
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install demo test lint format benchmark clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) scripts/train.py --config experiments/demo.py --workdir $(WORKDIR)
	$(PY) scripts/evaluate.py --workdir $(WORKDIR)
	$(PY) scripts/report.py --workdir $(WORKDIR)
	@echo "Demo outputs are in $(WORKDIR)/ (report.html, report.md, eval.json, *.png, config.json, metrics.jsonl, summary.json, checkpoints/)"

# One pytest worker per core (pytest-xdist): most tests are bound by XLA compilation, which is
# single-threaded, so two workers on two cores halve the wall time. Module-scoped fixtures stay in
# one worker (--dist loadscope). The slowest tests are listed so CI logs show where time goes.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadscope --durations=15

lint: $(STAMP)
	$(VENV)/bin/ruff format --check aejax scripts experiments tests
	$(VENV)/bin/ruff check aejax scripts experiments tests

format: $(STAMP)
	$(VENV)/bin/ruff format aejax scripts experiments tests
	$(VENV)/bin/ruff check --fix aejax scripts experiments tests

benchmark: $(STAMP)
	$(PY) scripts/benchmark.py --out runs/benchmark.json

clean:
	rm -rf runs
