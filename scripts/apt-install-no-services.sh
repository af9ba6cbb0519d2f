#!/usr/bin/env bash
# apt-installs Debian packages for the tests' private instances, keeping the packages' own system-wide services
# from starting (policy-rc.d 101). Usage: apt-install-no-services.sh CALLER PACKAGE...
set -euo pipefail
caller=$1
shift
if [ "$(id -u)" -ne 0 ]; then
  echo "$caller: missing $* and not root; install them with apt-get" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.verdict && chmod +x /usr/sbin/policy-rc.d.verdict
[ -e /usr/sbin/policy-rc.d ] || ln -s /usr/sbin/policy-rc.d.verdict /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends "$@" >/dev/null
[ "$(readlink /usr/sbin/policy-rc.d 2>/dev/null)" = /usr/sbin/policy-rc.d.verdict ] && rm -f /usr/sbin/policy-rc.d
rm -f /usr/sbin/policy-rc.d.verdict
