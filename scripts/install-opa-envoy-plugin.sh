#!/usr/bin/env bash
# Installs the pinned opa-envoy-plugin (the differential-test oracle and benchmark peer for Verdict's
# ext_authz server) into .tools/opa-envoy-plugin/bin and prints its path. Verdict never needs it at run time.
# First choice: go install from the Go module proxy. Where the proxy does not serve this module,
# OPA_ENVOY_PLUGIN_SRC may name a source checkout of the same tag to build from instead. A build is
# also kept in a per-machine cache (VERDICT_TOOLS_CACHE, default ~/.cache/verdict) so fresh clones
# on the same machine (CI) find it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d '[:space:]' < "$root/scripts/opa-envoy-plugin-version.txt")
bin="$root/.tools/opa-envoy-plugin/bin"
stamp="$bin/.version"
if [ -x "$bin/opa-envoy-plugin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "$bin/opa-envoy-plugin"
  exit 0
fi
cache="${VERDICT_TOOLS_CACHE:-$HOME/.cache/verdict}/opa-envoy-plugin-$version"
mkdir -p "$bin"
if [ -x "$cache" ]; then
  cp "$cache" "$bin/opa-envoy-plugin"
elif GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa-envoy-plugin/cmd/opa-envoy-plugin@$version" >&2; then
  :
elif [ -n "${OPA_ENVOY_PLUGIN_SRC:-}" ] && [ -f "$OPA_ENVOY_PLUGIN_SRC/cmd/opa-envoy-plugin/main.go" ]; then
  echo "go install failed; building opa-envoy-plugin from $OPA_ENVOY_PLUGIN_SRC (expected to be $version)" >&2
  (cd "$OPA_ENVOY_PLUGIN_SRC" && go build -o "$bin/opa-envoy-plugin" ./cmd/opa-envoy-plugin) >&2
else
  echo "cannot install opa-envoy-plugin $version: the Go module proxy refused it and OPA_ENVOY_PLUGIN_SRC is not set" >&2
  exit 1
fi
echo "$version" > "$stamp"
if [ ! -x "$cache" ]; then mkdir -p "$(dirname "$cache")" && cp "$bin/opa-envoy-plugin" "$cache"; fi
echo "$bin/opa-envoy-plugin"
