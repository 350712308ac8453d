# The two commands a newcomer needs: `make run` and `make test`. Python >= 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1:8000

.PHONY: run test lint format audit bench install install-dev migrate demo clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(MANAGE) migrate --noinput

# The 2020 data, a made-up 2019 table two of whose problems 2020 found again (a second year,
# for the repeat check) and the demo accounts; every step is idempotent.
demo: migrate
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) import_evaluations fixtures/liwan_2020.yaml
	$(MANAGE) import_evaluations fixtures/liwan_2019_demo.yaml
	$(MANAGE) seed_demo

# The web server with a Celery worker and beat (the reminder sweep) beside it, on the embedded
# default: broker queue under var/celery, e-mail written to var/mail, worker and beat logs in
# var/log. Ctrl-C stops all three. The links in reminder e-mails point at the address served
# (HOST), unless LIWAN_SITE_BASE_URL is set already.
run: demo
	@mkdir -p var/log var/celery
	@echo "Celery worker + beat started (logs: var/log/celery-*.log); reminder e-mail goes to var/mail/"
	@export LIWAN_SITE_BASE_URL="$${LIWAN_SITE_BASE_URL:-http://$(HOST)}"; \
	$(VENV)/bin/celery -A liwan worker --pool=solo --without-mingle --without-gossip \
		--loglevel=INFO --logfile=var/log/celery-worker.log & worker=$$!; \
	$(VENV)/bin/celery -A liwan beat --schedule=var/celery/beat-schedule \
		--loglevel=INFO --logfile=var/log/celery-beat.log & beat=$$!; \
	trap 'kill $$worker $$beat 2>/dev/null; wait $$worker $$beat 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) runserver $(HOST)

test: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Security checks of the dependencies and the code (SECURITY.md): pip-audit over the pinned
# set (it needs a vulnerability database from the internet and says plainly when it cannot
# reach one), then bandit over our own code.
audit: install-dev
	$(PY) scripts/audit_dependencies.py
	$(VENV)/bin/bandit -q -c pyproject.toml -r .

# The scale benchmarks (BENCHMARKS.md), outside the test suite: PostgreSQL on 127.0.0.1 (user
# postgres) and wrk. Seeds liwan_bench_200000 once (about 4 minutes), then measures pages,
# reminders, exports, import, a gunicorn load run and racing workers (about 20 minutes).
# BENCH_ARGS="--quick" for a short run, "--items 1000000 --units 2000" for the national scale.
bench: install-dev
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(PY) -m benchmarks.run $(BENCH_ARGS)

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var staticfiles
