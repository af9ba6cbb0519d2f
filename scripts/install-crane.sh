#!/usr/bin/env bash
# Builds go-containerregistry's `crane` (pinned) from the Go module proxy for the OCI bundle tests, which run
# `crane registry serve` on loopback and push bundles with `crane append`. Idempotent; prints the binary's path.
set -euo pipefail
version=v0.22.1
bin_dir="${CRANE_BIN_DIR:-$(go env GOPATH)/bin}"
crane="$bin_dir/crane"
if [ -x "$crane" ] && [ "$("$crane" version 2>/dev/null)" = "$version" ]; then
  echo "$crane"
  exit 0
fi
command -v go >/dev/null 2>&1 || { echo "install-crane: go is missing" >&2; exit 1; }
GOBIN="$bin_dir" go install -ldflags "-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=${version}" \
  "github.com/google/go-containerregistry/cmd/crane@${version}" >&2
echo "$crane"
