# `make demo` and `make test` set themselves up: .venv is made on first use with a Python >= 3.13.2
# (Home Assistant's packages require it), built once from Debian's source package where the
# machine has none (scripts/find-python.sh).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP_INSTALL = $(PY) -m pip install --quiet
# Inside the venv, so that an older .venv (made with 3.13.0 before) is replaced, not reused.
PYTHON_STAMP := $(VENV)/.python-3.13.2-or-newer

.PHONY: demo test test-engine bench clean live-view-assets

$(PYTHON_STAMP):
	rm -rf $(VENV)
	python="$$(scripts/find-python.sh)" && "$$python" -m venv $(VENV)
	touch $@

$(VENV)/.installed-base: pyproject.toml $(PYTHON_STAMP)
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(PYTHON_STAMP)
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
	# The add-on's live view in Debian's chromium, through a loopback stand-in for the ingress proxy.
	$(MAKE) --no-print-directory test-live-view

# --- The add-on's live view: uPlot from the npm registry, pinned in addon/frontend/package-lock.json,
# copied next to the page (the add-on image's node stage does the same; nothing from a CDN at run time).
LIVE_VIEW_VENDOR := ruview_core/service/static/vendor
LIVE_VIEW_FILES := node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css node_modules/uplot/LICENSE

$(LIVE_VIEW_VENDOR)/.uplot-stamp: addon/frontend/package.json addon/frontend/package-lock.json
	scripts/ensure-debian-packages.sh npm:npm
	cd addon/frontend && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(LIVE_VIEW_VENDOR)
	cd addon/frontend && cp $(LIVE_VIEW_FILES) $(CURDIR)/$(LIVE_VIEW_VENDOR)/
	touch $@

live-view-assets: $(LIVE_VIEW_VENDOR)/.uplot-stamp

bench: $(VENV)/.installed-base
	$(PIP_INSTALL) -e '.[bench]'  # csiread, for comparison only
	$(PY) benchmarks/bench_ingest.py

clean:
	rm -rf $(VENV) .pytest_cache

# --- Browser end-to-end journey (tests/e2e) ---------------------------------------------------
# A real Home Assistant 2026.2.3 (its own venv, on CPython 3.13.5 built once from Debian trixie's
# source package: HA refuses Python < 3.13.2) and Debian's chromium driven by Playwright.
# Everything lands in a cache outside the work tree and is reused: the Python build takes about
# 3.5 minutes on 2 cores the first time, the HA venv about 45 s.
E2E_CACHE ?= $(or $(RUVIEW_CACHE),$(HOME)/.cache/ruview)
E2E_PYTHON_PREFIX := $(E2E_CACHE)/python-3.13.5
E2E_PYTHON := $(E2E_PYTHON_PREFIX)/bin/python3.13
HASS_VENV ?= $(E2E_CACHE)/hass-venv
CHROMIUM := /usr/bin/chromium

.PHONY: test-e2e e2e-deps test-live-view

$(E2E_PYTHON_PREFIX)/.ruview-built:
	scripts/build-python.sh $(E2E_PYTHON_PREFIX) >/dev/null

$(HASS_VENV)/.ruview-hass-stamp: $(E2E_PYTHON_PREFIX)/.ruview-built scripts/e2e/make-hass-venv.sh \
		scripts/e2e/ha_requirements.py $(wildcard custom_components/ruview/manifest.json)
	scripts/e2e/make-hass-venv.sh $(E2E_PYTHON) $(HASS_VENV)

$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
		|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

e2e-deps: $(HASS_VENV)/.ruview-hass-stamp $(CHROMIUM)

# Drives Home Assistant from outside: no HA pytest plugin (it blocks sockets).
test-e2e: $(VENV)/.installed-test e2e-deps
	$(PIP_INSTALL) -e '.[test,e2e]'  # playwright (the Python package only: the browser is Debian's)
	RUVIEW_HASS_VENV=$(HASS_VENV) $(PY) -m pytest -p no:homeassistant tests/e2e -q -s

# The live view needs no Home Assistant: chromium, Playwright and the page's vendor files only.
test-live-view: $(VENV)/.installed-test $(CHROMIUM) $(LIVE_VIEW_VENDOR)/.uplot-stamp
	$(PIP_INSTALL) -e '.[test,e2e]'
	$(PY) -m pytest -p no:homeassistant tests/e2e/test_live_view.py -q
