#!/usr/bin/env bash
# Installs, once, the system packages that motcua's tests need. Idempotent: what is
# already present is not touched, and apt is only called when something is missing.
#   postgresql, postgresql-client  the second backend of the test suite (and pg_dump)
#   python3-aiosmtpd               a real local SMTP server for the email tests
#   nodejs, npm                    a real local OpenID provider (npm's oidc-provider)
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

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
