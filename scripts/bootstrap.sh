#!/usr/bin/env bash
# Creates .venv (Python >= 3.11) and installs supportbot into it; a no-op when up to date.
# Usage: scripts/bootstrap.sh [extras]   e.g. scripts/bootstrap.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      python_bin="$candidate"; break
    fi
  done
fi
if [ -z "$python_bin" ]; then
  echo "supportbot needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $python_bin" >&2
  "$python_bin" -m venv .venv
fi

spec="."
[ -n "$extras" ] && spec=".[$extras]"
want="$(cat pyproject.toml | sha256sum | cut -c1-64) $spec"
stamp=.venv/.supportbot-installed
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "installing supportbot$([ -n "$extras" ] && echo " with [$extras]") into .venv (first run takes a minute)" >&2
  # pip 23 backtracks through hundreds of boto3 releases on some resolutions; a current pip does not.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24.2"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
  echo "$want" > "$stamp"
fi
