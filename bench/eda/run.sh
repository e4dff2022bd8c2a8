#!/usr/bin/env bash
# Profiling through the API vs ydata-profiling (minimal) on the same rows (DESIGN §7). Creates
# bench/.venv-eda from the pinned requirements.lock (ydata-profiling pins pandas < 3, so it cannot
# share the ML Service's venv), builds the AI Service, starts a throw-away stack and removes it.
#   ./bench/eda/run.sh                 # 1M rows x 20 columns
#   ./bench/eda/run.sh --rows 10000    # a smoke run
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
venv="$root/bench/.venv-eda"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m uv venv --python 3.11 "$venv" >/dev/null
fi
python3 -m uv pip sync --quiet --python "$venv/bin/python" "$root/bench/eda/requirements.lock"
npm run --silent build >/dev/null
exec "$root/ml-service/.venv/bin/python" "$root/bench/eda/bench.py" --ydata-python "$venv/bin/python" "$@"
