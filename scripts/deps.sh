#!/usr/bin/env bash
# Installs, once, the system packages that motcua's tests need. Idempotent: what is
# already present is not touched, and apt is only called when something is missing.
#   postgresql, postgresql-client  the second backend of the test suite (and pg_dump)
#   python3-aiosmtpd               a real local SMTP server for the email tests
#   nodejs, npm                    a real local OpenID provider (npm's oidc-provider)
#   poppler-utils                  pdftotext and pdftoppm, to read back the official forms (PDF)
#                                  that the forms tests render
#   zbar-tools                     zbarimg, an independent reader of the VietQR codes drawn on
#                                  fee notices (PDF) and the payment page (issue 24)
#   chromium                       the browser of the e2e tests (driven by npm's playwright-core;
#                                  Debian's build, never a downloaded one)
#   make                           builds the jemalloc allocator the binary links (with the C
#                                  compiler every Rust setup on Debian has)
#   python3-venv                   a virtual environment for moto[server] (from PyPI), a real
#                                  local S3-compatible server for the object store tests, in
#                                  /var/tmp/motcua-venv (or $MOTCUA_TEST_VENV), and schemathesis
#                                  (PyPI) in the same environment
#   softhsm2                       a software PKCS#11 token holding the test keys of the digital
#                                  signature tests (issue 22); pyHanko and its command line
#                                  (PyPI, in the same environment) check those signatures
#                                  independently, with poppler's pdfsig
#   nginx                          the reverse proxy in front of two `motcua serve` nodes in the
#                                  two-node test (issue 26); the test runs its own instance
#                                  on a loopback port, never the system service
set -euo pipefail

missing=()
need_package() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1")
}
need_package postgresql
need_package postgresql-client
need_package python3-aiosmtpd
# Node may come from another source (e.g. NodeSource, which bundles npm): only a missing
# `node` or `npm` command asks for Debian's packages.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
need_package make
need_package python3-venv
need_package poppler-utils
need_package zbar-tools
need_package chromium
need_package softhsm2
need_package nginx

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# moto is not packaged by Debian: a virtual environment of Debian's python3 holds it, kept
# outside the work tree so that every clone shares it. Created and filled only when moto
# cannot be imported from it.
venv="${MOTCUA_TEST_VENV:-/var/tmp/motcua-venv}"
if ! "$venv/bin/python" -c 'import moto.server' >/dev/null 2>&1; then
  echo "deps: installing moto[server] into $venv"
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
fi
# schemathesis (scripts/schemathesis.sh: hostile requests generated from the OpenAPI
# document), pinned so that a run means the same from one day to the next.
schemathesis_version=4.32.5
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $schemathesis_version" ]; then
  echo "deps: installing schemathesis $schemathesis_version into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi
# pyHanko (issue 22: an independent validator and signer of PAdES signatures), pinned like
# schemathesis. The command line lives in its own package.
pyhanko_version=0.38.0
pyhanko_cli_version=0.6.0
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('pyHanko') != '$pyhanko_version' or m.version('pyhanko-cli') != '$pyhanko_cli_version')" >/dev/null 2>&1; then
  echo "deps: installing pyHanko $pyhanko_version into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pyHanko==$pyhanko_version" "pyhanko-cli==$pyhanko_cli_version"
fi
# Certomancer (by pyHanko's author; issue 22's B-T and revocation tests): a test PKI from a
# YAML file, serving a time-stamp authority, OCSP responders and CRLs over HTTP.
certomancer_version=0.16.0
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys, werkzeug; sys.exit(m.version('certomancer') != '$certomancer_version')" >/dev/null 2>&1; then
  echo "deps: installing certomancer $certomancer_version into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "certomancer[web-api]==$certomancer_version"
fi
