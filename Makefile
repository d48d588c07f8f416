# The two commands: `make dev` runs the whole stack locally, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help dev test contract soak unit lint fmt validate install stack-start stack-stop stack-status admin build

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

dev: ## Run the emulators and the API on http://127.0.0.1:3000 (Ctrl-C stops them)
	@scripts/dev.sh

# The functions' log of a `make test` run, checked once the run is over.
TEST_LOG := $(CURDIR)/.local/test-logs/functions.jsonl

test: ## Run all tests, check openapi.yaml against the running API, then check the run's log for private data and invalid metrics
	@mkdir -p $(dir $(TEST_LOG)) && rm -f $(TEST_LOG)
	@SHOP_LOG_FILE=$(TEST_LOG) scripts/with-stack.sh cargo test --workspace --locked
	@SHOP_LOG_FILE=$(TEST_LOG) scripts/with-stack.sh scripts/contract.sh
	@cargo run --quiet --locked -p shop-local -- check-logs --file $(TEST_LOG)
	@cargo run --quiet --locked -p shop-local -- metrics --file $(TEST_LOG) | tail -n 1

contract: ## Check openapi.yaml against the running API with schemathesis (CONTRACT_EXAMPLES=50 for a longer run)
	@scripts/with-stack.sh scripts/contract.sh

.PHONY: bench
bench: ## Benchmark release builds on a private emulator stack (cold start, size, latency, throughput, cost per order, catalog scale) into docs/performance.md; BENCH_ARGS=--smoke runs one iteration
	@mkdir -p .local/bench && rm -f .local/bench/functions.log
	@SHOP_LOG_FILE="$${SHOP_LOG_FILE:-$(CURDIR)/.local/bench/functions.log}" \
		scripts/with-stack.sh cargo run --release --locked -p shop-bench -- all $(BENCH_ARGS)

.PHONY: bench-smoke
bench-smoke: ## One iteration of every part of the bench, on debug builds (CI runs it so the bench keeps working)
	@mkdir -p .local/bench && rm -f .local/bench/smoke.log
	@SHOP_LOG_FILE="$(CURDIR)/.local/bench/smoke.log" \
		scripts/with-stack.sh cargo run --locked -p shop-bench -- all --smoke

soak: ## Hundreds of randomised order sequences, and the queue-outage test with a minute's outage
	@SOAK_SEQUENCES=$${SOAK_SEQUENCES:-300} FAULT_OUTAGE_SECS=$${FAULT_OUTAGE_SECS:-60} \
		scripts/with-stack.sh cargo test -p shop-tests --test integration --locked -- soak faults --nocapture

unit: ## Run the tests that need no emulator
	cargo test --workspace --locked --lib --bins

lint: ## cargo fmt --check, clippy -D warnings, cfn-lint
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	@scripts/stack.sh install
	.local/venv/bin/cfn-lint template.yaml

fmt: ## Format the code
	cargo fmt --all

validate: ## Lint template.yaml offline
	@scripts/stack.sh install
	.local/venv/bin/cfn-lint template.yaml

install: ## Install the emulators into .local/
	@scripts/stack.sh install

stack-start: ## Start the dev emulators in the background
	@STACK_DIR=.local/dev STACK_MODE=dev scripts/stack.sh start

stack-stop: ## Stop the dev emulators
	@STACK_DIR=.local/dev scripts/stack.sh stop

stack-status: ## Show the dev emulators
	@STACK_DIR=.local/dev scripts/stack.sh status

admin: ## Create or promote an admin on the dev stack: make admin EMAIL=... PASSWORD=...
	@test -n "$(EMAIL)" -a -n "$(PASSWORD)" || { echo "usage: make admin EMAIL=you@example.com PASSWORD='...'"; exit 2; }
	@source .local/dev/env && cargo run --quiet -p shop-local -- create-admin --email "$(EMAIL)" --password "$(PASSWORD)"

build: ## Build every function for Lambda (arm64) with SAM and cargo-lambda
	sam build
