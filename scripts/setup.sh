#!/usr/bin/env bash
# One command on a fresh machine (Debian or Ubuntu, as root): MariaDB and Redis
# installed where missing and started where down, Node 24 where the machine's is
# older, then the project's dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
source scripts/node-env.sh
npm ci --no-audit --no-fund
