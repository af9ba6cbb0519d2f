#!/usr/bin/env bash
# Installs botocore (pinned) for the Python stand-in AWS endpoint the s3_signing tests run on loopback
# (test/bundle/peers/fake_aws.py), which checks Verdict's SigV4 signatures with botocore's own signer.
set -euo pipefail
version=1.43.11
python3 -c 'import botocore' 2>/dev/null && exit 0
command -v python3 >/dev/null 2>&1 || { echo "install-botocore: python3 is missing" >&2; exit 1; }
python3 -m pip --version >/dev/null 2>&1 || {
  [ "$(id -u)" -eq 0 ] || { echo "install-botocore: pip is missing and not root" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
}
python3 -m pip install --quiet --disable-pip-version-check "botocore==${version}" 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "botocore==${version}"
