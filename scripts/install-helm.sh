#!/usr/bin/env bash
# Installs the pinned helm (lint and template of deploy/helm/verdict) into .tools/helm/bin and prints its path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/go-tool.sh"
install_go_tool helm v4.3.2 helm.sh/helm/v4/cmd/helm
