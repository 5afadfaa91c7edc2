#!/usr/bin/env bash
# A newcomer's first command: set up .venv, then run the scripted end-to-end demo on embedded
# defaults (bundled embedder, local Chroma and SQLite, a fake Slack workspace; no accounts needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/supportbot demo "$@"
