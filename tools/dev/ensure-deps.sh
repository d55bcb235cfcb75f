#!/bin/sh
# Installs what `npm start` and `npm test` need on a fresh clone of a fresh Debian machine:
# npm dependencies (which bring Node 24 as the `node` package), and for tests the Debian
# packages the suites drive for real (chromium for the playground, redis-server for the queues,
# postgresql for the agents' checkpoints and store, python3-jsonpatch for LangServe's client-side
# patching); `--images` (npm run test:images) only npm's and redis-server (the containers' Redis
# runs on the host; test-images installs podman itself). As root it installs them;
# otherwise it says exactly what to install.
set -eu
cd "$(dirname "$0")/../.."

if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "runnel: installing npm dependencies…"
  # Not `npm ci`: the lockfile lacks a few other platforms' optional binaries (absent from the
  # registry these machines reach), which npm ci refuses; `npm install` installs the locked versions.
  npm install --no-audit --no-fund
fi

missing=""
if [ "${1:-}" = "--test" ]; then
  [ -x /usr/bin/chromium ] || missing="$missing chromium"
  # The gateway's stream_log patches are applied by the jsonpatch LangServe's Python client uses.
  /usr/bin/python3 -c 'import jsonpatch' >/dev/null 2>&1 || missing="$missing python3-jsonpatch"
fi
# npm start runs Redis locally when none answers at REDIS_URL; the tests and test:images always do.
if [ "${1:-}" = "--test" ] || [ "${1:-}" = "--images" ] || [ -z "${REDIS_URL:-}" ]; then
  command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
fi
# Likewise PostgreSQL when POSTGRES_URI is unset: Debian's server binaries, whichever major version.
has_postgres() {
  for bin in /usr/lib/postgresql/*/bin/postgres; do [ -x "$bin" ] && return 0; done
  return 1
}
if [ "${1:-}" = "--test" ] || { [ "${1:-}" != "--images" ] && [ -z "${POSTGRES_URI:-}" ]; }; then
  has_postgres || missing="$missing postgresql"
fi

if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "runnel: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "runnel: missing Debian packages:$missing" >&2
    echo "runnel: install them with: sudo apt-get install -y$missing" >&2
    exit 1
  fi
fi
