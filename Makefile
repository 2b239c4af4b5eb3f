# Two commands do everything on a fresh machine with Python 3.11+:
#   make run   - virtualenv, install, migrate, demo data (if the database is empty), then the web
#                server on :8000, a Celery worker and beat (manage.py serve; Ctrl-C stops all three)
#   make test  - lint, migrations check, the suite on SQLite, and at the same time on
#                PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set (CI sets them)
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The SQLite leg must not inherit a PostgreSQL/Redis environment.
EMBEDDED := env -u DATABASE_URL -u REDIS_URL
# Processes per leg of `make test` with DATABASE_URL set (TEST_PROCESSES=0: one, no xdist).
XDIST := -n $(or $(TEST_PROCESSES),2) --dist loadfile
# Settings are production's unless ABM_DEV=1 (abm/settings.py): these targets are for a developer's
# machine, so they ask for development mode (debug pages, the public development key).
run lint worker beat seed: export ABM_DEV = 1

.PHONY: install run test lint worker beat seed bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty --accounts $${ACCOUNTS:-300}
	@echo ""
	@echo "Keystone ABM at http://127.0.0.1:$(PORT)  (demo logins, password demo1234):"
	@echo "  marketer  director  rep1 rep2 rep3 rep4 (sales reps)  admin"
	@echo "Web server, worker and beat run until Ctrl-C."
	@echo ""
	$(BIN)/python manage.py serve 127.0.0.1:$(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(EMBEDDED) $(BIN)/python manage.py makemigrations --check --dry-run

# With DATABASE_URL set (CI) the two legs run side by side, each in two pytest-xdist processes (a
# test file each at a time, so module fixtures stay shared; each process its own test database,
# broker and folders, tests/dev_mode.py): both cores stay busy to the end, whichever leg ends
# first (Dec 6, one process per leg: PostgreSQL 37 min, SQLite 21). The PostgreSQL + Redis leg
# prints as it goes; the SQLite leg's output follows from var/test-sqlite.log. Either leg failing
# fails the target.
test: lint
	@if [ -z "$$DATABASE_URL" ]; then \
		$(EMBEDDED) $(BIN)/pytest; \
	else \
		mkdir -p var; \
		echo "== SQLite (var/test-sqlite.log) and $$DATABASE_URL with broker $${REDIS_URL:-none}, side by side =="; \
		$(EMBEDDED) $(BIN)/pytest $(XDIST) > var/test-sqlite.log 2>&1 & lite=$$!; \
		$(BIN)/pytest $(XDIST); pg=$$?; \
		wait $$lite; sqlite=$$?; \
		echo "== the SQLite leg's output =="; cat var/test-sqlite.log; \
		echo "== SQLite leg: exit $$sqlite; PostgreSQL + Redis leg: exit $$pg =="; \
		[ $$sqlite -eq 0 ] && [ $$pg -eq 0 ]; \
	fi

# One process each, for the full stack (REDIS_URL set); `make run` starts both itself.
# Concurrency comes from settings: 1 on SQLite, 2 on PostgreSQL.
worker: $(STAMP)
	$(BIN)/celery -A abm worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A abm beat --loglevel=INFO

seed: $(STAMP)
	$(BIN)/python manage.py seed_demo --flush --accounts $${ACCOUNTS:-10000}

clean:
	rm -rf $(VENV) var
