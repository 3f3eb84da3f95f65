# cspbook: one command to set up, one to build the book, one to test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BOROUGH ?= Barking and Dagenham
YEAR ?= 2011-12

.PHONY: setup browser book pdf test test-fast test-browser bench clean

setup: $(BIN)/cspbook browser  ## create .venv, install pinned dependencies and cspbook, and Chromium for browser tests

$(BIN)/cspbook: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

browser:  ## Debian's chromium (browser tests) and poppler-utils (PDF checks); skipped when present
	@command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium poppler-utils >/dev/null; }

book:  ## build the HTML book into _build/html (set CSPBOOK_MIRROR=DIR to use a local copy of the data)
	$(BIN)/cspbook build --borough "$(BOROUGH)" --year $(YEAR)

pdf:  ## the whole book and the Cabinet cover paper as PDFs in _build/pdf (needs chromium: make browser)
	$(BIN)/cspbook pdf --borough "$(BOROUGH)" --year $(YEAR)

test:  ## the whole suite: library, book builds, browser
	$(BIN)/python -m pytest -n 2

test-fast:  ## library tests only (no book build, no browser): seconds
	$(BIN)/python -m pytest -n 2 -m "not slow and not browser"

test-browser:  ## the browser suite only
	$(BIN)/python -m pytest -m browser

bench:  ## speed benchmarks: the library alone, then a quick side-by-side build comparison
	$(BIN)/python benchmarks/indicators.py
	$(BIN)/python benchmarks/build_speed.py --quick

clean:
	rm -rf _build .cspbook book/[0-9][0-9][0-9][0-9]-[0-9][0-9] data/raw
