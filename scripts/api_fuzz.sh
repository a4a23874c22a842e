#!/usr/bin/env bash
# Runs schemathesis (`pip install schemathesis`) with every check against the server's own
# OpenAPI document: once on a single node, once on a one-node cluster (the cluster routes too,
# but for adding learners and changing voters, which would reach for the fuzzed addresses or
# remove the only voter). Servers listen on loopback only and are stopped on exit. Every
# finding left is explained in the OpenAPI document (see README, "HTTP server").
set -euo pipefail
target=${CARGO_TARGET_DIR:-target}
server="$(cd "$target" && pwd)/release/fielddb-server"
command -v st >/dev/null || { echo "api-fuzz: schemathesis is missing: pip install schemathesis"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# start NAME ARGS...: starts a server and sets $addr to its address. It runs in this shell, not
# in a $(...) subshell, so its pid reaches `pids` and the trap stops it.
start() {
  local name=$1; shift
  "$server" --db "$work/$name" --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$work/$name.out" 2>/dev/null; then
      addr=$(sed -n 's/^listening on //p' "$work/$name.out"); return
    fi
    sleep 0.1
  done
  echo "api-fuzz: $name did not start" >&2; cat "$work/$name.err" >&2; exit 1
}

status=0
cd "$work" # schemathesis keeps its cache (.schemathesis/) in the working directory
start single
echo "== single node at $addr"
st run "http://$addr/v1/openapi.json" --checks all --continue-on-failure --max-failures 200 \
  --exclude-path-regex '/v1/cluster.*' || status=1

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" --db "$work/cluster" --listen "127.0.0.1:$port" --node-id 1 --peers "1=127.0.0.1:$port" \
  >"$work/cluster.out" 2>"$work/cluster.err" &
pids+=($!)
sleep 1
curl -sf -X POST "http://127.0.0.1:$port/v1/cluster/init" >/dev/null
echo "== one-node cluster at 127.0.0.1:$port"
st run "http://127.0.0.1:$port/v1/openapi.json" --checks all --continue-on-failure --max-failures 200 \
  --exclude-path-regex '/v1/cluster/(learners|voters)' || status=1
exit $status
