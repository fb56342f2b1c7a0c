# The two commands: `make demo` runs the whole system, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install browser lint clean

$(BIN)/gridwatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/gridwatch

demo: install
	$(BIN)/gridwatch up

# Browser tests drive Debian's Chromium; Chinese labels need a CJK font to render.
BROWSER_PACKAGES := chromium chromium-driver fonts-noto-cjk
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null \
		&& fc-list 2>/dev/null | grep -qi "noto.*cjk"; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing $(BROWSER_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	else \
		echo "$(BROWSER_PACKAGES): missing and cannot be installed here; browser tests will skip"; \
	fi

lint: install
	$(BIN)/ruff check .

test: install browser lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .gridwatch .pytest_cache
