#!/usr/bin/env bash
# Runs the ML Service alone in the foreground (after scripts/setup.sh), with the local stack's
# settings: e.g. to start it again while the AI Service of scripts/run.sh keeps running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/stack-env.sh"
cd "$root/ml-service"
echo "[ml-service] listening on $ML_SERVICE_URL (data: $MLS_DATA_DIR)"
exec .venv/bin/python -m app
