# Entry points for delivery engineers (make lab) and CI (make test). Every target sets up what it
# needs through scripts/bootstrap.sh, so a fresh Debian 12 machine needs nothing else.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export CONTAINERS_CONF := $(CURDIR)/lab/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_FORCE_COLOR := 0
export MINIAPP_BUNDLE_DIR := $(CURDIR)/.cache/bundle
# Fingerprint of this install's bundle signing key, written by tools/bundle.py build; read when used.
export MINIAPP_BUNDLE_SIGNER = $(shell cat .cache/bundle-signing/signer.sha256 2>/dev/null)
# Engineers with a Docker engine may set MOLECULE_DRIVER=docker; only podman is exercised here.
export MOLECULE_DRIVER ?= podman

NODE_IMAGE = $(shell lab/images/build.sh node --tag-only)
# Artifacts the lab builds here: etcd and the database hosts' apt repository from Debian packages (lab: sources), the
# services image (build:).
LAB_ARTIFACTS := etcd@3.4.23 miniapp-services@0.1.0 miniapp-redis@7.0 postgresql-apt@15
SCENARIOS = $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard extensions/molecule/*/molecule.yml))))

.PHONY: help bootstrap image services-image bundle lab-bundle lab load tenant-add tenant-remove lab-down lint protos dashboards syntax unit collection-test image-test mesh mesh-test site-check mesh-down molecule test bench bench-services bench-mesh bench-cpu bench-load bench-test bench-profile bench-converge bench-failover

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

bootstrap: ## Install Debian packages and the Python environment (idempotent)
	@scripts/bootstrap.sh

image: bootstrap ## Build the lab node image if its recipe changed
	@lab/images/build.sh node

lab-bundle: bootstrap ## Build the lab's signed bundle from Debian packages, verified against the table
	@python3 tools/bundle.py build $(MINIAPP_BUNDLE_DIR) $(LAB_ARTIFACTS)

BUNDLE_OUT ?= $(CURDIR)/bundle

bundle: bootstrap ## Build the full offline bundle (every locked artifact), its tarball, and verify it
	python3 tools/bundle.py build $(BUNDLE_OUT) --tarball $(BUNDLE_OUT).tar.gz
	@# Read when this line runs: make expands a recipe before its first line, when a fresh clone has no key yet.
	python3 tools/bundle.py verify $(BUNDLE_OUT) --signer "$$(cat .cache/bundle-signing/signer.sha256)"

lab: image lab-bundle ## Create the lab hosts, run site.yml on them, then a short peak-day smoke with the handover gates
	@start=$$(date +%s.%N); ansible-playbook lab/playbooks/hosts.yml; scripts/record-time.sh "lab hosts" "$$start"
	@start=$$(date +%s.%N); ansible-playbook site.yml; scripts/record-time.sh "lab site.yml" "$$start"
	@start=$$(date +%s.%N); ansible-playbook lab/playbooks/mesh.yml; scripts/record-time.sh "lab mesh" "$$start"
	python3 -m load.handover --smoke --out .cache/load/smoke

load: bootstrap ## The full peak-day replay on the running lab: handover gates, report in .cache/load/report.html
	python3 -m load.handover --out .cache/load

tenant-add: bootstrap ## In the lab: serve the tenants added to services_tenants (TENANT=<appid> checks it is listed), then update the pods
	ansible-playbook playbooks/tenant_add.yml $(if $(TENANT),-e tenant=$(TENANT))
	ansible-playbook lab/playbooks/mesh.yml

tenant-remove: bootstrap ## In the lab: stop serving TENANT (taken out of services_tenants), KEEP=archive|export its rows, then update the pods
	ansible-playbook playbooks/tenant_remove.yml -e tenant=$(TENANT) -e keep=$(KEEP)
	ansible-playbook lab/playbooks/mesh.yml

lab-down: bootstrap ## Remove the lab hosts and the lab mesh
	python3 -m lab.mesh.up --down
	ansible-playbook lab/playbooks/hosts.yml -e lab_hosts_state=absent

lint: bootstrap ## yamllint, ansible-lint (production profile), ruff, mypy (strict), the services' import contracts (made from the service list)
	yamllint --strict .
	ansible-lint --offline
	ruff check .
	ruff format --check .
	mypy -p lab -p load -p tools -p benchmarks -p miniapp_services -p ansible_collections.miniapp.mesh.plugins.module_utils
	python3 -m tools.import_contracts .cache/importlinter.ini
	lint-imports --config .cache/importlinter.ini

protos: bootstrap ## Regenerate the services' gRPC stubs from services/proto
	python3 services/gen_protos.py

dashboards: bootstrap ## Regenerate the Grafana dashboards (tools/dashboards) and the journeys' SLO rules (committed)
	python3 -m tools.dashboards
	python3 tools/slo_rules.py

syntax: bootstrap ## Syntax-check site.yml against both inventories
	ansible-playbook --syntax-check -i inventories/lab/hosts.yml site.yml
	ansible-playbook --syntax-check -i inventories/production-sample/hosts.yml site.yml

unit: bootstrap ## pytest unit tests
	pytest

molecule: image lab-bundle ## Every molecule scenario under extensions/molecule
	@for s in $(SCENARIOS); do \
	  echo "=== molecule test -s $$s"; at=$$(date +%s.%N); \
	  MINIAPP_NODE_IMAGE=$(NODE_IMAGE) molecule test -s $$s --driver-name $(MOLECULE_DRIVER) || exit 1; \
	  scripts/record-time.sh "molecule $$s" "$$at"; \
	done

collection-test: image lab-bundle ## Build the collection tarball, install it elsewhere, syntax-check site.yml and converge a scenario with it
	MINIAPP_NODE_IMAGE=$(NODE_IMAGE) tests/collection/tarball.sh

image-test: services-image ## Run the services image as a pod would (migrate, serve under its budget, stop); install the PostgreSQL apt repository on a node with no network
	pytest -p no:cacheprovider tests/image

mesh: services-image ## Render the services and run them as pods with Envoy sidecars, and Prometheus beside them
	ansible-playbook playbooks/services.yml playbooks/observability.yml lab/playbooks/mesh.yml

mesh-test: lab ## End-to-end proofs on the lab: mTLS, authorization, split, canary, ejection, overflow, every dashboard and rule
	pytest -p no:cacheprovider tests/mesh

site-check: image ## ansible-playbook --check site.yml: inventories/production-sample on systemd lab hosts, reading make bundle's bundle/
	pytest -p no:cacheprovider tests/site

mesh-down: bootstrap ## Remove the lab mesh
	python3 -m lab.mesh.up --down

TEST_STAGES := lint syntax bundle unit image-test mesh-test lab-down site-check molecule collection-test

test: ## Everything CI runs: lint, syntax, unit tests, the full bundle, the services image, make lab and its proofs, molecule
	@start=$$(date +%s.%N); \
	for stage in $(TEST_STAGES); do \
	  at=$$(date +%s.%N); $(MAKE) --no-print-directory $$stage; scripts/record-time.sh "test $$stage" "$$at"; \
	done; \
	scripts/record-time.sh test "$$start"

services-image: image ## Build the services image (from the node image and a host-side wheelhouse)
	@services/image/build.sh

bench: image lab-bundle bench-services bench-mesh bench-cpu bench-load bench-failover bench-converge ## Every benchmark below; each writes its section of docs/benchmarks.md
	benchmarks/etcd.sh

bench-converge: image lab-bundle ## make lab from nothing, then site.yml's first converge against its rerun (changed=0), time per role
	benchmarks/foundation.sh

bench-services: services-image ## Working set of every service container, idle and under load
	python3 benchmarks/services_memory.py

bench-mesh: mesh ## Latency added by two sidecars and their working set
	python3 benchmarks/mesh_latency.py

bench-cpu: mesh ## CPU per request per container (cgroups, idle subtracted) for each request kind through the edge, and as a ratio to an in-run Envoy baseline
	python3 benchmarks/cpu_per_request.py

PROFILE_PODS ?= gateway-v1-0 product-v1-0 order-v1-0
bench-profile: mesh ## py-spy profiles of PROFILE_PODS' apps under the flash-sale mix (RPS=150): packages and functions by share
	python3 benchmarks/profile_services.py $(PROFILE_PODS) --rps $(or $(RPS),150)

bench-test: ## Write the stages of the last `make test` recorded here (.cache/times.tsv) to docs/benchmarks.md
	python3 benchmarks/test_stages.py

bench-failover: mesh ## The database failover drill RUNS times (default 2): time to a new primary, client errors, writes kept
	python3 -m benchmarks.failover $(or $(RUNS),2)

bench-load: mesh ## Locust requests/s per core (lab against an Envoy direct-response baseline), highest peak within the SLOs
	python3 benchmarks/load_capacity.py
