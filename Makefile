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

.PHONY: install install-tpu install-cuda12 demo test test-slow lint format benchmark clean

# The pinned jax 0.10.2 needs Python 3.11 or newer (e.g. `make install PYTHON=python3.12`).
PY_CHECK := import sys; sys.exit(sys.version_info < (3, 11) and "error: $(PYTHON) is Python %d.%d; \
the pinned jax needs 3.11 or newer: run make again with PYTHON=python3.11 (or newer)" % sys.version_info[:2])

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || { $(PYTHON) -c '$(PY_CHECK)' && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

# CPU: requirements.txt (the pin set CI uses).
install: $(STAMP)

# Accelerators: the CPU install, then the accelerator build of the same jax (pyproject extras).
# Cloud TPU VM: jax[tpu]==0.10.2 (libtpu) plus gcsfs and google-cloud-storage for gs:// workdirs.
install-tpu: $(STAMP)
	$(PY) -m pip install -q -e ".[tpu]"

# NVIDIA GPUs: jax[cuda12]==0.10.2 (jax-cuda12-plugin, jax-cuda12-pjrt and the CUDA 12 wheels;
# needs an NVIDIA driver, not a CUDA toolkit). Add gs:// support with `.venv/bin/pip install -e
# ".[gcs]"`.
install-cuda12: $(STAMP)
	$(PY) -m pip install -q -e ".[cuda12]"

demo: $(STAMP)
	$(PY) scripts/train.py --config experiments/demo.py --workdir $(WORKDIR)
	$(PY) scripts/evaluate.py --workdir $(WORKDIR)
	$(PY) scripts/report.py --workdir $(WORKDIR)
	@echo "Demo outputs are in $(WORKDIR)/ (report.html, report.md, eval.json, *.png, config.json, metrics.jsonl, summary.json, checkpoints/)"

# One pytest worker per core (pytest-xdist): most tests are bound by XLA compilation, which is
# single-threaded, so two workers on two cores halve the wall time. Module-scoped fixtures stay in
# one worker (--dist loadscope). The slowest tests are listed so CI logs show where time goes.
TEST_WORKERS ?= auto
# `make test`: every test but the slow tier (end-to-end runs listed in tests/conftest.py), under
# 10 minutes on 2 cores; `make test-slow`: that tier; `.ci/run` runs both.
test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadscope --durations=15 -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadscope --durations=15 -m slow

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
