# The two commands of this workspace: `make demo` and `make test`. See README.md.
SHELL := /bin/bash
export AUDIT_TOOLS_DIR ?= $(HOME)/.cache/jeap-audit-tools
export CARGO_TERM_COLOR ?= never
CARGO ?= cargo
DENY := $(AUDIT_TOOLS_DIR)/cargo-deny/bin/cargo-deny

.PHONY: demo test prep fmt-check clippy unit schema-check features doc deny bench fuzz help

help:
	@echo "make demo          the main job end to end on embedded defaults (SQLite outbox, in-process Kafka mock)"
	@echo "make test          the whole test suite (installs and starts what it needs)"
	@echo "make schema-check  compatibility and structure check of avro/"
	@echo "make bench         all benchmarks (criterion + whole-process)"
	@echo "make fuzz          run a decoder fuzz target (FUZZ_TARGET=decode|decode_generic) for FUZZ_SECONDS (default 60); needs nightly"

demo:
	bash scripts/ensure-build-deps.sh
	$(CARGO) run --release -q -p audit-demo -- $(DEMO_ARGS)

prep:
	bash scripts/test-prep.sh

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --features $(TEST_FEATURES) -- -D warnings

# Feature-gated code is tested too: the registry's TLS path and the consumer's Kafka runtime with
# both deduplication backends.
TEST_FEATURES := audit-registry/rustls,audit-consumer/postgres,audit-consumer/sqlite

unit: prep
	$(CARGO) test --workspace --features $(TEST_FEATURES) --no-fail-fast

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --features $(TEST_FEATURES)

features:
	bash scripts/check-features.sh

schema-check:
	$(CARGO) run -q -p audit-cli -- schema check --dir avro --transitive

deny: prep
	$(DENY) check licenses

test: prep fmt-check clippy doc unit schema-check features deny
	@echo "make test: all green"

bench:
	$(CARGO) bench --workspace

fuzz:
	bash fuzz/run.sh $${FUZZ_SECONDS:-60} $${FUZZ_TARGET:-decode}
