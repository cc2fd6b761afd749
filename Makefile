# The README's two commands: `make demo` and `make test`. Everything else here is a helper they call.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
ASSETS := jiketong/static/vendor/.copied
HOST ?= 127.0.0.1:8000
GROUPS ?= 300
PYTEST_ARGS ?= -n 2

FEDERATION_GROUPS ?= 60

.PHONY: demo demo-federation test test-sqlite test-postgres install assets lint bench clean

demo: install assets
	$(PY) -m jiketong migrate --noinput
	$(PY) -m jiketong demo --groups $(GROUPS) --if-empty --host $(HOST)
	@echo "Serving on http://$(HOST)/  (Ctrl-C to stop)"
	@# The task worker runs background jobs (billing imports) beside the web server, starts again 2 s after it exits, and stops with it.
	(trap 'kill $$child 2>/dev/null; exit 0' TERM; while true; do $(PY) -m jiketong worker --no-reload & child=$$!; wait $$child; sleep 2; done) & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; trap 'exit 130' INT TERM HUP; \
	$(PY) -m jiketong runserver $(HOST)

# HQ on 127.0.0.1:8100, 广东 on 8101, 浙江 on 8102, each with its own SQLite under var/federation/ (docs/federation.md).
demo-federation: install assets
	$(PY) -m jiketong federation demo --groups $(FEDERATION_GROUPS)

test: install assets lint test-sqlite test-postgres

test-sqlite: install assets
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: install assets
	scripts/with-postgres $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(PY) -m jiketong makemigrations --check --dry-run

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

assets: $(ASSETS)

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p jiketong/static/vendor/bootstrap-icons
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js jiketong/static/vendor/
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js jiketong/static/vendor/
	cp -r node_modules/bootstrap-icons/font/bootstrap-icons.min.css node_modules/bootstrap-icons/font/fonts jiketong/static/vendor/bootstrap-icons/
	touch $@

bench: install
	$(PY) benchmarks/run.py

clean:
	rm -rf var jiketong/static/vendor node_modules
