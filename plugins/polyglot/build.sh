#!/usr/bin/env bash
# Builds the Python and JavaScript plugins (the commission and routing
# starters, and the hostile test fixtures) into one folder, with each
# ecosystem's own tool at a pinned version:
#
#   componentize-py 0.25.1   plugins/python/requirements.txt -> plugins/python/.venv
#   componentize-js 0.23.0   plugins/js/package-lock.json    -> plugins/js/node_modules (npm ci)
#
# Output: $PACTUM_POLYGLOT_DIR, else ${CARGO_TARGET_DIR:-target}/polyglot:
#   python-commission.wasm python-routing.wasm js-commission.wasm
#   js-routing.wasm hostile-python.wasm hostile-js.wasm
#
# A component whose inputs (its sources, wit/, the tool's version and the
# build flags) did not change since the last build is not rebuilt: a re-run
# takes about a second. The host tests that use these components:
#   PACTUM_POLYGLOT_DIR=<that folder> cargo test -p pactum --test polyglot -- --ignored
#
# Needs python3 (3.10+, with venv) and node 20+ with npm; both registries
# (PyPI, npm) are only contacted when the pinned tools are missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
out=${PACTUM_POLYGLOT_DIR:-$target/polyglot}
mkdir -p "$out"
out=$(cd "$out" && pwd)

venv=$root/plugins/python/.venv
requirements=$root/plugins/python/requirements.txt
js=$root/plugins/js

# componentize-js features left out. Kept: `stdio` (console.log and an
# uncaught exception's message reach the call's log through the host's
# stdout/stderr stubs) and `clocks` (Date.now() asks the host's clock,
# stopped at 0, at call time instead of returning the build machine's time
# frozen into the snapshot). Left out: `random` (Math.random is then seeded
# at build time: deterministic either way, one import less), `http` and
# `fetch-event` (the host refuses wasi:http). Keep in step with
# plugins/js/package.json's scripts.
js_disabled=(random http fetch-event)

started=$(date +%s)
say() { printf '[polyglot] %s\n' "$*"; }

sha() { sha256sum | cut -c1-64; }

# The pinned Python toolchain, in a venv of its own.
want_py=$(sed -n 's/^componentize-py==//p' "$requirements")
have_py=$("$venv/bin/componentize-py" --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_py" != "$want_py" ]; then
  say "installing componentize-py $want_py into ${venv#"$root"/}"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
fi
py_version=$("$venv/bin/componentize-py" --version)

# The pinned JavaScript toolchain: `npm ci` from the lockfile, again only
# when the lockfile changed since the last install.
lock_hash=$(sha <"$js/package-lock.json")
if [ ! -x "$js/node_modules/.bin/componentize-js" ] || [ "$(cat "$js/node_modules/.pactum-lock" 2>/dev/null)" != "$lock_hash" ]; then
  say "installing componentize-js (npm ci in ${js#"$root"/})"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" >"$js/node_modules/.pactum-lock"
fi
js_version=$(node -p "require('$js/node_modules/@bytecodealliance/componentize-js/package.json').version")

# name | language | source folder | entry (Python module or JS file) | WIT world
components=(
  "python-commission|python|plugins/python/commission|app|commission-policy"
  "python-routing|python|plugins/python/routing|app|routing-policy"
  "js-commission|js|plugins/js/commission|commission.js|commission-policy"
  "js-routing|js|plugins/js/routing|routing.js|routing-policy"
  "hostile-python|python|tests/fixtures/hostile-python|app|commission-policy"
  "hostile-js|js|tests/fixtures/hostile-js|hostile.js|commission-policy"
)

# What a component is built from: its folder's sources, the WIT contract,
# the tool and the flags.
inputs_hash() {
  local dir=$1 tool=$2 flags=$3
  {
    echo "$tool $flags"
    (cd "$root" && find "$dir" wit -type f \( -name '*.py' -o -name '*.js' -o -name '*.wit' \) \
      -not -path '*/__pycache__/*' -not -path '*/node_modules/*' | LC_ALL=C sort | xargs sha256sum)
  } | sha
}

n=${#components[@]}
i=0
built=0
for entry in "${components[@]}"; do
  i=$((i + 1))
  IFS='|' read -r name lang dir main world <<<"$entry"
  wasm=$out/$name.wasm
  if [ "$lang" = python ]; then
    tool=$py_version
    flags="-w $world componentize $main"
  else
    tool="componentize-js $js_version"
    flags="--world-name $world -d ${js_disabled[*]} $main"
  fi
  hash=$(inputs_hash "$dir" "$tool" "$flags")
  if [ -f "$wasm" ] && [ "$(cat "$wasm.inputs" 2>/dev/null)" = "$hash" ]; then
    say "[$i/$n] $name: up to date ($(stat -c %s "$wasm") bytes)"
    continue
  fi
  say "[$i/$n] $name: building from $dir ($lang) ..."
  t0=$(date +%s.%N)
  rm -f "$wasm.inputs"
  if [ "$lang" = python ]; then
    (cd "$root/$dir" && "$venv/bin/componentize-py" -d "$root/wit" -w "$world" componentize "$main" -o "$wasm.tmp" >/dev/null)
  else
    (cd "$root/$dir" && "$js/node_modules/.bin/componentize-js" "$main" --wit "$root/wit" --world-name "$world" \
      -d "${js_disabled[@]}" -o "$wasm.tmp" >/dev/null)
  fi
  mv "$wasm.tmp" "$wasm"
  echo "$hash" >"$wasm.inputs"
  built=$((built + 1))
  say "[$i/$n] $name: built in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s ($(stat -c %s "$wasm") bytes)"
done

say "$built of $n built, $((n - built)) up to date, in $(($(date +%s) - started)) s: $out"
