#!/usr/bin/env bash
# Installs the pinned reference OPA (the test oracle and benchmark peer) into .tools/opa/bin and prints its path.
# Verdict never needs it at run time; tests and benchmarks that compare against OPA call this first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/go-tool.sh"
install_go_tool opa "$(tr -d '[:space:]' < "$here/opa-version.txt")" github.com/open-policy-agent/opa
