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

if [ "$(id -u)" -ne 0 ]; then
  echo "pip-test-deps: missing ${need[*]} and not root; install them with apt-get" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101 keeps the packages from starting their system-wide services during install.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.verdict && chmod +x /usr/sbin/policy-rc.d.verdict
[ -e /usr/sbin/policy-rc.d ] || ln -s /usr/sbin/policy-rc.d.verdict /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
[ "$(readlink /usr/sbin/policy-rc.d 2>/dev/null)" = /usr/sbin/policy-rc.d.verdict ] && rm -f /usr/sbin/policy-rc.d
rm -f /usr/sbin/policy-rc.d.verdict
