#!/usr/bin/env bash
# Installs the pinned OPA built with its WebAssembly engine (cgo, build tag opa_wasm) into .tools/opa-wasm/bin
# (or $VERDICT_TOOLS_DIR/opa-wasm/bin) and prints its path. The reference OPA (install-opa.sh) is built
# without cgo and cannot serve bundles holding a policy.wasm ("engine not found"); tests that compare how such
# bundles are served use this one. Needs a C compiler. A build is also kept in a per-machine cache
# (VERDICT_TOOLS_CACHE, default ~/.cache/verdict), since the cgo build takes minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d '[:space:]' < "$root/scripts/opa-version.txt")
bin="${VERDICT_TOOLS_DIR:-$root/.tools}/opa-wasm/bin"
if [ -x "$bin/opa" ] && "$bin/opa" version 2>/dev/null | grep -q "^Version: ${version#v}$"; then
  echo "$bin/opa"
  exit 0
fi
cache="${VERDICT_TOOLS_CACHE:-$HOME/.cache/verdict}/opa-wasm-$version"
mkdir -p "$bin"
if [ -x "$cache" ]; then
  cp "$cache" "$bin/opa"
else
  GOBIN="$bin" CGO_ENABLED=1 GOFLAGS=-mod=mod go install -tags opa_wasm "github.com/open-policy-agent/opa@$version" >&2
  mkdir -p "$(dirname "$cache")" && cp "$bin/opa" "$cache"
fi
if ! "$bin/opa" version | grep -q '^WebAssembly: available$'; then
  echo "install-opa-wasm.sh: the OPA built has no WebAssembly engine" >&2
  exit 1
fi
echo "$bin/opa"
