#!/usr/bin/env bash
# Installs the pinned kubeconform (validates the rendered Kubernetes manifests) into .tools/kubeconform/bin and
# prints its path. Its schemas come from scripts/k8s-schemas.mjs, not from the network.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/go-tool.sh"
install_go_tool kubeconform v0.8.0 github.com/yannh/kubeconform/cmd/kubeconform
