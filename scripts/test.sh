#!/usr/bin/env bash
# Runs the whole test suite: formatting, clippy, and every test against a real PostgreSQL and SQLite.
#
# PostgreSQL: uses KONSORTIUM_TEST_PG if set; otherwise 127.0.0.1:5432 (user postgres, trust auth).
# If nothing listens there it starts the machine's cluster, or installs PostgreSQL from the
# distribution's packages and runs a private cluster in $TMPDIR/konsortium-pg-test (port 54329).
# Database tests are never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test] %s\n' "$*" >&2; }

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() {
  for _ in $(seq 1 60); do listening "$1" "$2" && return 0; sleep 0.5; done
  return 1
}

find_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

private_cluster() {
  # Outside the checkout: as root the cluster runs as the postgres user, who may not reach it.
  local bin port=54329 dir="${TMPDIR:-/tmp}/konsortium-pg-test"
  bin=$(find_pg_bin)
  if [ -z "$bin" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "installing PostgreSQL from the distribution's packages"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      bin=$(find_pg_bin)
    fi
  fi
  [ -n "$bin" ] || { log "no PostgreSQL found and none could be installed: set KONSORTIUM_TEST_PG"; exit 1; }
  listening 127.0.0.1 "$port" && { export KONSORTIUM_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres"; return; }
  # initdb refuses to run as root: run the private cluster as the postgres user when we are root.
  local run=()
  if [ "$(id -u)" = 0 ]; then id postgres >/dev/null 2>&1 || useradd --system postgres; run=(runuser -u postgres --); fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "creating a private PostgreSQL cluster in $dir"
    mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres "$dir"
    "${run[@]}" "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
  fi
  log "starting the private PostgreSQL cluster on port $port"
  "${run[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" -w start >/dev/null
  export KONSORTIUM_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres"
}

if [ -z "${KONSORTIUM_TEST_PG:-}" ]; then
  if ! listening 127.0.0.1 5432 && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    log "starting the machine's PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    wait_for 127.0.0.1 5432 || true
  fi
  if listening 127.0.0.1 5432; then
    export KONSORTIUM_TEST_PG="postgres://postgres@127.0.0.1:5432/postgres"
  else
    private_cluster
  fi
fi
log "PostgreSQL for tests: $KONSORTIUM_TEST_PG"

# The Peppol validator (tests/peppol/validate.py) needs saxonche and xmlschema: installed once into a
# virtual environment under target/, which the invoicing tests use. Validation is never skipped.
venv=target/peppol-venv
if ! "$venv/bin/python" -c 'import saxonche, xmlschema' 2>/dev/null; then
  log "installing the Peppol validator's Python packages into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet saxonche xmlschema
fi

# The browser tests (tests/tests/browser.rs) drive headless Chromium through chromedriver: Debian's
# chromium and chromium-driver, installed when missing. The browser tests are never skipped.
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
  log "installing Chromium and chromedriver from the distribution's packages"
  sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
