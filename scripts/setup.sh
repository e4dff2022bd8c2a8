#!/usr/bin/env bash
# Installs everything the project needs, from the pinned lock files, into the repository:
# node_modules/ (npm ci), ml-service/.venv (uv, from ml-service/requirements.lock) and
# ml-service/feature-store/.venv (uv, from ml-service/feature-store/requirements.lock).
# Safe to run again: each half is skipped while its lock file is unchanged.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

UV_VERSION=0.13.9
PYTHON_VERSION=3.11

log() { printf '[setup] %s\n' "$*"; }

need() { command -v "$1" >/dev/null 2>&1 || { echo "[setup] $1 is required but not installed" >&2; exit 1; }; }
need node
need npm
need python3

# uv installs the 370 pinned wheels in seconds where pip takes minutes; it comes from PyPI, pinned.
if ! python3 -m uv --version 2>/dev/null | grep -q "uv $UV_VERSION"; then
  log "installing uv $UV_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

stamp() { sha256sum "$1" | cut -d' ' -f1; }

venv=ml-service/.venv
lock=ml-service/requirements.lock
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.lock-stamp" 2>/dev/null)" != "$(stamp "$lock")" ]; then
  log "creating the ML Service environment ($venv) from $lock"
  [ -x "$venv/bin/python" ] || python3 -m uv venv --quiet --python "$PYTHON_VERSION" "$venv"
  python3 -m uv pip sync --quiet --python "$venv/bin/python" "$lock"
  # Every Ray worker process imports Ray, pandas and XGBoost; without byte-code on disk (and
  # PYTHONDONTWRITEBYTECODE is set on some machines) each one recompiles them at start-up.
  "$venv/bin/python" -m compileall -q -j 0 "$venv/lib" >/dev/null || true
  stamp "$lock" > "$venv/.lock-stamp"
else
  log "ML Service environment is up to date"
fi

# Feast (feature sets) has its own environment: it needs pandas < 3, the ML Service pins pandas 3
# (docs/architecture.md, "Feature store"). The ML Service runs ml-service/feature-store/feast_worker.py
# with it.
feast_venv=ml-service/feature-store/.venv
feast_lock=ml-service/feature-store/requirements.lock
if [ ! -x "$feast_venv/bin/python" ] || [ "$(cat "$feast_venv/.lock-stamp" 2>/dev/null)" != "$(stamp "$feast_lock")" ]; then
  log "creating the feature store environment ($feast_venv) from $feast_lock"
  [ -x "$feast_venv/bin/python" ] || python3 -m uv venv --quiet --python "$PYTHON_VERSION" "$feast_venv"
  python3 -m uv pip sync --quiet --python "$feast_venv/bin/python" "$feast_lock"
  # Feast's import takes ~10 s with byte-code on disk and far longer without.
  "$feast_venv/bin/python" -m compileall -q -j 0 "$feast_venv/lib" >/dev/null || true
  stamp "$feast_lock" > "$feast_venv/.lock-stamp"
else
  log "feature store environment is up to date"
fi

if [ ! -d node_modules ] || [ "$(cat node_modules/.lock-stamp 2>/dev/null)" != "$(stamp package-lock.json)" ]; then
  log "installing node modules from package-lock.json"
  # `npm ci` installs exactly the lock and never rewrites it. The lock lists every platform's
  # optional native bindings (e.g. @unrs/resolver-binding-*, a jest dependency); npm skips the
  # other platforms' entries without asking the registry for them, so what the registry happens
  # to serve for other platforms cannot break the install (checked with a registry proxy that
  # refuses them). A lock written where those entries were missing is what `npm ci` refuses.
  npm ci --no-audit --no-fund --loglevel=error
  stamp package-lock.json > node_modules/.lock-stamp
else
  log "node modules are up to date"
fi
log "done"
