#!/usr/bin/env bash
# Regenerates vendor/wasmtime and vendor/wasmtime-environ from the published
# crates plus the patch files in vendor/patches, or (--check) verifies that
# the tree in vendor/ is exactly that: the published release with the listed
# patches and nothing else.
#
# Usage: vendor/regenerate.sh [--check] [VERSION]
#
#   VERSION  the wasmtime release to start from (both crates), e.g. 48.0.9;
#            default: the version now in vendor/wasmtime/Cargo.toml.
#   --check  build the result in a temporary directory and compare it with
#            vendor/ (contents and executable bits); print the differences
#            and exit 1 if there are any, else print one OK line. vendor/ is
#            not touched.
#
# How: cargo is the only client. A throwaway package in a temporary directory
# depends on `wasmtime = "=VERSION"` and `wasmtime-environ = "=VERSION"`;
# `cargo fetch` puts both .crate files in cargo's registry cache. Each is
# checked against the checksum cargo recorded from the registry's index in
# the throwaway Cargo.lock, then unpacked (the .crate itself, not cargo's
# unpacked copy under registry/src, which nothing verifies once it exists).
# The patches named in vendor/patches/series are applied in that order, each
# to the crate its file name starts with (<crate>-<release>-<name>.patch),
# with `patch -p1 --fuzz=0 --forward --batch`: a hunk that does not apply
# exactly (line offsets aside) stops the script. Without --check, the result
# replaces vendor/wasmtime and vendor/wasmtime-environ.
#
# See vendor/README.md ("Taking in a 48.0.x security release").
set -euo pipefail

usage() {
  echo "usage: $0 [--check] [VERSION]" >&2
  exit 2
}

check=0
version=
for arg in "$@"; do
  case $arg in
    --check) check=1 ;;
    -h | --help) usage ;;
    -*) usage ;;
    *)
      [ -z "$version" ] || usage
      version=$arg
      ;;
  esac
done

vendor=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
patches=$vendor/patches
crates=(wasmtime wasmtime-environ)

# The `version` of a Cargo.toml's [package] table.
package_version() {
  sed -n '/^\[package\]/,/^\[/{s/^version = "\([^"]*\)"$/\1/p}' "$1" | head -n1
}

if [ -z "$version" ]; then
  version=$(package_version "$vendor/wasmtime/Cargo.toml")
  [ -n "$version" ] || { echo "error: no version in $vendor/wasmtime/Cargo.toml" >&2; exit 1; }
fi
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "error: VERSION must be like 48.0.8, not '$version'" >&2
  exit 2
fi

# The patch series: one file name a line, `#` starts a comment. Every .patch
# file in vendor/patches must be in it, and everything in it must exist.
series=()
while IFS= read -r line || [ -n "$line" ]; do
  line=${line%%#*}
  line=${line#"${line%%[![:space:]]*}"}
  line=${line%"${line##*[![:space:]]}"}
  [ -z "$line" ] || series+=("$line")
done <"$patches/series"
for p in "${series[@]}"; do
  [ -f "$patches/$p" ] || { echo "error: $p is in vendor/patches/series but not in vendor/patches" >&2; exit 1; }
done
for f in "$patches"/*.patch; do
  [ -e "$f" ] || continue
  name=${f##*/}
  listed=0
  for p in "${series[@]}"; do [ "$p" != "$name" ] || listed=1; done
  [ "$listed" = 1 ] || { echo "error: vendor/patches/$name is not listed in vendor/patches/series" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/vendor-regenerate.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. The published crates, through cargo. Run from inside the temporary
# directory so that no .cargo/config.toml of this repository applies, and
# offline first: once the two .crate files are in cargo's cache, no network.
fetch=$work/fetch
mkdir -p "$fetch/src"
: >"$fetch/src/lib.rs"
cat >"$fetch/Cargo.toml" <<EOF
[package]
name = "vendor-regenerate-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
wasmtime = { version = "=$version", default-features = false }
wasmtime-environ = { version = "=$version", default-features = false }

[workspace]
EOF
# The workspace's Cargo.lock, where there is one, pins the dependencies the
# two crates share with the build: a dependency yanked since, or a newer one
# that does not resolve with this release, cannot then fail the check.
seed_lock() {
  if [ -f "$vendor/../Cargo.lock" ]; then cp "$vendor/../Cargo.lock" "$fetch/Cargo.lock"; else rm -f "$fetch/Cargo.lock"; fi
}
(
  cd "$fetch"
  seed_lock
  if ! cargo fetch --offline --quiet 2>/dev/null; then
    seed_lock
    cargo fetch --quiet
  fi
) || { echo "error: cargo could not fetch wasmtime $version and wasmtime-environ $version" >&2; exit 1; }

# Where cargo keeps the crates: the index directory is the one cargo itself
# reports for this resolve (there may be several under registry/).
metadata=$(cd "$fetch" && cargo metadata --format-version 1 --offline --quiet)
pristine=$work/pristine
mkdir -p "$pristine"
for crate in "${crates[@]}"; do
  manifest=$(grep -o "\"manifest_path\":\"[^\"]*/$crate-$version/Cargo.toml\"" <<<"$metadata" | head -n1 | cut -d'"' -f4)
  [ -n "$manifest" ] || { echo "error: cargo did not resolve $crate $version" >&2; exit 1; }
  index_dir=$(basename "$(dirname "$(dirname "$manifest")")")
  registry=$(dirname "$(dirname "$(dirname "$(dirname "$manifest")")")")
  archive=$registry/cache/$index_dir/$crate-$version.crate
  [ -f "$archive" ] || { echo "error: $archive missing after cargo fetch" >&2; exit 1; }

  want=$(awk -v name="$crate" -v ver="$version" '
    $0 == "[[package]]" { n = ""; v = "" }
    $1 == "name" { n = $3; gsub(/"/, "", n) }
    $1 == "version" { v = $3; gsub(/"/, "", v) }
    $1 == "checksum" && n == name && v == ver { c = $3; gsub(/"/, "", c); print c; exit }
  ' "$fetch/Cargo.lock")
  have=$(sha256sum "$archive" | cut -d' ' -f1)
  if [ -z "$want" ] || [ "$want" != "$have" ]; then
    echo "error: $archive: sha256 $have, registry index says '${want:-none}'" >&2
    exit 1
  fi

  tar -xzf "$archive" -C "$pristine" --no-same-owner
  [ -d "$pristine/$crate-$version" ] || { echo "error: $archive has no $crate-$version/" >&2; exit 1; }
  mv "$pristine/$crate-$version" "$work/$crate"
done

# 2. The patches, in the series' order.
for p in "${series[@]}"; do
  if ! [[ $p =~ ^(.+)-([0-9]+\.[0-9]+\.[0-9]+)-.+\.patch$ ]]; then
    echo "error: $p: not named <crate>-<release>-<name>.patch" >&2
    exit 1
  fi
  crate=${BASH_REMATCH[1]}
  case " ${crates[*]} " in
    *" $crate "*) ;;
    *) echo "error: $p: no vendored crate '$crate'" >&2; exit 1 ;;
  esac
  if ! out=$(patch -p1 --fuzz=0 --forward --batch --no-backup-if-mismatch \
    --reject-file=- -d "$work/$crate" -i "$patches/$p" 2>&1); then
    echo "error: $p does not apply to $crate $version:" >&2
    echo "$out" >&2
    exit 1
  fi
  # Applied, but not where it was written: say so (the patch wants a refresh).
  if grep -q 'offset' <<<"$out"; then
    echo "note: $p applies to $crate $version with line offsets:" >&2
    grep 'offset' <<<"$out" | sed 's/^/  /' >&2
  fi
done

# Git keeps no empty directories, so neither does the result.
for crate in "${crates[@]}"; do
  find "$work/$crate" -mindepth 1 -type d -empty -delete
done

# 3. Compare or replace.
exec_bits() {
  (cd "$1" && find . -type f -perm -u+x | LC_ALL=C sort)
}

if [ "$check" = 1 ]; then
  status=0
  for crate in "${crates[@]}"; do
    if ! out=$(diff -r "$work/$crate" "$vendor/$crate"); then
      sed "s|$work/|generated/|g; s|$vendor/|vendor/|g" <<<"$out"
      status=1
    fi
    if ! out=$(diff <(exec_bits "$work/$crate") <(exec_bits "$vendor/$crate")); then
      echo "executable files differ in vendor/$crate (< generated, > vendor):"
      echo "$out"
      status=1
    fi
  done
  # A file that is here but ignored by git (the crates' own .gitignore says
  # Cargo.lock, for one) would pass here and be missing from a clone.
  if ignored=$(git -C "$vendor" ls-files --others --ignored --exclude-standard -- "${crates[@]}" 2>/dev/null) &&
    [ -n "$ignored" ]; then
    echo "not committed, ignored by git (git add -f them):"
    sed 's|^|  vendor/|' <<<"$ignored"
    status=1
  fi
  if [ "$status" != 0 ]; then
    echo "vendor/ differs from wasmtime $version plus vendor/patches/series (above)." >&2
    echo "Change a vendored crate only through a patch file, then run vendor/regenerate.sh." >&2
    exit 1
  fi
  echo "OK: vendor/wasmtime and vendor/wasmtime-environ are wasmtime $version plus the ${#series[@]} patches in vendor/patches/series"
  exit 0
fi

for crate in "${crates[@]}"; do
  staged=$vendor/.$crate.regenerate
  rm -rf "$staged"
  trap 'rm -rf "$work" "$staged"' EXIT
  cp -a "$work/$crate" "$staged"
  rm -rf "${vendor:?}/$crate"
  mv "$staged" "$vendor/$crate"
done
trap 'rm -rf "$work"' EXIT
echo "vendor/wasmtime and vendor/wasmtime-environ: wasmtime $version plus the ${#series[@]} patches in vendor/patches/series"
if ignored=$(git -C "$vendor" ls-files --others --ignored --exclude-standard -- "${crates[@]}" 2>/dev/null) &&
  [ -n "$ignored" ]; then
  echo "git ignores these files of the published crates; commit them with git add -f, or --check fails on a clone:"
  sed 's|^|  vendor/|' <<<"$ignored"
fi
