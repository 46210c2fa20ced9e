# Scipix: the two commands of the README's Quick start are `make run` and `make test`.
# Everything is installed into ./.venv; nothing is installed by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.scipix-installed
APT_PACKAGES := texlive-latex-base texlive-latex-recommended texlive-fonts-recommended dvipng

.PHONY: run test check venv sysdeps browserdeps js clean

# Create the virtual environment and install the package with its dev extras. Reinstalls only
# when pyproject.toml changes (the stamp file records the last install).
venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# OCR the bundled example image and print its LaTeX.
run: venv
	$(BIN)/scipix ocr examples/quadratic.png

# TeX (latex + dvipng) renders formulas for the tests; installed with apt only when missing,
# and only when running as root.
sysdeps:
	@if command -v latex >/dev/null 2>&1 && command -v dvipng >/dev/null 2>&1; then \
		echo "sysdeps: latex and dvipng found"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(APT_PACKAGES); \
	else \
		echo "sysdeps: latex/dvipng missing and not root: install $(APT_PACKAGES) (TeX tests are skipped)" >&2; \
	fi

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
browserdeps:
	@if [ -x /usr/bin/chromium ]; then \
		echo "browserdeps: /usr/bin/chromium found"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "browserdeps: /usr/bin/chromium missing and not root: install chromium (browser tests are skipped)" >&2; \
	fi

# The JS client (clients/js -> dist/) and the browser app (-> src/scipix/static/, committed).
JS := clients/js
js:
	cd $(JS) && npm ci --no-audit --no-fund && npm run build && npm run build:app
	cd benchmarks/web && npm ci --no-audit --no-fund  # KaTeX/MathJax renderers (scipix.render.web)

test: sysdeps browserdeps venv js
	$(BIN)/python -m pytest -q
	cd $(JS) && PYTHON=$(CURDIR)/$(BIN)/python npm test

check: venv
	scripts/check

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache $(JS)/dist test-output
