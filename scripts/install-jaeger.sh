#!/usr/bin/env bash
# Installs Jaeger (pinned; the binary built on the OpenTelemetry Collector) into .tools/jaeger/bin for the
# tracing end-to-end test, which starts it on loopback with its in-memory store, exports spans to its OTLP
# receivers and reads the traces back through its query API. Prints the binary's path.
#
# Jaeger's go.mod carries replace directives, so `go install pkg@version` refuses it; the fallback downloads
# the module from the Go module proxy and builds the command inside it, where those directives apply.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/go-tool.sh"
version=v1.75.0
build_in_module() {
  local target=$1 dir work
  dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/jaegertracing/jaeger@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "install jaeger: go mod download gave no directory" >&2; return 1; }
  work=$(mktemp -d)
  cp -r "$dir/." "$work" && chmod -R u+w "$work"
  local status=0
  (cd "$work" && go build -trimpath -o "$target" ./cmd/jaeger) >&2 || status=$?
  rm -rf "$work"
  return "$status"
}
install_go_tool jaeger "$version" github.com/jaegertracing/jaeger/cmd/jaeger build_in_module
