# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
WORKERS ?= 2
export FLASK_APP := kiosk

.PHONY: install translations db run test bench clean

# Re-install only when the dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

# Fuzzy Tibetan entries are compiled in on purpose: an unreviewed Tibetan
# sentence serves a Tibetan reader better than an English fallback.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d kiosk/translations

# Extract the strings from the source into messages.pot and merge it into each catalogue:
# new strings arrive empty, removed ones become obsolete (#~). Nothing is compiled; translate
# (see kiosk/translations/README.md), then `make translations`.
.PHONY: translations-update
translations-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o kiosk/translations/messages.pot --no-location --sort-output --project="Hall Kiosk" .
	$(BIN)/pybabel update -i kiosk/translations/messages.pot -d kiosk/translations --no-fuzzy-matching

# Migrate the database under instance/ (backed up first to instance/backups/ when there is
# something to migrate), create the admin account, load demo data once.
db: install
	$(BIN)/flask db-upgrade-safely
	$(BIN)/flask setup --demo-if-empty

run: db
	$(BIN)/gunicorn --workers $(WORKERS) --bind 0.0.0.0:$(PORT) --access-logfile - kiosk.wsgi:app

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# Ten years of a busy hall under load (issue 9): see bench/README.md. BENCH_ARGS="--only small --seconds 3";
# KIOSK_BENCH_POSTGRES_URL=postgresql+psycopg://... also measures PostgreSQL (its tables are replaced).
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
