#!/usr/bin/env bash
# Serving benchmark (DESIGN §7): single-row latency at fixed rates through the AI Service, directly
# against the ML Service and in-process, for a Ray Serve and an embedded deployment; batch rows/s.
# Builds the AI Service, installs the load tool (vegeta, pinned, from the Go module proxy) into
# bench/.tools, then starts its own stack on spare ports. Options: ./bench/serving/run.sh --help
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tools="$root/bench/.tools/bin"
if [ ! -x "$tools/vegeta" ]; then
  command -v go >/dev/null || { echo "vegeta needs Go to install (https://go.dev/dl)"; exit 1; }
  echo "installing vegeta into bench/.tools ..." >&2
  GOBIN="$tools" go install github.com/tsenart/vegeta/v12@v12.12.0
fi
npm run --silent build >/dev/null
exec "$root/ml-service/.venv/bin/python" "$root/bench/serving/bench_serving.py" --vegeta "$tools/vegeta" "$@"
