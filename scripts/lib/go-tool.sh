# Sourced by scripts/install-*.sh: installs one pinned Go tool from the Go module proxy into
# .tools/<name>/bin (or $VERDICT_TOOLS_DIR/<name>/bin) and prints its path (the binary is named after the
# package's last path element). A build is kept in a per-machine
# cache (VERDICT_TOOLS_CACHE, default ~/.cache/verdict) so fresh clones on the same machine (CI) reuse it.
# A stamp file next to the binary records the installed version, so a changed pin reinstalls.
#
#   install_go_tool NAME VERSION PACKAGE [FALLBACK_FUNCTION] [-- extra go install args]
#
# FALLBACK_FUNCTION, when given, is called with the target binary path if `go install` fails.
install_go_tool() {
  local name=$1 version=$2 package=$3 fallback=${4:-}
  shift 3; [ $# -gt 0 ] && shift
  [ "${1:-}" = "--" ] && shift
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  local bin="${VERDICT_TOOLS_DIR:-$root/.tools}/$name/bin"
  local binary="$bin/${package##*/}"
  local stamp="$bin/.version"
  if [ -x "$binary" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    echo "$binary"
    return 0
  fi
  command -v go >/dev/null 2>&1 || { echo "install $name: go is missing" >&2; return 1; }
  local cache="${VERDICT_TOOLS_CACHE:-$HOME/.cache/verdict}/$name-$version"
  mkdir -p "$bin"
  if [ -x "$cache" ]; then
    cp "$cache" "$binary"
  elif GOBIN="$bin" GOFLAGS=-mod=mod go install "$@" "$package@$version" >&2; then
    :
  elif [ -n "$fallback" ]; then
    "$fallback" "$binary" || return 1
  else
    echo "cannot install $name $version from the Go module proxy ($package)" >&2
    return 1
  fi
  echo "$version" > "$stamp"
  if [ ! -x "$cache" ]; then mkdir -p "$(dirname "$cache")" && cp "$binary" "$cache"; fi
  echo "$binary"
}
