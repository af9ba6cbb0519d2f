#!/usr/bin/env bash
# Installs go-containerregistry's `crane` (pinned) into .tools/crane/bin for the OCI bundle tests, which run
# `crane registry serve` on loopback and push bundles with `crane append`. Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/go-tool.sh"
version=v0.22.1
install_go_tool crane "$version" github.com/google/go-containerregistry/cmd/crane "" -- \
  -ldflags "-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=${version}"
