#!/usr/bin/env bash
# The whole test suite: set up what it needs, lint, type-check, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
echo "== uv.lock matches pyproject.toml"
.cache/uv/bin/uv lock --check || { echo "uv.lock is out of date: run .cache/uv/bin/uv lock and commit it" >&2; exit 1; }
echo "== ruff"
.venv/bin/ruff check src tests bench
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
