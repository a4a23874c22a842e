# FieldDB: set-up, demo, tests and benchmarks. Everything builds in the release profile, so
# RocksDB's C++ (about 13 minutes cold on 2 cores) compiles once per machine.

CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps demo test bench

# libclang is needed by the RocksDB bindings (bindgen); install it with apt-get when missing.
deps:
	@if command -v dpkg-query >/dev/null 2>&1; then \
	  if ! dpkg-query -W -f='$${Status}' libclang-dev 2>/dev/null | grep -q 'install ok installed'; then \
	    echo "deps: installing libclang-dev (needed to build RocksDB's bindings)"; \
	    $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libclang-dev >/dev/null || exit 1; \
	  fi; \
	elif ! ls /usr/lib/libclang*.so* /usr/lib64/libclang*.so* /usr/lib/llvm*/lib/libclang*.so* >/dev/null 2>&1; then \
	  echo "deps: libclang was not found; install your distribution's libclang development package"; \
	  exit 1; \
	fi
	@command -v $(CARGO) >/dev/null 2>&1 || { echo "deps: cargo not found; install Rust from https://rustup.rs"; exit 1; }

DEMO_DB ?= fielddb-demo

# Imports demo/orders.csv (20,000 generated orders), builds indexes, queries and verifies.
demo: deps
	$(CARGO) build --release --quiet -p fielddb-cli
	rm -rf $(DEMO_DB)
	$(CARGO) run --release --quiet -p fielddb-cli -- --echo --db $(DEMO_DB) < demo/demo.fdb
	@echo
	@echo "Open the REPL on this database: cargo run --release -q -p fielddb-cli -- --db $(DEMO_DB)"

test: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) test --release --workspace

# Benchmarks (release-profile builds); see benches/.
bench: deps
	$(CARGO) bench --bench index_build
