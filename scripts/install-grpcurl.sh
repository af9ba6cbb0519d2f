#!/usr/bin/env bash
# Installs the pinned grpcurl (the gRPC reflection client the Envoy ext_authz tests drive) into
# .tools/grpcurl/bin and prints its path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/go-tool.sh"
install_go_tool grpcurl "$(tr -d '[:space:]' < "$here/grpcurl-version.txt")" github.com/fullstorydev/grpcurl/cmd/grpcurl
