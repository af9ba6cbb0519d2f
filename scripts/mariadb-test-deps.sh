#!/usr/bin/env bash
# Installs MariaDB from Debian for the data-filter tests, which run MySQL WHERE clauses against a private
# instance on loopback (a temp datadir, never the package's own service). Idempotent and quick when present.
set -euo pipefail
command -v mariadb-install-db >/dev/null 2>&1 && command -v mariadb >/dev/null 2>&1 && [ -x /usr/sbin/mariadbd ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "mariadb-test-deps: mariadb-server and mariadb-client are missing and this is not root; install them with apt-get" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101 keeps the package from starting its system-wide service during install.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.verdict && chmod +x /usr/sbin/policy-rc.d.verdict
[ -e /usr/sbin/policy-rc.d ] || ln -s /usr/sbin/policy-rc.d.verdict /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
[ "$(readlink /usr/sbin/policy-rc.d 2>/dev/null)" = /usr/sbin/policy-rc.d.verdict ] && rm -f /usr/sbin/policy-rc.d
rm -f /usr/sbin/policy-rc.d.verdict
