# One-command set-up: `make run` serves the API and web page on the Almaty data,
# `make test` runs the test suite. Both create the virtualenv and link the data first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= $(abspath ../shared/data)
HOST ?= 127.0.0.1
PORT ?= 8080
STAMP := $(VENV)/.installed

.PHONY: all venv data web browser postgres nginx run test lint bench bench-valhalla gtfs clean

all: test

# The compiled search kernels (routing/**/*.pyx, Cython) are built by this install too.
$(STAMP): setup.cfg setup.py pyproject.toml $(wildcard routing/*.pyx routing/*/*.pyx)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The web page's map library (Leaflet) and the browser tests' checker (axe-core), from npm
# at the versions in package-lock.json, copied into the static folder: never a CDN.
VENDOR := server/static/vendor
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/images
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR)/images/
	cp node_modules/axe-core/axe.min.js $(VENDOR)/
	touch $@

web: $(VENDOR)/.installed

# Debian's Chromium for the browser tests (Playwright drives it; no browser is downloaded).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

# Debian's nginx for the test of the production front (deploy/nginx.conf, slow clients).
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }

# Link (never copy into git) the real data from ../shared/data; say clearly if it is absent.
data:
	@if [ ! -d "$(SHARED)/almaty" ]; then \
		echo "data: $(SHARED) not found. Lay ../shared/data beside the repository," \
		     "or run with SHARED=/path/to/data, or pass --osm/--dem to the CLI." >&2; exit 1; fi
	@mkdir -p data/osm/dem data/cache
	@ln -sfn "$(SHARED)/almaty/osm/almaty-2012.osm.pbf" data/osm/almaty-2012.osm.pbf
	@for f in "$(SHARED)"/almaty/dem/*.hgt.zip; do ln -sfn "$$f" data/osm/dem/; done
	@ln -sfn "$(SHARED)/helsinki/helsinki-center.osm.pbf" data/osm/helsinki-center.osm.pbf
	@ln -sfn "$(SHARED)/almaty" data/osm/almaty
	@echo "data: linked $(SHARED) into data/osm/"

# The dispatch storage tests start a throwaway PostgreSQL server: install Debian's package
# when its binaries are missing (as root, e.g. in CI); otherwise say what is needed.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql \
		|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; }; \
	else echo "postgres: install the postgresql package (sudo apt-get install postgresql)" >&2; fi

run: venv data web
	$(BIN)/inclusive-routing serve --host $(HOST) --port $(PORT)

test: venv data web browser postgres nginx
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider --benchmark-disable --timeout=900

lint: venv
	$(BIN)/python -m ruff check .

# Benchmark peers (Valhalla), installed for `make bench` only: the `bench` extra.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

bench: venv data $(BENCH_STAMP)
	mkdir -p .benchmarks
	$(BIN)/python -m pytest benchmarks -q -p no:cacheprovider --benchmark-only \
		--benchmark-json=.benchmarks/latest.json \
		--benchmark-columns=min,median,mean,max,rounds --benchmark-sort=name
	$(BIN)/python benchmarks/ratios.py .benchmarks/latest.json

# Valhalla beside us only (benchmarks/test_valhalla_peer.py), with the ratios.
bench-valhalla: venv data $(BENCH_STAMP)
	mkdir -p .benchmarks
	$(BIN)/python -m pytest benchmarks/test_valhalla_peer.py -q -p no:cacheprovider \
		--benchmark-only --benchmark-json=.benchmarks/valhalla.json --benchmark-sort=name
	$(BIN)/python benchmarks/ratios.py .benchmarks/valhalla.json

gtfs: venv data
	$(BIN)/inclusive-routing gtfs build --out data/gtfs/almaty-gtfs.zip

clean:
	rm -rf $(VENV) data/cache *.egg-info
