#!/usr/bin/env bash
# Installs the pinned OPA built with its WebAssembly engine (cgo, build tag opa_wasm) into .tools/opa-wasm/bin
# and prints its path. The reference OPA (install-opa.sh) is built without cgo and cannot serve bundles holding
# a policy.wasm ("engine not found"); tests that compare how such bundles are served use this one. Needs a C
# compiler; the build takes minutes, so the per-machine cache matters here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/go-tool.sh"
opa=$(CGO_ENABLED=1 install_go_tool opa-wasm "$(tr -d '[:space:]' < "$here/opa-version.txt")" \
  github.com/open-policy-agent/opa "" -- -tags opa_wasm)
if ! "$opa" version | grep -q '^WebAssembly: available$'; then
  echo "install-opa-wasm.sh: the OPA built has no WebAssembly engine" >&2
  exit 1
fi
echo "$opa"
