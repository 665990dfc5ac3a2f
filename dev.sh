#!/usr/bin/env bash
# ccus-portal developer entry point. Every command installs what it needs first (idempotent):
#   ./dev.sh run            start the portal with demo data on SQLite: http://127.0.0.1:8080
#   ./dev.sh test           run the whole test suite: SQLite and PostgreSQL side by side (a local PostgreSQL server;
#                           started if none answers)
#   ./dev.sh test ARGS      pytest ARGS on SQLite only (one file, one test: -k …)
#   ./dev.sh test-postgres  the database tests on PostgreSQL only
#   ./dev.sh bench          run the benchmarks (bench/), results written to bench/results/
#   ./dev.sh setup          only install
#   ./dev.sh test-latest    the whole suite (SQLite and PostgreSQL) against the newest versions pyproject allows
#   ./dev.sh lock           the same, then write those versions to constraints.txt when every test passed
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV=${CCUS_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3.11}
# constraints.txt pins every package version the whole suite passed with: installs are the same on every machine
# until someone refreshes it (./dev.sh lock). CCUS_UNLOCKED=1 installs the newest versions the ranges allow instead.
LOCK="$ROOT/constraints.txt"
UNLOCKED=${CCUS_UNLOCKED:-}

# Debian packages: the browser for the browser tests, PC/SC for the card reader, Japanese fonts for PDFs,
# poppler to read PDFs back, the Python venv module.
APT_PACKAGES=(python3-venv python3-dev build-essential chromium pcscd libpcsclite-dev swig vsmartcard-vpcd
              fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 redis-server)

need_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing Debian packages: ${missing[*]}"
      apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    else
      echo "Missing Debian packages (run as root, or: sudo apt-get install ${missing[*]})" >&2
      exit 1
    fi
  fi
}

setup() {
  command -v "$PY" >/dev/null || PY=python3
  "$PY" -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11 or newer is needed"'
  need_apt
  local stamp="$VENV/.installed"
  local inputs pin=()
  [ -n "$UNLOCKED" ] || pin=(-c "$LOCK")
  inputs=$( (cat pyproject.toml plugins/*/pyproject.toml; [ -n "$UNLOCKED" ] && echo unlocked || cat "$LOCK") 2>/dev/null \
           | sha256sum | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then return; fi
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade "${pin[@]}" pip 'setuptools<82' wheel
  "$VENV/bin/pip" install -q "${pin[@]}" -e ".[test]"
  # face_recognition: dlib from the prebuilt dlib-bin wheel (compiling dlib takes ten minutes), then
  # face_recognition itself without its dlib dependency.
  "$VENV/bin/pip" install -q "${pin[@]}" dlib-bin face-recognition-models
  "$VENV/bin/pip" install -q "${pin[@]}" --no-deps face_recognition
  # each plugin with the dependencies its pyproject lists (face_recognition, installed above, is not among them),
  # and its test extra where it has one
  for p in plugins/*/; do
    [ -f "$p/pyproject.toml" ] || continue
    extra=""; grep -q '^test = ' "$p/pyproject.toml" && extra="[test]"
    "$VENV/bin/pip" install -q "${pin[@]}" -e "${p%/}$extra"
  done
  echo "$inputs" > "$stamp"
}

# Every installed distribution but the project's own packages (editable), pip and setuptools included.
freeze() {
  "$VENV/bin/pip" freeze --all --exclude-editable | grep -v '^-e ' | LC_ALL=C sort -f
}

# The whole suite against the newest versions the ranges allow, in a venv of its own (.venv-latest): the weekly
# CI run (.ci/weekly) and the first half of ./dev.sh lock.
test_latest() {
  VENV=${CCUS_VENV:-$ROOT/.venv-latest}
  UNLOCKED=1
  rm -rf "$VENV"
  setup
  ensure_redis
  ensure_postgres
  ensure_test_database
  CCUS_UNLOCKED=1 "$VENV/bin/pytest" -p no:cacheprovider "$@"
  CCUS_UNLOCKED=1 CCUS_TEST_DATABASE_URL=$POSTGRES_URL \
    "$VENV/bin/pytest" -p no:cacheprovider -m "not browser and not once" "$@"
}

ensure_redis() {
  if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    echo "starting redis-server on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    sleep 1
  fi
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "PostgreSQL is needed: sudo apt-get install postgresql" >&2; exit 1; }
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
  fi
  local ver
  ver=$(ls /etc/postgresql | sort -V | tail -1)
  # trust on loopback: a throwaway local test server, as on the CI machines
  sed -i 's/^\(host\s\+all\s\+all\s\+127.0.0.1\/32\s\+\)\S\+/\1trust/' "/etc/postgresql/$ver/main/pg_hba.conf"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || pg_ctlcluster "$ver" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  echo "PostgreSQL did not start" >&2; exit 1
}

ensure_test_database() {
  psql -h 127.0.0.1 -U postgres -tc "select 1 from pg_database where datname = 'ccus_test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "create database ccus_test"
}

# The two passes of the whole suite run side by side: each pytest process keeps one core busy at most (much of
# the suite waits on subprocesses, browsers and servers), so on two cores both take about as long as one alone.
# The PostgreSQL pass leaves out the browser tests and those marked once (the same on both). Each
# has its own temporary folder; their output is interleaved line by line with a [sqlite] or [postgres]
# prefix, and each ends with its own summary.
POSTGRES_URL=${CCUS_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/ccus_test}
test_both() {
  setup
  ensure_redis
  ensure_postgres
  ensure_test_database
  local tmp
  tmp=$(mktemp -d /tmp/ccus-test.XXXXXX)
  export CCUS_REQUIRE_ALL=1  # a test whose part (Redis, PostgreSQL's binaries) is missing fails instead of skipping
  ( set -o pipefail; env -u CCUS_TEST_DATABASE_URL "$VENV/bin/pytest" -p no:cacheprovider --basetemp "$tmp/sqlite" 2>&1 | sed -u 's/^/[sqlite] /' ) &
  local sqlite=$!
  ( set -o pipefail; CCUS_TEST_DATABASE_URL=$POSTGRES_URL "$VENV/bin/pytest" -p no:cacheprovider -m "not browser and not once" \
      --basetemp "$tmp/postgres" 2>&1 | sed -u 's/^/[postgres] /' ) &
  local postgres=$!
  local rc_sqlite=0 rc_postgres=0
  wait "$sqlite" || rc_sqlite=$?
  wait "$postgres" || rc_postgres=$?
  rm -rf "$tmp"
  echo "whole suite: SQLite pass exit $rc_sqlite, PostgreSQL pass exit $rc_postgres"
  [ "$rc_sqlite" = 0 ] && [ "$rc_postgres" = 0 ]
}

cmd=${1:-help}; shift || true
case "$cmd" in
  setup) setup ;;
  run)
    setup
    exec "$VENV/bin/ccus" run "$@" ;;
  test)
    if [ $# -eq 0 ]; then test_both; exit; fi
    setup
    ensure_redis
    exec "$VENV/bin/pytest" "$@" ;;
  test-postgres)
    setup
    ensure_redis
    ensure_postgres
    ensure_test_database
    CCUS_TEST_DATABASE_URL=$POSTGRES_URL exec "$VENV/bin/pytest" -m "not browser and not once" "$@" ;;
  bench)
    setup
    ensure_postgres
    exec "$VENV/bin/python" -m bench "$@" ;;
  test-latest) test_latest "$@" ;;
  lock)
    [ $# -eq 0 ] || { echo "./dev.sh lock runs the whole suite: it takes no arguments" >&2; exit 2; }
    test_latest
    { echo "# Every package version the whole suite passed with (./dev.sh lock wrote it on $(date -u +%F), Python"
      echo "# $("$VENV/bin/python" -c 'import platform; print(platform.python_version(), platform.machine())')). dev.sh installs with -c constraints.txt; pyproject.toml keeps the ranges."
      freeze; } > "$LOCK"
    echo "constraints.txt written: $(grep -vc '^#' "$LOCK") packages" ;;
  freeze) freeze ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
