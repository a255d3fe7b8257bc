#!/usr/bin/env bash
# One command on a fresh machine (Debian or Ubuntu, as root): MariaDB and Redis
# installed where missing and started where down, Debian's Chromium (for the web
# client's browser tests) where missing, Node 24 where the machine's is older, then
# the project's dependencies and the web client's (web/). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
# Playwright's own browser download cannot work here: test/web drives Debian's.
if [[ ! -x /usr/bin/chromium ]]; then
  echo "setup: installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
source scripts/node-env.sh
npm ci --no-audit --no-fund
(cd web && npm ci --no-audit --no-fund)
