# Task runner. Every target sets itself up: a fresh machine needs only python3 (3.11+), node and npm.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The function deploys to Cloud Functions' python312 runtime: its tests also run there, in a
# virtualenv holding only function/requirements.txt (the generated lock) and the test tools.
PY312    ?= $(shell sh tools/find-python312.sh)
VENV312  := .venv312
STAMP312 := $(VENV312)/.installed
# The test tools added on top of the function's packages in $(VENV312), with their dependencies:
# installed --no-deps at constraints.txt's pins, so they cannot move a function package.
TEST_TOOLS312 := pytest|pytest-timeout|hypothesis|iniconfig|pluggy|packaging|pygments|sortedcontainers

.PHONY: setup browser run bench test test-py312 lint fmt constraints lock clean

setup: $(STAMP) node_modules/.package-lock.json browser

## browser: Debian's chromium for the browser tests (idempotent; apt-get as root or with sudo)
browser:
	@sh tools/install-browser.sh

$(STAMP): requirements.txt function/requirements.in requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

# --omit=optional: firebase-tools' optional native addon re2 (for its Hosting emulator, which we
# never start) is otherwise compiled from C++ (slow) wherever its prebuilt binary cannot be
# downloaded; the Auth emulator and everything else here are plain JavaScript.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error --omit=optional

## run: the whole product locally (emulators, Stripe stand-in, dev sign-in, function, example page); ARGS="--help" lists the options
run: $(STAMP) node_modules/.package-lock.json
	$(PY) -m local.run $(ARGS)

## bench: the full benchmark (about 3 minutes; prints a table, writes bench/results/latest.json)
bench: $(STAMP) node_modules/.package-lock.json
	$(PY) -m bench

## test: lint, then every test; then the function's tests again on Python 3.12
test: setup lint
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-py312

## test-py312: the function's tests on Python 3.12 with only function/requirements.txt installed
test-py312:
	@if [ -z "$(PY312)" ]; then \
	  echo "test-py312: python3.12 not found; the function's tests did NOT run on 3.12"; \
	else \
	  $(MAKE) --no-print-directory $(STAMP312) && \
	  $(VENV312)/bin/python -m pytest tests/function -q -p no:cacheprovider; \
	fi

# Built anew whenever the lock changes, so nothing a former lock installed is left to pass a test.
$(STAMP312): function/requirements.txt constraints.txt
	rm -rf $(VENV312)
	$(PY312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install --quiet --disable-pip-version-check \
	  --require-hashes -r function/requirements.txt
	$(VENV312)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
	  $$(grep -iE '^($(TEST_TOOLS312))==' constraints.txt)
	$(VENV312)/bin/python -m pip check
	touch $@

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

fmt: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## constraints: re-pin every transitive package after a requirements change
constraints: $(STAMP)
	{ echo '# Every transitive package of the development environment, pinned (pip freeze on Python 3.11).'; \
	  echo '# Regenerate with `make constraints` after changing a requirements file.'; \
	  $(PY) -m pip freeze --exclude-editable | grep -vE '^(pip|setuptools|wheel)=='; } > constraints.txt

## lock: generate function/requirements.txt (what Cloud Functions installs) from function/requirements.in
lock: $(STAMP)
	$(PY) -m tools.lock_function

clean:
	rm -rf $(VENV) $(VENV312) node_modules .pytest_cache .ruff_cache test-output
