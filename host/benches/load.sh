#!/usr/bin/env bash
# HTTP load benchmark: a release `pactum serve` with the demo program on a
# fresh SQLite file, driven by wrk (a real HTTP load generator) from the same
# machine. Prints wrk's throughput and latency distribution for deal
# registrations, then for lead routings.
#
# Usage: host/benches/load.sh [duration=20s] [connections=32]
# Environment: PACTUM_LOAD_PORT (18080), RUST_LOG for the server (info),
# PACTUM_BIN (a release `pactum` to run instead of building one).
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=${1:-20s}
connections=${2:-32}
port=${PACTUM_LOAD_PORT:-18080}
base=http://127.0.0.1:$port

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

# PACTUM_BIN: a release binary already built (skips the build).
if [ -z "${PACTUM_BIN:-}" ]; then
  cargo build --release -p pactum
fi
bin=${PACTUM_BIN:-${CARGO_TARGET_DIR:-target}/release/pactum}

dir=$(mktemp -d)
"$bin" serve --demo --listen "127.0.0.1:$port" --database-url "sqlite://$dir/load.db" --cache-dir "$dir/cache" \
  >"$dir/serve.out" 2>"$dir/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT

for _ in $(seq 100); do
  curl -sf "$base/healthz" >/dev/null && break
  sleep 0.1
done
key=$(awk '$1 == "acme" { print $2 }' "$dir/serve.out")
[ -n "$key" ] || { echo "the server printed no key for acme:" >&2; cat "$dir/serve.out" "$dir/serve.log" >&2; exit 1; }

curl -sf -X POST "$base/v1/partners" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"id":"load","name":"Load Partner","kind":"referral","territories":["emea"]}' >/dev/null

echo "== deal registrations: POST /v1/registrations, $connections connections, $duration =="
PACTUM_KEY=$key wrk -t1 -c"$connections" -d"$duration" --latency \
  -s host/benches/load/registrations.lua "$base"

echo
echo "== lead routings: POST /v1/leads, $connections connections, $duration =="
PACTUM_KEY=$key wrk -t1 -c"$connections" -d"$duration" --latency -s host/benches/load/leads.lua "$base"

echo
echo "== what the server counted (every answer by status) =="
curl -sf "$base/metrics" | grep -E '^pactum_http_requests_total\{method="POST",route="/v1/(registrations|leads)"'
