#!/usr/bin/env bash
# Installs the Debian packages the integration tests start for real on loopback: nginx (bundle polling with
# ETags, auth_request in front of Verdict), slapd + ldap-utils and PostgreSQL (PIP adapters), openssl (test
# certificates), MariaDB (data filters), curl (a TLS client in the HTTPS tests), gcc (cgo, for install-opa-wasm.sh), chromium (the decision-log page, driven by playwright-core), systemd (`systemd-analyze verify` of the unit in deploy/). Idempotent; the packages' own
# system services are kept from starting.
set -euo pipefail
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# A C compiler: scripts/install-opa-wasm.sh builds OPA with cgo (its WebAssembly engine).
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
[ ${#need[@]} -eq 0 ] || {
  [ "$(id -u)" -eq 0 ] || { echo "install-system-deps: missing ${need[*]} and not root" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}
# MariaDB (the data-filter tests run MySQL WHERE clauses on it), its service kept from starting as well.
"$(dirname "$0")/mariadb-test-deps.sh"
# slapd, ldap-utils and PostgreSQL: the PIP tests' own script keeps their services from starting during install.
exec "$(dirname "$0")/pip-test-deps.sh"
