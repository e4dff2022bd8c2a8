#!/usr/bin/env bash
# Issue 11's eight-query reproducer, measured (bench/warehouse/bench.py). Builds the AI Service,
# then starts its own stack on spare ports with a throw-away data folder and removes it after.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
npm run --silent build >/dev/null
exec "$root/ml-service/.venv/bin/python" "$root/bench/warehouse/bench.py" "$@"
