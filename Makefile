# Set-up and the main jobs. Every target installs what it needs first, so a fresh Debian machine with
# Python 3.11 needs only `make demo` or `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := chromium poppler-utils fonts-noto-color-emoji

.PHONY: install system demo test test-long bench lint clean

# Debian packages: chromium for browser-mode crawls and screenshots, poppler-utils for checking PDF reports,
# fonts-noto-color-emoji so that emoji in scraped titles show in evidence screenshots instead of empty boxes.
system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel setuptools
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

install: system $(STAMP)

demo: install
	$(BIN)/narcowatch demo

test: install
	$(BIN)/python -m pytest -q -m "not slow"

test-long: install
	$(BIN)/python -m pytest -q -m slow

bench: install
	$(BIN)/python -m bench.run

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) narcowatch-data .pytest_cache .ruff_cache
