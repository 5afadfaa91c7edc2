#!/usr/bin/env bash
# The whole check on a fresh machine: set up .venv, then ruff, mypy and pytest (warnings are errors).
# Extra arguments go to pytest, e.g. scripts/test.sh -k retrieval -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
scripts/ensure-postgres.sh

echo "== ruff" >&2
.venv/bin/ruff check supportbot tests scripts
.venv/bin/ruff format --check supportbot tests scripts
echo "== mypy" >&2
.venv/bin/mypy
echo "== pytest" >&2
.venv/bin/python -m pytest "$@"
