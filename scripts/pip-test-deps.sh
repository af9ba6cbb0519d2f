#!/usr/bin/env bash
# Installs the real policy information points the PIP tests start on loopback: OpenLDAP's slapd (+ ldap-utils)
# and PostgreSQL, from Debian packages (and openssl for test certificates). Idempotent and quick when they are already there. The packages' own
# service instances are not used: the tests run private, unprivileged instances in temp dirs.
set -euo pipefail

need=()
command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || need+=(ldap-utils)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v openssl >/dev/null 2>&1 || need+=(openssl)   # test certificates for LDAP over TLS
[ ${#need[@]} -eq 0 ] && exit 0

exec "$(dirname "$0")/apt-install-no-services.sh" pip-test-deps "${need[@]}"
