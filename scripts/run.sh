#!/usr/bin/env bash
# Sets up and runs the whole local stack in the foreground: the ML Service (FastAPI + local Ray +
# MLflow on SQLite + DuckDB warehouses, demo tenant seeded) on 127.0.0.1:8000 and the AI Service
# (NestJS, Swagger UI at /docs) on 127.0.0.1:3000. Ctrl-C stops both. Durable state lives in data/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

"$root/scripts/setup.sh"

source "$root/scripts/stack-env.sh"

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
"$root/scripts/ml-service.sh" >>"$logs/ml-service.log" 2>&1 &
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
# The AI Service outlives the ML Service on purpose: it then answers 503 on /health/ready and a
# clear error on ML routes, which is what a deployment sees when the ML Service is down.
(
  while kill -0 "${pids[0]}" 2>/dev/null; do sleep 2; done
  echo "[run] the ML Service stopped (log: $logs/ml-service.log); the AI Service keeps running and" \
       "reports not ready. Start the ML Service again with: ./scripts/ml-service.sh" >&2
) &
wait "${pids[1]}"
echo "[run] the AI Service exited; see $logs/ai-service.log" >&2
