#!/usr/bin/env bash
# Installs the pinned opa-envoy-plugin (the differential-test oracle and benchmark peer for Verdict's
# ext_authz server) into .tools/opa-envoy-plugin/bin and prints its path. Verdict never needs it at run time.
# First choice: go install from the Go module proxy. Where the proxy does not serve this module,
# OPA_ENVOY_PLUGIN_SRC may name a source checkout of the same tag to build from instead.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/go-tool.sh"
build_from_source() {
  if [ -n "${OPA_ENVOY_PLUGIN_SRC:-}" ] && [ -f "$OPA_ENVOY_PLUGIN_SRC/cmd/opa-envoy-plugin/main.go" ]; then
    echo "go install failed; building opa-envoy-plugin from $OPA_ENVOY_PLUGIN_SRC" >&2
    (cd "$OPA_ENVOY_PLUGIN_SRC" && go build -o "$1" ./cmd/opa-envoy-plugin) >&2
  else
    echo "cannot install opa-envoy-plugin: the Go module proxy refused it and OPA_ENVOY_PLUGIN_SRC is not set" >&2
    return 1
  fi
}
install_go_tool opa-envoy-plugin "$(tr -d '[:space:]' < "$here/opa-envoy-plugin-version.txt")" \
  github.com/open-policy-agent/opa-envoy-plugin/cmd/opa-envoy-plugin build_from_source
