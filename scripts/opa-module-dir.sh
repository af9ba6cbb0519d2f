#!/usr/bin/env bash
# Prints the folder of the pinned OPA Go module (it holds OPA's conformance cases under v1/test/cases/testdata).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d '[:space:]' < "$root/scripts/opa-version.txt")
cd "$root"
go mod download -json "github.com/open-policy-agent/opa@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
