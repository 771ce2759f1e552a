# Each target does its own set-up on a fresh machine: a virtual environment in .venv with
# the package installed editable and its extras. `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: test demo bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(PY) examples/quickstart.py
	$(PY) examples/scalar_mlp.py

bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[peers]' || echo "peers not installed: they will be reported as skipped"
	$(PY) -m benchmarks.micrograd_mlp --json benchmarks/results/micrograd_mlp.json
	$(PY) -m benchmarks.op_overhead --json benchmarks/results/op_overhead.json

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
