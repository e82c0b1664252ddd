#!/usr/bin/env bash
# Issue 18: schemathesis against a running `pactum serve --demo`, on every
# operation of GET /openapi.json, with bounded examples. Fails on any
# server error (5xx) and on any response that does not match the document's
# schema. CI runs it after the test stages (.ci/run).
#
# Usage: tests/schemathesis/run.sh [max examples per operation = 100]
# Environment:
#   PACTUM_BIN               the `pactum` binary (default: the debug one that
#                            `cargo test --workspace` built; nothing is compiled)
#   PACTUM_SCHEMATHESIS_DIR  where the pinned schemathesis venv is kept
#                            (default: ~/.cache/pactum-schemathesis)
#   PACTUM_SCHEMATHESIS_PORT the server's port (18180)
#   PACTUM_SCHEMATHESIS_SEED the generator's seed (1818: the same cases each run)
set -euo pipefail
cd "$(dirname "$0")/../.."

version=4.32.5
examples=${1:-100}
port=${PACTUM_SCHEMATHESIS_PORT:-18180}
seed=${PACTUM_SCHEMATHESIS_SEED:-1818}
base=http://127.0.0.1:$port
bin=$(realpath "${PACTUM_BIN:-${CARGO_TARGET_DIR:-target}/debug/pactum}")
venv=${PACTUM_SCHEMATHESIS_DIR:-$HOME/.cache/pactum-schemathesis}/venv

[ -x "$bin" ] || { echo "no pactum binary at $bin: run cargo test --workspace (or cargo build -p pactum) first" >&2; exit 1; }

# schemathesis at its pinned version, in a venv kept between runs.
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null | awk '{ print $NF }')" != "$version" ]; then
  echo "installing schemathesis $version into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version"
fi

dir=$(mktemp -d)
"$bin" serve --demo --listen "127.0.0.1:$port" --database-url "sqlite://$dir/schemathesis.db" \
  --policies policies --cache-dir "$dir/cache" >"$dir/serve.out" 2>"$dir/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT

for _ in $(seq 300); do
  curl -sf "$base/healthz" >/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
  sleep 0.1
done
# --demo prints each example company's admin key once, on its first start.
key=$(awk '$1 == "acme" { print $2 }' "$dir/serve.out")
[ -n "$key" ] || { echo "the server printed no key for acme:" >&2; cat "$dir/serve.out" "$dir/serve.log" >&2; exit 1; }
# Something to find: a partner with a registration, a won deal, a lead.
post() { curl -sf -X POST "$base$1" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$2" >/dev/null; }
post /v1/partners '{"id":"p-1","name":"Initech","kind":"referral","territories":["emea"]}'
post /v1/registrations '{"partner_id":"p-1","account_domain":"globex.com","account_name":"Globex","amount":{"amount":12000000,"currency":"USD"}}'
post /v1/deals '{"id":"d-1","partner_id":"p-1","account_domain":"globex.com","first_year_acv":{"amount":12000000,"currency":"USD"},"source":"partner-sourced"}'
post /v1/deals/d-1/won '{}'
post /v1/leads '{"account_domain":"globex.com","source":"webinar"}'

echo "== schemathesis $version: every operation, $examples examples each, seed $seed =="
set +e
# From the temporary folder: schemathesis keeps its state in ./.schemathesis.
(cd "$dir" && timeout 540 "$venv/bin/schemathesis" run "$base/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$examples" --seed "$seed" --workers 2 \
  --request-timeout 30 --suppress-health-check all --no-color --generation-database none \
  --report junit --report-dir "$dir/report")
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "== schemathesis found problems (exit $status); the server's log: ==" >&2
  grep -E 'ERROR|panicked' "$dir/serve.log" | tail -50 >&2 || true
fi
exit "$status"
