#!/usr/bin/env bash
# The same 32-trial random-search sweep with ASHA and with FIFO (DESIGN §7). Builds the AI
# Service, then starts its own stack on spare ports with a throw-away data folder (or uses
# BENCH_AI_URL/BENCH_ML_URL), and removes it afterwards. Options: ./bench/tuning/run.sh --help
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [ -z "${BENCH_AI_URL:-}" ]; then
  npm run --silent build >/dev/null
fi
exec "$root/ml-service/.venv/bin/python" "$root/bench/tuning/bench.py" "$@"
