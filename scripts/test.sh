#!/usr/bin/env bash
# Sets up and runs every check, fastest first: ML Service lint + pytest, AI Service lint + build +
# jest unit tests, the OpenAPI documents against the code, Schemathesis over both documents, then
# the end-to-end tests against the real local stack (real Ray, MLflow, DuckDB, XGBoost). Exits
# non-zero if anything fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

"$root/scripts/setup.sh" || exit 1

reports=$(mktemp -d "${TMPDIR:-/tmp}/ml-tests.XXXXXX")
failed_steps=()
step() {
  local name=$1; shift
  echo
  echo "=== $name"
  local t0=$(date +%s)
  if "$@"; then
    echo "=== $name: ok ($(( $(date +%s) - t0 )) s)"
  else
    echo "=== $name: FAILED ($(( $(date +%s) - t0 )) s)"
    failed_steps+=("$name")
  fi
}

py=ml-service/.venv/bin/python
step "ml-service lint (ruff)" "$py" -m ruff check ml-service/app ml-service/tests
step "ml-service tests (pytest)" bash -c "cd ml-service && .venv/bin/python -m pytest -q -p no:cacheprovider --junitxml='$reports/pytest.xml'"
step "ai-service lint (eslint)" npm run --silent lint
step "ai-service typecheck (tsc, specs and tests too)" npm run --silent typecheck
step "ai-service build (nest build)" npm run --silent build
step "ai-service unit tests (jest)" npm test --silent -- --ci --json --outputFile="$reports/jest-unit.json"
step "openapi documents match the code" npm run --silent openapi:check
step "openapi fuzzing (schemathesis, both documents, real stack)" "$py" scripts/fuzz-openapi.py "$reports"
step "end-to-end tests (jest + supertest, real stack)" npm run --silent test:e2e -- --ci --json --outputFile="$reports/jest-e2e.json"

# One closing line over every runner, so a reader (or CI) sees the whole count at once.
node scripts/test-summary.js "$reports"
if [ ${#failed_steps[@]} -gt 0 ]; then
  printf 'failed steps: %s\n' "${failed_steps[*]}"
  exit 1
fi
