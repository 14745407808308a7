# The two set-up commands of the README. Both build .venv from pyproject.toml first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve demo test bench lint messages catalogues studio-assets

# An install from before setup.py mapped the folders left motcua.egg-info at the root: with the
# root on sys.path (tests) its old entry points (`plugins.payment:...`) would shadow the real
# ones, so it goes. The egg-info of an install now lives in platform/.
$(VENV)/.installed: pyproject.toml setup.py
	rm -rf motcua.egg-info
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

serve: $(VENV)/.installed  ## install, then serve the portal at http://127.0.0.1:8000
	$(BIN)/motcua serve --specs procedure_specs --data data --host 127.0.0.1 --port 8000 $(ARGS)

# The same portal with every plugin's simulator (payment gateways, carriers, SMS, identity
# provider) on the next ports and demo staff accounts (published password): what a first
# walk-through needs, never a deployment.
demo: $(VENV)/.installed  ## install, then serve the portal with the simulators and demo accounts
	$(BIN)/motcua serve --demo --specs procedure_specs --data data --host 127.0.0.1 --port 8000 $(ARGS)

# Two pytest workers per CPU (pytest-xdist; tests/conftest.py says why), each test file on one
# worker (its module fixtures made once); ARGS="-n 0" runs in one process, ARGS=--deep draws many more examples in the
# property-based tests (docs/performance.md, "Test suite").
test: $(VENV)/.installed  ## install, then run the whole test suite (browser tests need Debian's chromium-headless-shell or chromium)
	$(BIN)/python -m pytest -n auto --dist loadfile $(ARGS)

lint: $(VENV)/.installed
	$(BIN)/motcua lint procedure_specs

#: The benches (bench/load.py, bare_app.py and specgen.py are their helpers). bench/portal.py
#: drives real servers from wrk when installed (apt-get install wrk), else from its own
#: multi-process client; see docs/performance.md.
BENCHES := bench/portal.py bench/agencies.py bench/staff_queue.py bench/store_write_parts.py bench/store_growth.py bench/stats.py

bench: $(VENV)/.installed  ## every benchmark, each printing its ratio to a baseline of the same run
	for b in $(BENCHES); do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Translations (docs/i18n.md): extract every message from the code and templates into a
# template, then merge it into each language's .po (new messages empty, vanished ones
# dropped). The tests run `catalogues` on a copy and expect no change.
PYBABEL ?= $(BIN)/pybabel
POT ?= build/messages.pot
LOCALES ?= platform/motcua/translations

messages: $(VENV)/.installed  ## refresh the .po catalogues after adding or changing strings
	$(MAKE) --no-print-directory catalogues

catalogues:
	@mkdir -p $(dir $(POT))
	$(PYBABEL) -q extract -F babel.cfg -k t -k say --no-location --sort-output --omit-header -o $(POT) .
	$(PYBABEL) -q update -i $(POT) -d $(LOCALES) -D messages --ignore-obsolete --ignore-pot-creation-date

# The authoring studio's editor (CodeMirror 6 + YAML, docs/specs.md "Authoring studio"): the
# built bundle is committed under platform/motcua/static/studio/, so CI and deployments need
# no npm; rebuild it after changing studio-assets/src or its package-lock.json (node 20).
studio-assets:
	cd studio-assets && npm ci --no-audit --no-fund && npm run build
