#!/usr/bin/env bash
# Prepare a machine for Fjord: a virtualenv with Fjord and the exact Python dependencies of
# uv.lock, and (with --test) the tools the test suite drives: kcat and prometheus from Debian, node packages
# for kafkajs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# Python packages: exactly the versions in uv.lock — what CI ran — installed by uv (from PyPI,
# pinned below) into .venv. After changing dependencies in pyproject.toml, regenerate the lock
# in the same commit with:  .cache/uv/bin/uv lock   (then commit uv.lock)
UV_VERSION=0.13.8
UV=.cache/uv/bin/uv
if [ ! -x "$UV" ] || [ "$("$UV" --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  echo "== installing uv $UV_VERSION"
  "$PY" -m venv .cache/uv
  .cache/uv/bin/pip install -q --disable-pip-version-check "uv==$UV_VERSION" 2>&1 | grep -v '^WARNING: Location' || true
fi
echo "== installing Python packages (uv.lock)"
"$UV" sync --frozen --extra test --python "$PY" --quiet
.venv/bin/python -c "import fjord, kio, confluent_kafka" || { echo "Python install failed" >&2; exit 1; }
if [ "${1:-}" = "--test" ]; then
  if ! command -v kcat >/dev/null 2>&1; then
    echo "== installing kcat (apt-get)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq kcat >/dev/null
  fi
  command -v kcat >/dev/null || { echo "kcat is required by the tests and could not be installed" >&2; exit 1; }
  # Real database servers for the JDBC/CDC tests: PostgreSQL (image binaries) and MariaDB.
  missing_db=""
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing_db="$missing_db postgresql"
  [ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null 2>&1 || missing_db="$missing_db mariadb-server"
  if [ -n "$missing_db" ]; then
    echo "== installing$missing_db (apt-get)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq $missing_db >/dev/null
  fi
  if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    echo "== installing prometheus and promtool (apt-get)"  # the observability tests scrape with them
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq prometheus >/dev/null
  fi
  command -v promtool >/dev/null || { echo "prometheus is required by the tests and could not be installed" >&2; exit 1; }
  if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing chromium (apt-get)"  # the console's browser tests drive Debian's chromium
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null
  fi
  command -v chromium >/dev/null || { echo "chromium is required by the tests and could not be installed" >&2; exit 1; }
  if [ -f tests/compat/js/package.json ]; then
    echo "== installing node packages for the kafkajs tests"
    (cd tests/compat/js && npm install --silent --no-audit --no-fund >/dev/null)
  fi
fi
