# The two commands of the README: `make run` and `make test`. Everything they need is
# installed from here (nothing by hand), into .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PIP_INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check --build-constraint build-constraints.txt

# Tests always use the machine's PostgreSQL and Redis (see tests/settings.py for the defaults).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/telemed
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# The embedded default runs the booking, slot and reminder tests too (the subset: tests/conftest.py).
TEST_SQLITE_URL ?= sqlite:///$(CURDIR)/var/test.sqlite3

.PHONY: run test lint services clean bench-education bench-slots bench-reminders

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "pip==26.3"

$(VENV)/.runtime-installed: requirements.txt build-constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

## make run: migrate, load demo data and serve on http://127.0.0.1:$(PORT) with a Celery
## worker and beat sending reminders (embedded broker without REDIS_URL). Ctrl-C stops all.
# Links in e-mails, canonical tags and robots.txt follow PORT unless SITE_URL says otherwise (the
# worker, which writes the e-mails, does not see the web process's PORT: honcho gives each its own).
run: export SITE_URL := $(or $(SITE_URL),http://127.0.0.1:$(PORT))
run: $(VENV)/.runtime-installed
	mkdir -p "$${VAR_DIR:-var}"
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho start --procfile Procfile.dev --port $(PORT)

## make test: lint, types, migrations check, the whole suite on PostgreSQL + Redis (browser tests
## included), then the booking, slot and reminder tests on SQLite.
test: $(VENV)/.dev-installed services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest
	DATABASE_URL=$(TEST_SQLITE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest

services:
	@scripts/ensure-test-services

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make bench-education: article page vs a bare view under gunicorn (figures in bench/README.md).
bench-education: $(VENV)/.dev-installed services
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cd bench && ../$(BIN)/python education_pages.py

## make bench-slots: /api/slots on 10 clinicians x 60 days with 5,000 bookings (figures in bench/README.md).
bench-slots: $(VENV)/.dev-installed services
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cd bench && ../$(BIN)/python slots_api.py

## make bench-reminders: 10,000 due reminders through a real worker, Redis and SMTP (figures in bench/README.md).
bench-reminders: $(VENV)/.dev-installed services
	cd bench && ../$(BIN)/python reminders_burst.py

clean:
	rm -rf $(VENV) staticfiles var db.sqlite3*
