# sgp-operator: the front door. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Node >= 22 first on PATH (installs Node 24 from npm into .tools/ when the system node is older).
NODE_BIN := $(shell hack/ensure-node.sh)
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)
JEST := node --experimental-vm-modules node_modules/jest/bin/jest.js
# V8 heap sizing the operator runs with, as the image's ENTRYPOINT sets it (Dockerfile; README "Memory").
NODE_RUNTIME_FLAGS := --max-semi-space-size=1 --heap-growing-percent=20 --optimize-for-size

# Integration tests need a kube-apiserver + etcd: an existing cluster (USE_EXISTING_CLUSTER=true + KUBECONFIG),
# binaries in KUBEBUILDER_ASSETS, or binaries built by hack/control-plane/build.sh into a cache outside the repo.
# Recipes assign it on a line of its own (`assets=$(ASSETS);`): a failed build then stops the target, which a
# `VAR=$$(…) command` prefix would not.
ASSETS = $(if $(filter true,$(USE_EXISTING_CLUSTER)),,$(or $(KUBEBUILDER_ASSETS),$$(hack/control-plane/build.sh)))

# Helm for the chart targets and tests, built by hack/helm/build.sh into the same cache. Before the tests it is
# built when Go is there; without Go the script says so in one line (exit 3) and the chart tests skip.
HELM = $$(hack/helm/build.sh)
HELM_FOR_TESTS = hack/helm/build.sh >/dev/null || [ $$? -eq 3 ]
# What `make image` builds and tags.
IMAGE ?= ghcr.io/sgp-operator/sgp-operator:$(shell node -p "require('./package.json').version")

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# `npm install` with the committed lock installs exactly the locked versions. Not `npm ci`: the registry here
# serves only this platform's optional binaries (@swc/core-*, @unrs/resolver-binding-*), so the lock cannot list
# the others and `npm ci` refuses it as out of sync.
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: deps
deps: node_modules/.installed ## Install npm dependencies (exact versions from package-lock.json)

.PHONY: lint
lint: deps ## eslint + prettier --check
	eslint .
	prettier --check --log-level warn .

.PHONY: typecheck
typecheck: deps ## tsc --noEmit over sources, tools, tests and benchmarks
	tsc --noEmit -p tsconfig.json

.PHONY: build
build: deps ## Compile to dist/ (for the container image; `make run` needs no build)
	tsc -p tsconfig.build.json

.PHONY: control-plane-bin
control-plane-bin: ## Build (or reuse) kube-apiserver and etcd in the cache; prints their folder
	@hack/control-plane/build.sh

.PHONY: control-plane
control-plane: deps ## Start a local kube-apiserver + etcd and print the kubeconfig path (Ctrl-C stops it)
	assets="$(ASSETS)"; KUBEBUILDER_ASSETS="$$assets" node hack/control-plane/cli.ts start

.PHONY: ec2-emulator
ec2-emulator: deps ## Run the EC2 emulator on 127.0.0.1:4566 (SEED=file to seed a topology)
	node hack/ec2-emulator/cli.ts --port $${PORT:-4566} $${SEED:+--seed-file $$SEED}

.PHONY: test-unit
test-unit: deps ## Unit tests only (no processes)
	$(JEST) --selectProjects unit

.PHONY: test-integration
test-integration: deps ## Integration tests only (real kube-apiserver + etcd and the EC2 emulator)
	hack/ensure-prometheus.sh
	$(HELM_FOR_TESTS)
	assets="$(ASSETS)"; KUBEBUILDER_ASSETS="$$assets" $(JEST) --selectProjects integration

.PHONY: test
test: deps lint typecheck ## Everything CI runs: lint, typecheck, unit and integration tests
	hack/ensure-prometheus.sh
	$(HELM_FOR_TESTS)
	assets="$(ASSETS)"; KUBEBUILDER_ASSETS="$$assets" $(JEST) --reporters=default --reporters=./test/summary-reporter.js

.PHONY: helm-bin
helm-bin: ## Build (or reuse) helm in the cache; prints its path
	@hack/helm/build.sh

.PHONY: helm-lint
helm-lint: ## helm lint --strict charts/sgp-operator (with example cluster settings)
	helm="$(HELM)"; "$$helm" lint --strict charts/sgp-operator --set clusterName=my-cluster --set region=us-west-2

.PHONY: helm-template
helm-template: ## Render the chart as `helm install` would (ARGS=... adds --set/-f; CRDs included)
	helm="$(HELM)"; "$$helm" template sgp-operator charts/sgp-operator -n sgp-system --include-crds \
	  --set clusterName=my-cluster --set region=us-west-2 $(ARGS)

.PHONY: chart-values
chart-values: deps ## Regenerate the flags block of charts/sgp-operator/values.yaml from the option definitions
	node hack/chart/flag-values.ts

.PHONY: chart-files
chart-files: ## Copy crds/, the alerts and the Grafana dashboard into charts/sgp-operator (shipped verbatim)
	rm -f charts/sgp-operator/crds/*.yaml
	cp crds/*_*.yaml charts/sgp-operator/crds/
	cp config/prometheus/rules.yaml charts/sgp-operator/files/prometheus-rules.yaml
	cp config/grafana/sgp-operator-dashboard.json charts/sgp-operator/files/sgp-operator-dashboard.json

.PHONY: pin-base-images
pin-base-images: ## Re-pin the Dockerfile's base images to the digests their tags point at now (needs docker or crane)
	hack/image/pin-base-images.sh Dockerfile

.PHONY: image
image: ## Build the container image from the digest-pinned Dockerfile (IMAGE=registry/name:tag)
	docker build --build-arg SGP_BUILD_COMMIT=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown) -t $(IMAGE) .

.PHONY: generate-limits
generate-limits: ## Regenerate operator/limits/instance-types.json from the published VPC resource controller module
	cd hack/limits-gen && GOWORK=off GOTOOLCHAIN=local go run . > ../../operator/limits/instance-types.json.tmp
	mv operator/limits/instance-types.json.tmp operator/limits/instance-types.json
	prettier --write --log-level warn operator/limits/instance-types.json

.PHONY: run
run: deps ## Run the operator against the current kubeconfig and AWS (or AWS_ENDPOINT_URL_EC2); ARGS=... passes flags
	SGP_BUILD_COMMIT=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown) node $(NODE_RUNTIME_FLAGS) operator/main.ts $(ARGS)

.PHONY: demo
demo: deps ## Local demo: control plane + EC2 emulator + operator + workshop scenario (ONCE=1 exits after the summary; MODE=ipv4|ipv6|dual-stack|custom-networking)
	assets="$(ASSETS)"; KUBEBUILDER_ASSETS="$$assets" node hack/demo/demo.ts $(if $(ONCE),--once,) $(if $(MODE),--mode $(MODE),)

.PHONY: bench
bench: deps ## Benchmarks at reduced scale (< 10 min); figures as JSON plus a table
	assets="$(ASSETS)"; KUBEBUILDER_ASSETS="$$assets" node bench/run.ts $(BENCH_ARGS)

# `make chaos CHAOS_TESTS=chaos-warm` runs one variant (chaos.test.ts: reuse off; chaos-warm.test.ts: reuse on).
CHAOS_TESTS ?= chaos
.PHONY: chaos
chaos: deps ## Full chaos suite, warm reuse off and on (500 pod cycles each, 10 nodes, SIGKILLs, leader handovers)
	assets="$(ASSETS)"; KUBEBUILDER_ASSETS="$$assets" SGP_CHAOS_FULL=1 $(JEST) --selectProjects integration --testPathPatterns $(CHAOS_TESTS)

.PHONY: clean
clean: ## Remove build output (keeps the control-plane cache)
	rm -rf dist coverage node_modules/.installed
