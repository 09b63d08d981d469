# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format messages install bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

# The server needs SITE_URL too: printed extracts carry their verification link.
RUN_ENV = DJANGO_DEBUG=$${DJANGO_DEBUG:-1} SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)}

run: $(STAMP)
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@# The worker runs beside the server and stops with it (after its current
	@# job). No access log: it would record each vote cast with its time and
	@# the member's address.
	$(RUN_ENV) $(BIN)/python manage.py run_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(RUN_ENV) $(BIN)/daphne --access-log /dev/null -b $(HOST) -p $(PORT) council.asgi:application

test: $(STAMP)
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret-key} $(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate and compile the fr/nl/de/en catalogues (needs GNU gettext).
# council/ and the project templates/ go to council/locale (LOCALE_PATHS);
# each other app keeps its own catalogue in <app>/locale.
LANGS := -l fr -l nl -l de -l en
messages: $(STAMP)
	DJANGO_SECRET_KEY=messages $(BIN)/python manage.py makemessages --no-obsolete $(LANGS) \
		--ignore=.venv --ignore=meetings --ignore=voting --ignore=minutes \
		--ignore=tests --ignore=bench --ignore=static --ignore=staticfiles
	for app in meetings voting minutes; do \
		mkdir -p $$app/locale; \
		(cd $$app && env -u DJANGO_SETTINGS_MODULE ../$(BIN)/django-admin makemessages \
			--no-obsolete $(LANGS)) || exit 1; \
	done
	DJANGO_SECRET_KEY=messages $(BIN)/python manage.py compilemessages --ignore=.venv

bench: $(STAMP)
	@echo "See bench/README.md for each benchmark's command."

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 media
