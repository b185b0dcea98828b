# Paper reviews with tested code. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQS := requirements/docs.txt requirements/test.txt requirements/constraints.txt pyproject.toml
export NO_MKDOCS_2_WARNING := 1
# Python's bytecode caches (git-ignored __pycache__/) are written even where the environment says not to: every
# warm run would otherwise compile the project's modules again and pytest would rewrite the assertions of every
# test module, about 1 s of CPU in each test process and in each site build.
unexport PYTHONDONTWRITEBYTECODE
# The tests use tiny tensors: one thread is faster than two and keeps timings steady on shared machines.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: help venv serve serve-full build lint test test-review check new-review figures bench bench-build lighthouse lock clean

help: ## List every target with what it does
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

# The virtual environment is rebuilt only when a requirements file or pyproject.toml changes.
$(STAMP): $(REQS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements/test.txt -c requirements/constraints.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv from the pinned dependencies (done by every target that needs it)

serve: $(STAMP) ## Serve the site on http://127.0.0.1:8000; a saved page is rebuilt alone (dirty reload)
	$(VENV)/bin/mkdocs serve --dirty --dev-addr 127.0.0.1:8000

serve-full: $(STAMP) ## Serve the site, rebuilding every page after each change (navigation always exact)
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

build: $(STAMP) ## Build the static site into site/ (strict: any warning fails)
	$(VENV)/bin/mkdocs build --strict --site-dir site

# make test runs on every core (pytest-xdist workers); JOBS=1 uses one worker, JOBS=0 runs in this process alone.
JOBS ?= auto
REVIEWS := $(sort $(filter-out index,$(basename $(notdir $(wildcard docs/reviews/*.md)))))

lint: $(STAMP) ## ruff check and ruff format --check over the whole tree (line length 120; make test runs it first)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(STAMP) lint ## Run everything on every core: snippet, tooling and browser tests, every docs code block, the strict build
	$(PY) -m pytest -n $(JOBS) --dist loadgroup tests --codeblocks docs README.md CONTRIBUTING.md

test-review: $(STAMP) ## One review's loop: content check, its snippet tests and code blocks, its page built alone and checked in Chromium (SLUG=fm)
	@if [[ ! "$(SLUG)" =~ ^[a-z][a-z0-9_]*$$ ]] || [[ ! -f "docs/reviews/$(SLUG).md" ]]; then \
	  echo "make test-review: no review '$(SLUG)' (docs/reviews/$(SLUG).md); give SLUG=<slug>, one of: $(REVIEWS)" >&2; \
	  exit 2; fi
	$(PY) -m kbsite.checker
	KB_ONLY_REVIEWS=$(SLUG) KB_SCREENSHOTS=1 $(PY) -m pytest -p no:xdist tests/snippets/test_$(SLUG).py --codeblocks docs/reviews/$(SLUG).md \
	  "tests/browser/test_browser_search.py::test_review_names_key_terms_of_its_own_text[$(SLUG)]" \
	  "tests/browser/test_browser_reviews.py::test_review_page[$(SLUG)]"

check: $(STAMP) ## Check the content (front matter, bib, citations, fences, links...) in seconds, with file:line
	$(PY) -m kbsite.checker

new-review: $(STAMP) ## Scaffold a review: make new-review SLUG=bert KEY=devlin2019bert (never overwrites)
	$(PY) -m kbsite.scaffold "$(SLUG)" "$(KEY)"

figures: $(STAMP) ## Regenerate the reviews' figures and MIDI files from scripts/ (deterministic)
	@set -e; for script in scripts/*_figures.py; do echo "$(PY) $$script"; $(PY) $$script; done

bench: $(STAMP) ## Time the snippets against peer libraries and the site build; rewrite docs/benchmarks.md (minutes; not in make test)
	$(PY) -m bench

bench-build: $(STAMP) ## Time the site build only, at 100/300/1000 synthetic reviews, and update docs/benchmarks.md
	$(PY) -m bench --only site_build

lighthouse: $(STAMP) ## Lighthouse 12 (mobile) on every review, built strictly and served with gzip; table to docs/benchmarks.md (minutes; needs Node/npm; not in make test)
	$(PY) -m bench.lighthouse

lock: $(STAMP) ## Re-pin every installed package into requirements/constraints.txt
	$(PY) -m pip freeze --exclude-editable | sed -E 's/^torch==([0-9.]+)\+cpu$$/torch==\1/' > requirements/constraints.txt

clean: ## Remove build outputs (keeps .venv)
	rm -rf site build screenshots .pytest_cache .hypothesis .cache
