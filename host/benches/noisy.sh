#!/usr/bin/env bash
# Noisy neighbour benchmark (issues 15 and 18): one company's lead routing
# (the neighbour, wrk with 32 connections) while another company floods
# the service with hook calls whose plugin spins to its deadline (wrk with
# 300 connections on POST /v1/decisions/commission), against a release
# `pactum serve` on a fresh SQLite file. For each CPU-share mode (`off`:
# every call at normal priority, as before; `on`: the foreground and
# background classes, host/app/src/admission.rs) it prints the
# neighbour's throughput, p50 and p99 with the flooding company idle and
# flooding, the p99 ratio, and how the server answered the flood.
#
# Usage: host/benches/noisy.sh [duration=15s] [neighbour connections=32] [flood connections=300]
# Environment: PACTUM_BIN (a release `pactum`; default target/release/pactum,
# built if missing), PACTUM_NOISY_MODES ("off on"; "on:10" sets the
# background threads' nice value to 10 instead of 19), PACTUM_NOISY_ROUNDS (1),
# PACTUM_HOSTILE_WASM (the hostile plugin's component; default: found
# under the target directory), PACTUM_LOAD_PORT (18090),
# PACTUM_SPIN_DEADLINE_MS (the spinning company's deadline, 100: the default).
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=${1:-15s}
connections=${2:-32}
flood=${3:-300}
port=${PACTUM_LOAD_PORT:-18090}
base=http://127.0.0.1:$port
modes=${PACTUM_NOISY_MODES:-off on}
rounds=${PACTUM_NOISY_ROUNDS:-1}
deadline=${PACTUM_SPIN_DEADLINE_MS:-100}
target=${CARGO_TARGET_DIR:-target}

command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }
bin=${PACTUM_BIN:-$target/release/pactum}
[ -x "$bin" ] || cargo build --release -p pactum
hostile=${PACTUM_HOSTILE_WASM:-$(ls -t "$target"/release/build/pactum-plugin-artifacts-*/out/pactum_hostile_plugin.wasm 2>/dev/null | head -1)}
[ -f "$hostile" ] || { echo "no hostile plugin component found; set PACTUM_HOSTILE_WASM" >&2; exit 1; }

# wrk's latency ("850.00us", "12.31ms", "1.20s") in milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }
# "<req/s> <p50 ms> <p99 ms>" from a wrk --latency output file.
summary() {
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1")
  p50=$(awk '$1 == "50%" { print $2 }' "$1")
  p99=$(awk '$1 == "99%" { print $2 }' "$1")
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  server=
}
trap cleanup EXIT

results=$(mktemp)
run() {
  local mode=$1 round=$2 dir
  dir=$(mktemp -d)
  mkdir -p "$dir/policies/spinner"
  ln -s "$PWD/policies/acme" "$dir/policies/acme"
  cp "$hostile" "$dir/policies/spinner/hostile.wasm"
  printf '[company]\nslug = "spinner"\nname = "Spinner"\ncurrency = "USD"\n[hooks]\ncommission = "hostile"\n[limits]\ndeadline-ms = %s\nfuel = 1000000000000\n[params]\nmode = "spin"\n' \
    "$deadline" >"$dir/policies/spinner/policy.toml"
  PACTUM_CPU_SHARE=${mode%%:*} PACTUM_BACKGROUND_NICE=${mode#*:} RUST_LOG=${RUST_LOG:-warn} "$bin" serve --demo --policies "$dir/policies" \
    --listen "127.0.0.1:$port" --database-url "sqlite://$dir/noisy.db" --cache-dir "$dir/cache" \
    >"$dir/serve.out" 2>"$dir/serve.log" &
  server=$!
  for _ in $(seq 300); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  local key spin
  key=$(awk '$1 == "acme" { print $2 }' "$dir/serve.out")
  spin=$(awk '$1 == "spinner" { print $2 }' "$dir/serve.out")
  [ -n "$key" ] && [ -n "$spin" ] || { echo "no keys printed:" >&2; cat "$dir/serve.out" "$dir/serve.log" >&2; exit 1; }
  curl -sf -X POST "$base/v1/partners" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"id":"load","name":"Load Partner","kind":"Referral","territories":["emea"]}' >/dev/null

  # Warm-up, then the neighbour alone, then the neighbour under the flood.
  PACTUM_KEY=$key wrk -t1 -c"$connections" -d3s -s host/benches/load/leads.lua "$base" >/dev/null
  PACTUM_KEY=$key wrk -t1 -c"$connections" -d"$duration" --latency -s host/benches/load/leads.lua "$base" >"$dir/idle.txt"
  PACTUM_FLOOD_KEY=$spin wrk -t1 -c"$flood" -d600s --timeout 30s -s host/benches/noisy/flood.lua "$base" >"$dir/flood.txt" &
  local flooder=$!
  sleep 3
  PACTUM_KEY=$key wrk -t1 -c"$connections" -d"$duration" --latency -s host/benches/load/leads.lua "$base" >"$dir/flooded.txt"
  kill -INT "$flooder" 2>/dev/null; wait "$flooder" 2>/dev/null || true
  curl -sf "$base/metrics" >"$dir/metrics.txt"
  local counts
  counts=$(grep -F 'route="/v1/decisions/' \
    "$dir/metrics.txt" | sed -E 's/.*status="([0-9]+)"\} ([0-9]+)$/\1:\2/' | paste -sd, - || true)
  cleanup
  local idle flooded
  idle=$(summary "$dir/idle.txt")
  flooded=$(summary "$dir/flooded.txt")
  read -r irps ip50 ip99 <<<"$idle"
  read -r frps fp50 fp99 <<<"$flooded"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | **%s×** | %s |\n' "$mode" "$round" \
    "$irps" "$frps" "$ip50" "$fp50" "$ip99" "$fp99" "$(awk -v a="$fp99" -v b="$ip99" 'BEGIN { printf "%.2f", a / b }')" \
    "${counts:-none}" | tee -a "$results"
  [ -n "${PACTUM_NOISY_KEEP:-}" ] && echo "kept $dir" >&2 || rm -rf "$dir"
}

echo "| cpu share | round | leads/s idle | flooded | p50 ms idle | flooded | p99 ms idle | flooded | p99 ratio | flood answers (status:count) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for round in $(seq "$rounds"); do
  for mode in $modes; do
    run "$mode" "$round"
  done
done
rm -f "$results"
