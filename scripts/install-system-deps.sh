#!/usr/bin/env bash
# Debian packages the tests and the demo need: Chromium for the browser tests (Playwright's own
# browser download does not work offline), Node.js and npm for the frontend build, nginx as the
# load balancer in front of several backend replicas (tests/e2e/test_replicas.py; it runs
# unprivileged from a temporary prefix, so the system's own nginx service is never used),
# libgomp1 for LightGBM (examples/train.py).
# Installs only what is missing; without root or apt it says what to install and carries on.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 \
  || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
# LightGBM (examples/train.py, a test-only dependency) needs OpenMP's runtime
ldconfig -p 2>/dev/null | grep -q 'libgomp\.so\.1' || missing+=(libgomp1)
[ ${#missing[@]} -eq 0 ] && exit 0

as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo -n)   # e.g. GitHub's runners: passwordless sudo
if command -v apt-get >/dev/null 2>&1 && "${as_root[@]}" true 2>/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "warning: please install ${missing[*]} (e.g. sudo apt-get install ${missing[*]});" \
       "the browser and replica tests are skipped without them" >&2
fi
