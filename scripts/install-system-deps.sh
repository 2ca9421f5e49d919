#!/usr/bin/env bash
# Debian packages the tests and the demo need: Chromium for the browser tests (Playwright's own
# browser download does not work offline), Node.js and npm for the frontend build.
# Installs only what is missing; without root or apt it says what to install and carries on.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "warning: please install ${missing[*]} (e.g. sudo apt-get install ${missing[*]});" \
       "the browser tests are skipped without them" >&2
fi
