#!/usr/bin/env bash
# Installs the pinned grpcurl (the gRPC reflection client the Envoy ext_authz tests drive) into
# .tools/grpcurl/bin (or $VERDICT_TOOLS_DIR/grpcurl/bin) from the Go module proxy and prints its path.
# A build is also kept in a per-machine cache (VERDICT_TOOLS_CACHE, default ~/.cache/verdict).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d '[:space:]' < "$root/scripts/grpcurl-version.txt")
bin="${VERDICT_TOOLS_DIR:-$root/.tools}/grpcurl/bin"
stamp="$bin/.version"
if [ -x "$bin/grpcurl" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "$bin/grpcurl"
  exit 0
fi
cache="${VERDICT_TOOLS_CACHE:-$HOME/.cache/verdict}/grpcurl-$version"
mkdir -p "$bin"
if [ -x "$cache" ]; then
  cp "$cache" "$bin/grpcurl"
else
  GOBIN="$bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$version" >&2
  mkdir -p "$(dirname "$cache")" && cp "$bin/grpcurl" "$cache"
fi
echo "$version" > "$stamp"
echo "$bin/grpcurl"
