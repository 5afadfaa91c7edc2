#!/usr/bin/env bash
# The store tests start a throwaway PostgreSQL server (initdb + pg_ctl on a temp dir and port).
# They need the server binaries; install Debian's package when they are missing and we may.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing PostgreSQL server binaries (apt-get install postgresql)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
  exit 0
fi
echo "PostgreSQL server binaries (initdb, pg_ctl) are needed by the store tests:" >&2
echo "install your distribution's postgresql package, or set SUPPORTBOT_PG_BIN to their folder" >&2
exit 1
