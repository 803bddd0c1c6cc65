# The Makefile only names steps; each step is Python (see tools/__main__.py), so the same
# commands work without make: `python3 -m tools run`, `python3 -m tools test`, `python3 -m tools bench`.
PYTHON ?= python3

.PHONY: run test bench setup lint schema messages

run:
	$(PYTHON) -m tools run

test:
	$(PYTHON) -m tools test

bench:
	$(PYTHON) -m tools bench

setup:
	$(PYTHON) -m tools setup

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy crm/core

schema:
	.venv/bin/python manage.py spectacular --urlconf config.urls --file openapi.yaml --validate

messages:
	.venv/bin/python manage.py makemessages -l zh_Hans --no-location --no-obsolete -i .venv -i node_modules -i bench -i "crm/core/tests/*" -i "tests/*" -i staticfiles
