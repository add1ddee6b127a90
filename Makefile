# kakaclo-refunds task runner. Every target that needs the virtualenv builds
# it first, so `make contract` and `make test` work on a fresh clone with only
# Python 3.11+ and make.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Marks the last generation of generated/ from the spec (untracked).
GEN_STAMP := $(VENV)/.generated-stamp
SPECTRAL_VERSION := 6.16.3
API_DIFF_VERSION := 1.0.6
PRISM_VERSION    := 5.16.0
TOOLS  := .tools

# Contract suite settings: the KAKACLO_* variables of kakaclo contract (make or
# environment variables), e.g. make contract KAKACLO_BASE_URL=... KAKACLO_TOKEN=...
CONTRACT_VARS := KAKACLO_BASE_URL KAKACLO_TOKEN KAKACLO_ALLOW_REFUNDS KAKACLO_REFUND_ORDER_IDS \
	KAKACLO_MAX_REFUNDS KAKACLO_WAIT_SETTLEMENT KAKACLO_PROFILE KAKACLO_MAX_EXAMPLES KAKACLO_RATE \
	KAKACLO_MAX_429_SHARE KAKACLO_TIMEOUT KAKACLO_SEED KAKACLO_PHASES KAKACLO_WORKERS \
	KAKACLO_MAX_ORDERS KAKACLO_MAX_REFUND_PAGES KAKACLO_OTHER_TOKEN KAKACLO_MAX_RETRY_AFTER
export $(CONTRACT_VARS)

.DEFAULT_GOAL := help
.PHONY: help setup generate check-generated lint spec-lint api-diff docs release test wheel-check contract mutation mutation-http peers fuzz serve bench profile bench-tools clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kakaclo-refunds needs Python 3.11 or newer; set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing pinned dependencies into $(VENV) ..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $@

setup: $(STAMP) ## Create .venv with every pinned dependency (fast when nothing changed)

# Regenerate the client when the spec or generator config is newer than the
# last generation. Under CI (CI set) never regenerate: the drift check must
# see exactly what was committed.
$(GEN_STAMP): openapi.yaml openapi-python-client.yaml $(STAMP)
	@if [ -n "$$CI" ]; then $(PY) tools/codegen.py check; else $(PY) tools/codegen.py generate; fi
	@touch $@

generate: $(STAMP) ## Regenerate generated/kakaclo_client from openapi.yaml
	@$(PY) tools/codegen.py generate
	@touch $(GEN_STAMP)

check-generated: $(STAMP) ## Fail with a diff when generated/ is not what openapi.yaml produces
	@$(PY) tools/codegen.py check

$(TOOLS)/node_modules/.bin/spectral:
	@command -v npm >/dev/null || { echo "make lint needs Node.js and npm for Spectral"; exit 1; }
	@npm install --silent --no-audit --no-fund --prefix $(TOOLS) @stoplight/spectral-cli@$(SPECTRAL_VERSION)

spec-lint: $(TOOLS)/node_modules/.bin/spectral ## Lint openapi.yaml with Spectral's recommended OpenAPI rules
	@$(TOOLS)/node_modules/.bin/spectral lint openapi.yaml --ruleset .spectral.yaml --fail-severity=warn

$(TOOLS)/node_modules/api-smart-diff/package.json:
	@command -v npm >/dev/null || { echo "make api-diff needs Node.js and npm for api-smart-diff"; exit 1; }
	@npm install --silent --no-audit --no-fund --prefix $(TOOLS) api-smart-diff@$(API_DIFF_VERSION)

API_DIFF_ARGS ?=
api-diff: $(STAMP) $(TOOLS)/node_modules/api-smart-diff/package.json ## Breaking changes since the last release (api/released/) must be declared in CHANGELOG.md
	@$(PY) tools/api_diff.py $(API_DIFF_ARGS)

release: $(STAMP) $(TOOLS)/node_modules/api-smart-diff/package.json ## Move the baseline: version, api/released/, dated CHANGELOG section
	@$(PY) tools/api_diff.py release
	@$(PY) tools/codegen.py generate

lint: $(STAMP) spec-lint api-diff docs ## ruff, mypy (strict), import-linter (ARCHITECTURE.md), spec validation, Spectral, api-diff, docs site
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy
	@$(VENV)/bin/lint-imports --no-cache
	@$(PY) -m pytest -q -p no:cacheprovider tests/test_spec.py

# The documentation site (docs/, mkdocs.yml) into site/ (git-ignored); --strict turns every
# warning (a broken link or anchor, a page missing from nav, a reference that fails) into an error.
docs: $(STAMP) ## Build the documentation site into site/ with mkdocs --strict (about 2 s)
	@NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# make test checks this project in-process: a URL the user exported for the
# tour or for make contract must not turn it into a run against that server.
# Two pytest-xdist workers, each module whole in one of them (--dist loadfile keeps
# its order and fixtures): the slow tests mostly wait (a paced suite, the README tour's
# contract runs paced at 20 requests per second), so another module runs meanwhile. Tests
# marked `alone` (a model following a server over a network, where the machine's
# load shapes the timing) run after that, by themselves.
# TEST_WORKERS=0 runs everything in this one process.
TEST_WORKERS ?= 2
TEST_RUN := env $(foreach v,$(CONTRACT_VARS),-u $(v)) $(PY) -m pytest -p no:cacheprovider
test: $(GEN_STAMP) ## Run every test: unit, spec, drift check, property tests, the suite and its self-proof
	@mkdir -p reports
ifeq ($(TEST_WORKERS),0)
	@$(TEST_RUN) --junitxml=reports/junit.xml
else
	@$(TEST_RUN) --junitxml=reports/junit.xml -n $(TEST_WORKERS) --dist loadfile -m "not alone"
	@$(TEST_RUN) --junitxml=reports/junit-alone.xml -m alone
endif

# In CI after make test: the wheel and sdist, the wheel in six fresh venvs (base, [cli],
# [sandbox], [contract], [postgres], [all]) outside the checkout, a smoke test in each (~3 min).
wheel-check: $(GEN_STAMP) ## Build wheel + sdist, install each extra in a fresh venv, smoke-test it
	@$(PY) tools/wheel_check.py

# Without a URL the suite spreads over every core (--workers auto; measured by make bench:
# the quick profile 36 s -> 28 s, the thorough one 556 s -> 263 s on 2 cores), unless
# KAKACLO_WORKERS says otherwise; against a URL it runs in one process.
CONTRACT_ARGS ?=
CONTRACT_WORKERS := $(if $(KAKACLO_BASE_URL)$(KAKACLO_WORKERS),,--workers auto)
contract: $(GEN_STAMP) ## The main job: kakaclo contract against the embedded sandbox, or KAKACLO_BASE_URL
	@$(VENV)/bin/kakaclo contract --junit-xml reports/contract-junit.xml $(CONTRACT_WORKERS) $(CONTRACT_ARGS)

# Not in make test: mutants of the refund rules (pyproject's [tool.mutmut]), each against the
# tests of the contract suite that reach it; bounded by MUTATION_MAX_SECONDS.
MUTATION_MAX_SECONDS ?= 3600
mutation: $(GEN_STAMP) ## Mutation score of the contract suite over the refund rules (mutmut; up to an hour)
	@env $(foreach v,$(CONTRACT_VARS),-u $(v)) KAKACLO_PROFILE=mutation \
		$(PY) tools/mutation.py --max-seconds $(MUTATION_MAX_SECONDS)

# Not in make test (its smoke is): the read-only suite once per HTTP mutant (contract_tests/mutants.py)
# through a mutating proxy in front of a sandbox with history; writes reports/mutation-http.json.
MUTATION_HTTP_ARGS ?=
mutation-http: $(GEN_STAMP) ## HTTP mutation score of the read-only contract suite (~7 min; MUTATION_HTTP_ARGS="--only NAME")
	@env $(foreach v,$(CONTRACT_VARS),-u $(v)) $(PY) -m tools.mutation_http $(MUTATION_HTTP_ARGS)

# In CI: openapi.yaml in the tools integrators use (peers/), each tool a pinned package
# installed into .tools/ on first use (npm, pip; Java 17 for the jars). PEERS_ARGS go to pytest.
PEERS_ARGS ?=
peers: $(GEN_STAMP) ## openapi-generator, Specmatic, Prism, Redocly, datamodel-codegen, TypeScript on the spec (~1 min warm)
	@$(PY) tools/peers.py $(PEERS_ARGS)

FUZZ_ARGS ?=
fuzz: $(GEN_STAMP) ## schemathesis CLI (every phase and check, 500 examples per operation, vs a started sandbox), then tests/fuzz's properties x20 (<= 15 min)
	@$(PY) tools/fuzz.py $(FUZZ_ARGS)

SANDBOX_ARGS ?=
serve: $(GEN_STAMP) ## Run the sandbox on http://127.0.0.1:8080 (SANDBOX_ARGS="--settle-after 2 ...")
	@$(VENV)/bin/kakaclo-sandbox $(SANDBOX_ARGS)

$(TOOLS)/node_modules/.bin/prism:
	@command -v npm >/dev/null || { echo "make bench needs Node.js and npm for Prism"; exit 1; }
	@echo "installing Stoplight Prism $(PRISM_VERSION) into $(TOOLS) ..."
	@npm install --silent --no-audit --no-fund --prefix $(TOOLS) @stoplight/prism-cli@$(PRISM_VERSION)

bench-tools: $(TOOLS)/node_modules/.bin/prism
	@command -v wrk >/dev/null || { echo "installing wrk with apt-get ..."; \
		{ apt-get install -y -q wrk >/dev/null 2>&1 \
		  || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1; } \
		  || sudo apt-get install -y -q wrk >/dev/null; } \
		|| { echo "could not install wrk: install it (apt-get install wrk) and run make bench again"; exit 1; }; }

bench: $(GEN_STAMP) bench-tools ## Load (SQLite and PostgreSQL), data-scale, client, contract-suite and proxy figures vs Prism, the floor and direct (~15 min)
	@$(PY) -m bench.run $(BENCH_ARGS)

PROFILE_ARGS ?=
profile: $(GEN_STAMP) bench-tools ## py-spy's top frames of the sandbox under wrk load (PROFILE_ARGS="--operation query_refund")
	@$(PY) -m bench.profile $(PROFILE_ARGS)

clean: ## Remove the virtualenv, tools and caches
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache reports site
