#!/usr/bin/env bash
# Install (first time) and run Fjord on its embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/fjord up "$@"
