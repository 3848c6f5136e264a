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

.PHONY: run test lint services clean css bench-education bench-slots bench-reminders bench-lighthouse

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "pip==26.3"

$(VENV)/.runtime-installed: requirements.txt build-constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

# The stylesheet: Bootstrap's Sass sources with our tokens (static/scss), compiled by npm's sass
# (pinned in package-lock.json). `npm ci` runs only when the lock changes, sass only when a .scss does.
CSS := static/build/site.min.css
SCSS := $(wildcard static/scss/*.scss)
FONTS := static/fonts/source-serif-4-latin-600-normal.woff2
NODE_DEPS := node_modules/.package-lock.json

$(NODE_DEPS): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "npm is missing: installing Debian's nodejs and npm (the stylesheet is built with sass from npm)"; \
	    apt-get update -qq && apt-get install -y -qq nodejs npm; \
	  else \
	    echo "npm is missing: install Node.js and npm (Debian: apt-get install nodejs npm) to build the stylesheet"; exit 1; \
	  fi; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# The font ships in static/fonts (committed, with its licence); an upgrade of the npm package lands here.
$(FONTS): $(NODE_DEPS)
	cp node_modules/@fontsource/source-serif-4/files/$(@F) $@
	cp node_modules/@fontsource/source-serif-4/LICENSE static/fonts/OFL-source-serif-4.txt

$(CSS): $(SCSS) $(NODE_DEPS) | $(FONTS)
	mkdir -p $(@D)
	npx --no-install sass --no-source-map --style=compressed --quiet-deps --silence-deprecation=import \
	  --load-path=node_modules static/scss/site.scss $@

## make css: build static/build/site.min.css (make run and make test do it first).
css: $(CSS)

## make run: migrate, load demo data and serve on http://127.0.0.1:$(PORT) with a Celery
## worker and beat sending reminders (embedded broker without REDIS_URL). Ctrl-C stops all.
# Links in e-mails, canonical tags and robots.txt follow PORT unless SITE_URL says otherwise (the
# worker, which writes the e-mails, does not see the web process's PORT: honcho gives each its own).
run: export SITE_URL := $(or $(SITE_URL),http://127.0.0.1:$(PORT))
run: $(VENV)/.runtime-installed $(CSS)
	mkdir -p "$${VAR_DIR:-var}"
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho start --procfile Procfile.dev --port $(PORT)

## make test: lint, types, migrations check, the whole suite on PostgreSQL + Redis (browser tests
## included), then the booking, slot and reminder tests on SQLite.
test: $(VENV)/.dev-installed services $(CSS)
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

## make bench-lighthouse: Lighthouse (mobile) on five patient pages with Debian Chromium (figures in bench/README.md).
bench-lighthouse: $(VENV)/.runtime-installed $(CSS)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python bench/lighthouse.py

clean:
	rm -rf $(VENV) staticfiles var db.sqlite3* static/build node_modules
