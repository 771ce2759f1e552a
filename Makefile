# Each target does its own set-up on a fresh machine: a virtual environment in .venv with
# the package installed editable and its extras. `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: test demo bench clean

# Debian packages the project uses, installed when running as root and missing:
# graphviz (the `dot` program that renders graphs) and the Fashion-MNIST data files.
DEB_PACKAGES := graphviz dataset-fashion-mnist

$(STAMP): pyproject.toml
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	[ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || missing="$$missing dataset-fashion-mnist"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "warning: could not install$$missing"; \
	  else echo "note: not root, so not installing:$$missing (apt-get install$$missing)"; fi; \
	fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(VENV)/bin/tinygrad-notes demo --out runs/demo

bench: $(STAMP)
	@command -v clang >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null; } || \
	  echo "note: clang (tinygrad's CPU device) is missing: the tinygrad peer will fail and be skipped"
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[peers]' || echo "peers not installed: they will be reported as skipped"
	$(VENV)/bin/tinygrad-notes bench all --json benchmarks/results/latest.json

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
