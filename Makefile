# `make demo` and `make test` set themselves up: .venv is made on first use with a Python >= 3.13.2
# (Home Assistant's packages require it), built once from Debian's source package where the
# machine has none (scripts/find-python.sh).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP_INSTALL = $(PY) -m pip install --quiet
# Inside the venv, so that an older .venv (made with 3.13.0 before) is replaced, not reused.
PYTHON_STAMP := $(VENV)/.python-3.13.2-or-newer
# The live view's vendor files (uPlot), copied from addon/frontend's node_modules (see live-view-assets).
LIVE_VIEW_VENDOR := ruview_core/service/static/vendor

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

# playwright (the Python package only: the browser is Debian's chromium)
$(VENV)/.installed-e2e: pyproject.toml $(PYTHON_STAMP)
	$(PIP_INSTALL) -e '.[test,e2e]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	$(VENV)/bin/ruview demo

SYSTEM_PACKAGES := mosquitto:mosquitto jq:jq curl:curl

test: $(VENV)/.installed-e2e e2e-deps $(LIVE_VIEW_VENDOR)/.uplot-stamp
	scripts/ensure-debian-packages.sh $(SYSTEM_PACKAGES)
	# Home Assistant's pytest plugin blocks sockets and polices tasks in every test: keep it off the engine.
	$(PY) -m pytest -p no:homeassistant tests/engine
	# The integration against a real Home Assistant core (the plugin on), fed by the real service over UDP.
	$(PY) -m pytest tests/integration
	$(PY) -m mypy --strict custom_components/ruview
	# In a real browser: a person's enrollment in a real Home Assistant (see test-e2e below) and the
	# add-on's live view through a loopback stand-in for the ingress proxy.
	$(E2E_PYTEST)

# --- The add-on's live view: uPlot from the npm registry, pinned in addon/frontend/package-lock.json,
# copied next to the page (the add-on image's node stage does the same; nothing from a CDN at run time).
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
# A real Home Assistant 2026.2.3 in its own venv (on the same Python >= 3.13.2 as .venv: HA refuses
# older ones) and Debian's chromium driven by Playwright. The venv lands in a cache outside the work
# tree and is reused (about 45 s to make the first time; `make test` runs the journey too).
E2E_CACHE ?= $(or $(RUVIEW_CACHE),$(HOME)/.cache/ruview)
HASS_VENV ?= $(E2E_CACHE)/hass-venv
CHROMIUM := /usr/bin/chromium
# Its own pytest run: Home Assistant's pytest plugin blocks the sockets the journey needs.
E2E_PYTEST = RUVIEW_E2E_REQUIRED=1 RUVIEW_HASS_VENV=$(HASS_VENV) $(PY) -m pytest -p no:homeassistant tests/e2e -q -s

.PHONY: test-e2e e2e-deps test-live-view

$(HASS_VENV)/.ruview-hass-stamp: $(PYTHON_STAMP) scripts/e2e/make-hass-venv.sh scripts/e2e/ha_requirements.py \
		$(wildcard custom_components/ruview/manifest.json)
	scripts/e2e/make-hass-venv.sh "$$(scripts/find-python.sh)" $(HASS_VENV)

$(CHROMIUM):
	scripts/ensure-debian-packages.sh chromium:chromium

e2e-deps: $(HASS_VENV)/.ruview-hass-stamp $(CHROMIUM)

test-e2e: $(VENV)/.installed-e2e e2e-deps $(LIVE_VIEW_VENDOR)/.uplot-stamp
	$(E2E_PYTEST)

# The live view needs no Home Assistant: chromium, Playwright and the page's vendor files only.
test-live-view: $(VENV)/.installed-e2e $(CHROMIUM) $(LIVE_VIEW_VENDOR)/.uplot-stamp
	$(PY) -m pytest -p no:homeassistant tests/e2e/test_live_view.py -q
