# Flok's build. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
# End-to-end packages start real control planes and real Flink; give them room.
TEST_TIMEOUT ?= 75m
TEST_FLAGS ?=
# make image PUSH=registry/repository[:tag] pushes the image it builds.
PUSH ?=
# make bench-scale's size, and further flags of test/cmd/benchscale.
N ?= 1000
BENCH_SCALE_FLAGS ?=
# How long make fuzz runs each fuzz target.
FUZZ_TIME ?= 3m

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "; print "Usage: make <target>"} \
		/^##@/ {printf "\n%s\n", substr($$0, 5)} \
		/^[a-zA-Z0-9_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Newcomer

.PHONY: demo
demo: ## Set everything up and show Flok's local environment working.
	@hack/demo.sh

.PHONY: test
test: tools ## Run all tests, end-to-end ones included (builds the control plane once).
	@start=$$(date +%s); \
	FLOK_K8S_BIN=$$(hack/k8s-tools.sh dir) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./... && rc=0 || rc=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s in total, exit code $$rc"; \
	exit $$rc

##@ Development

.PHONY: build
build: ## Compile every package.
	$(GO) build ./...

.PHONY: bench
bench: ## Run the Go benchmarks (time and allocations per operation).
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZ_TIME each (default 3m); writes .local/fuzz.tsv. Not part of make test.
	@FUZZ_TIME=$(FUZZ_TIME) hack/fuzz.sh

.PHONY: bench-scale
bench-scale: tools ## Measure flok-operator with N FlinkDeployments (default 1000) on simulated Flink; writes .local/bench-scale.json.
	@FLOK_K8S_BIN=$$(hack/k8s-tools.sh dir) $(GO) run ./test/cmd/benchscale -n $(N) $(BENCH_SCALE_FLAGS)

.PHONY: image
image: ## Build the operator image (linux/amd64, linux/arm64) into .local/image, an OCI layout; PUSH=registry/repo[:tag] also pushes it.
	@$(GO) run ./hack/image -o .local/image $(if $(PUSH),-push $(PUSH))

.PHONY: generate
generate: ## Regenerate deepcopy code, CRDs (config/crd) and the operator's ClusterRole (config/rbac) with controller-gen, then the chart's copies of them and config/ rendered from the chart (charts/flok).
	@cg=$$(hack/controller-gen.sh); \
	$$cg object paths=./api/... && \
	rm -rf config/crd && \
	$$cg crd:allowDangerousTypes=true paths=./api/... output:crd:artifacts:config=config/crd && \
	$$cg rbac:roleName=flok-operator paths=./internal/controller/... paths=./internal/webhook/... paths=./internal/operator/... output:rbac:artifacts:config=config/rbac && \
	$(GO) run ./hack/chart

.PHONY: fmt
fmt: ## Format the Go code.
	gofmt -s -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: verify
verify: generate vet ## Fail if generated files are stale, code is unformatted or go.mod/go.sum are not tidy.
	@if [ -n "$$(git status --porcelain -- api config charts)" ]; then \
		echo "generated files are stale (run make generate and commit):"; git status --porcelain -- api config charts; exit 1; fi
	@unformatted=$$(gofmt -s -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt -s formatted (run make fmt):"; echo "$$unformatted"; exit 1; fi
	$(GO) mod tidy -diff

.PHONY: tools
tools: ## Build the pinned control-plane binaries into ~/.cache/flok (once per version); install Chromium for the console's browser tests when missing.
	@hack/k8s-tools.sh >/dev/null
	@hack/browser.sh >/dev/null

##@ Local cluster

.PHONY: run
run: ## Run flok-operator out of cluster against the local cluster (make cluster-up first).
	@test -f .local/kubeconfig || { echo "no local cluster: run make cluster-up first"; exit 1; }
	$(GO) run ./cmd/flok-operator --kubeconfig .local/kubeconfig --flink-access=proxy \
		--metrics-bind-address=127.0.0.1:8080 --health-probe-bind-address=127.0.0.1:8081

.PHONY: cluster-up
cluster-up: ## Start the local cluster in the background (kubeconfig: .local/kubeconfig).
	@hack/cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop the local cluster and every process it started.
	@hack/cluster.sh down

.PHONY: clean
clean: cluster-down ## Stop the local cluster and remove .local/ and bin/.
	rm -rf .local bin
