#!/usr/bin/env bash
# Runs the MLflow UI on the ML Service's own store (the same runs, models and registry the API
# shows), at http://127.0.0.1:5000 by default. It reads data/ while the ML Service runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/stack-env.sh"
port=${MLFLOW_UI_PORT:-5000}
db="$MLS_DATA_DIR/mlflow/mlflow.db"
if [ ! -f "$db" ]; then
  echo "[mlflow-ui] no MLflow store at $db yet: start the stack once (./scripts/run.sh)" >&2
  exit 1
fi
echo "[mlflow-ui] http://127.0.0.1:$port (store: $db)"
exec "$root/ml-service/.venv/bin/mlflow" ui --backend-store-uri "sqlite:///$db" \
  --host 127.0.0.1 --port "$port"
