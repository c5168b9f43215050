# Everything a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Python caches bytecode even where the environment sets PYTHONDONTWRITEBYTECODE (as this
# kind of machine does): without it every process that imports the app compiles its ~430
# modules again (CPU 3.9 s against 1.4 s a start, measured here). That is every gunicorn worker
# that max_requests replaces, every job worker and every xdist worker of the suite.
CACHED := env -u PYTHONDONTWRITEBYTECODE
FLASK := $(CACHED) $(BIN)/flask --app wsgi
N ?= 1000000
# M: audit rows for the /audit pages (default 10,000,000). ONLY: pages, import, library, throughput
# (or production, board).
# U: the library's viewers with progress rows (default 10,000).

.PHONY: run serve migrate worker demo-worker test test-fast lint fmt bench db-upgrade db-check db-stop install install-test system-deps clean

# Dependencies come from setup.cfg, axe-core from package-lock.json. Each stamp is named after
# the checksum of the file it installs from: an edit re-installs, while a fresh checkout of the
# same files (new file times) finds its environment ready and installs nothing. One pip run
# for everything the tests need (one resolution), without pip upgrading itself or checking
# its own version on the network, and without compiling every installed module up front:
# the suite compiles (and caches) those it imports.
DEPS_KEY := $(shell cksum setup.cfg | cut -d' ' -f1)
NODE_KEY := $(shell cksum package-lock.json | cut -d' ' -f1)
PIP_INSTALL = $(BIN)/python -m pip install -q --disable-pip-version-check --no-compile
REQUIREMENTS = $(BIN)/python -c 'import configparser; c = configparser.ConfigParser(); c.read("setup.cfg"); print(c["options"]["install_requires"]); $(1)'

$(VENV)/.installed-$(DEPS_KEY):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call REQUIREMENTS) > $(VENV)/requirements.txt
	$(PIP_INSTALL) -r $(VENV)/requirements.txt
	touch $@

$(VENV)/.installed-test-$(DEPS_KEY):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call REQUIREMENTS,print(c["options.extras_require"]["test"])) > $(VENV)/requirements-test.txt
	$(PIP_INSTALL) -r $(VENV)/requirements-test.txt
	touch $(VENV)/.installed-$(DEPS_KEY) $@

install: $(VENV)/.installed-$(DEPS_KEY)
install-test: $(VENV)/.installed-test-$(DEPS_KEY) system-deps node_modules/.installed-$(NODE_KEY)

# axe-core for the browser tests' accessibility pass, pinned by package-lock.json.
node_modules/.installed-$(NODE_KEY): | system-deps
	npm ci --no-audit --no-fund
	touch $@

# PostgreSQL server binaries, Debian's Chromium, npm (for axe-core), ffmpeg (ffprobe for the
# library's uploads, ffmpeg for the tests' media files), and HAProxy, PgBouncer and wrk (the
# cluster test and the throughput benchmark), installed when missing and we are root.
# Each needed command and the Debian package that brings it. Only the packages of missing
# commands are installed: a machine whose Node.js comes from elsewhere (NodeSource's bundles
# npm) has npm already, and Debian's npm package would conflict with that nodejs.
SYSTEM_COMMANDS := /usr/lib/postgresql/*/bin/initdb:postgresql chromium:chromium npm:npm \
	ffmpeg:ffmpeg ffprobe:ffmpeg haproxy:haproxy pgbouncer:pgbouncer wrk:wrk systemd-analyze:systemd
system-deps:
	@missing=$$(for pair in $(SYSTEM_COMMANDS); do \
	  PATH="$$PATH:/usr/sbin" command -v $${pair%:*} >/dev/null 2>&1 || echo $${pair##*:}; \
	done | sort -u | tr '\n' ' '); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "Missing system packages. Install them with: sudo apt-get install $$missing"; exit 1; \
	  fi; \
	fi

run: install
	@$(BIN)/python -m catalog.pgserver check
	$(FLASK) db upgrade
	$(FLASK) catalog demo
	@# The server and a background worker (so imports finish), stopped together by Ctrl+C.
	$(CACHED) $(BIN)/python -m catalog.jobs.launch --host 127.0.0.1 --port 5000

# The production server: gunicorn configured by deploy/gunicorn.conf.py from the environment.
# It refuses to start without DATABASE_URL and the production secrets (SECRET_KEY,
# SECURITY_PASSWORD_SALT, SECURITY_TOTP_SECRET); it never migrates: `make migrate` first.
serve: install
	exec $(CACHED) $(BIN)/gunicorn --config deploy/gunicorn.conf.py

# Migrations, an explicit step of every deployment (as DATABASE_OWNER_URL's role when set).
migrate: install
	$(FLASK) db upgrade

# One more worker (any number may run, on any machine that reaches the database).
worker: install
	$(FLASK) catalog worker

# A pretend pipeline worker for the demo, against `make run` (another terminal); Ctrl+C stops it.
demo-worker: install
	$(FLASK) catalog tasks demo-worker

# The suite on $(TEST_WORKERS) pytest-xdist processes sharing one PostgreSQL cluster, each on
# databases of its own cloned from one migrated template (tests/conftest.py); the 15 slowest
# tests are listed at the end. TEST_WORKERS=0 runs it in this one process.
# Bytecode is cached (CACHED): otherwise every xdist worker and every job worker the tests
# start compiles the package and rewrites the tests again (about 5 s of CPU per worker, 1 s
# per job worker process).
# --dist loadgroup: the tests of one xdist_group (the cluster's, the demo catalog's) run on one
# worker, which builds what they share once; the rest go one at a time to whichever worker is
# free, the slowest first (tests/conftest.py SLOW_FIRST), so that all finish together.
# Three workers for every two cores: a test spends part of its time waiting for PostgreSQL,
# which runs on the same cores. On two cores, test-fast took 101 s with 2 workers, 89 s with 3
# and 91 s with 4; the whole suite 205 s with 2 and 191 s with 3.
TEST_WORKERS ?= $(shell echo $$(( ($$(nproc) * 3 + 1) / 2 )))
PYTEST_RUN := $(CACHED) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

test: install-test
	$(PYTEST_RUN)

# Everything but the browser tests.
test-fast: install-test
	$(PYTEST_RUN) -m "not browser"

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install-test
	$(CACHED) $(BIN)/python -m tests.bench --videos $(N) $(if $(M),--audit-rows $(M)) $(if $(T),--tasks $(T)) $(if $(ONLY),--only $(ONLY)) $(if $(U),--library-users $(U))

db-upgrade: install
	$(FLASK) db upgrade

db-check: install
	$(FLASK) db check

db-stop: install
	$(BIN)/python -c 'from catalog.pgserver import LocalPostgres; LocalPostgres("instance").stop()'

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
