#!/usr/bin/env bash
# Installs MariaDB from Debian for the data-filter tests, which run MySQL WHERE clauses against a private
# instance on loopback (a temp datadir, never the package's own service). Idempotent and quick when present.
set -euo pipefail
command -v mariadb-install-db >/dev/null 2>&1 && command -v mariadb >/dev/null 2>&1 && [ -x /usr/sbin/mariadbd ] && exit 0
exec "$(dirname "$0")/apt-install-no-services.sh" mariadb-test-deps mariadb-server mariadb-client
