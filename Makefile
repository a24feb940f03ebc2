# `make demo` and `make test` set themselves up: .venv is made with Python 3.13 on first use.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Home Assistant's packages ask for Python >= 3.13.2; pyenv's 3.13.0 runs their tests fine.
PIP_INSTALL = $(PY) -m pip install --quiet $$($(PY) -c 'import sys; print("--ignore-requires-python" if sys.version_info < (3, 13, 2) else "")')

.PHONY: demo test test-engine bench clean

$(PY):
	"$$(scripts/find-python.sh)" -m venv $(VENV)

$(VENV)/.installed-base: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e '.[test]'
	touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	$(VENV)/bin/ruview demo

SYSTEM_PACKAGES := mosquitto:mosquitto jq:jq curl:curl

test: $(VENV)/.installed-test
	scripts/ensure-debian-packages.sh $(SYSTEM_PACKAGES)
	# Home Assistant's pytest plugin blocks sockets and polices tasks in every test: keep it off the engine.
	$(PY) -m pytest -p no:homeassistant tests/engine
	# The integration against a real Home Assistant core (the plugin on), fed by the real service over UDP.
	$(PY) -m pytest tests/integration
	$(PY) -m mypy --strict custom_components/ruview

bench: $(VENV)/.installed-base
	$(PIP_INSTALL) -e '.[bench]'  # csiread, for comparison only
	$(PY) benchmarks/bench_ingest.py

clean:
	rm -rf $(VENV) .pytest_cache
