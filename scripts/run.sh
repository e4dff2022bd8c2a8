#!/usr/bin/env bash
# Sets up and runs the whole local stack in the foreground: the ML Service (FastAPI + local Ray +
# MLflow on SQLite + DuckDB warehouses, demo tenant seeded) on 127.0.0.1:8000 and the AI Service
# (NestJS, Swagger UI at /docs) on 127.0.0.1:3000. Ctrl-C stops both. Durable state lives in data/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

"$root/scripts/setup.sh"

export MLS_HOST=${MLS_HOST:-127.0.0.1}
export MLS_PORT=${MLS_PORT:-8000}
export MLS_DATA_DIR=${MLS_DATA_DIR:-$root/data}
export PORT=${PORT:-3000}
export HOST=${HOST:-127.0.0.1}
export ML_SERVICE_URL=${ML_SERVICE_URL:-http://$MLS_HOST:$MLS_PORT}
# The development key for the demo tenant; set API_KEYS yourself for anything shared.
export API_KEYS=${API_KEYS:-dev-acme-key:acme-corp,dev-globex-key:globex}

logs="$MLS_DATA_DIR/logs"
mkdir -p "$logs"

echo "[run] building the AI Service"
npm run --silent build

pids=()
stop() {
  trap - INT TERM EXIT
  echo "[run] stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

echo "[run] starting the ML Service on $ML_SERVICE_URL (log: $logs/ml-service.log)"
(cd ml-service && exec .venv/bin/python -m app) >>"$logs/ml-service.log" 2>&1 &
pids+=($!)

start=$(date +%s)
until curl -fsS "$ML_SERVICE_URL/health/ready" >/dev/null 2>&1; do
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "[run] the ML Service exited; last lines of its log:" >&2
    tail -n 30 "$logs/ml-service.log" >&2
    exit 1
  fi
  if [ $(( $(date +%s) - start )) -gt 180 ]; then
    echo "[run] the ML Service was not ready after 180 s; see $logs/ml-service.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "[run] ML Service ready after $(( $(date +%s) - start )) s"

echo "[run] starting the AI Service on http://$HOST:$PORT (log: $logs/ai-service.log)"
node dist/main.js >>"$logs/ai-service.log" 2>&1 &
pids+=($!)
until curl -fsS "http://$HOST:$PORT/health/ready" >/dev/null 2>&1; do
  if ! kill -0 "${pids[1]}" 2>/dev/null; then
    echo "[run] the AI Service exited; last lines of its log:" >&2
    tail -n 30 "$logs/ai-service.log" >&2
    exit 1
  fi
  sleep 0.3
done

cat <<MSG
[run] ready after $(( $(date +%s) - start )) s
      Swagger UI (AI Service):  http://$HOST:$PORT/docs   (Authorize with X-API-Key: dev-acme-key)
      ML Service docs:          $ML_SERVICE_URL/docs
      demo tenant:              acme-corp (tables ml_features.customer_churn, customer_value, daily_revenue)
      Ctrl-C stops both services.
MSG
wait -n "${pids[@]}"
echo "[run] a service exited; see the logs in $logs" >&2
