#!/usr/bin/env bash
# Installs the pinned reference OPA (the test oracle and benchmark peer) into .tools/opa/bin.
# Verdict never needs it at run time; tests and benchmarks that compare against OPA call this first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d '[:space:]' < "$root/scripts/opa-version.txt")
bin="$root/.tools/opa/bin"
if [ -x "$bin/opa" ] && "$bin/opa" version 2>/dev/null | grep -q "^Version: ${version#v}$"; then
  echo "$bin/opa"
  exit 0
fi
mkdir -p "$bin"
GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@$version" >&2
echo "$bin/opa"
