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

# python_env NAME VENV LOCK: (re)creates VENV from LOCK when the lock changed since the last sync.
# Byte-code is compiled up front: every Ray worker imports Ray, pandas and XGBoost, and Feast's own
# import takes ~10 s with byte-code on disk and far longer without (PYTHONDONTWRITEBYTECODE is set
# on some machines, so nothing would ever be cached).
python_env() {
  local name=$1 venv=$2 lock=$3
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.lock-stamp" 2>/dev/null)" != "$(stamp "$lock")" ]; then
    log "creating the $name environment ($venv) from $lock"
    [ -x "$venv/bin/python" ] || python3 -m uv venv --quiet --python "$PYTHON_VERSION" "$venv"
    python3 -m uv pip sync --quiet --python "$venv/bin/python" "$lock"
    "$venv/bin/python" -m compileall -q -j 0 "$venv/lib" >/dev/null || true
    stamp "$lock" > "$venv/.lock-stamp"
  else
    log "$name environment is up to date"
  fi
}

python_env "ML Service" ml-service/.venv ml-service/requirements.lock
# Feast (feature sets) has its own environment: it needs pandas < 3, the ML Service pins pandas 3
# (docs/architecture.md, "Feature store"). The ML Service runs ml-service/feature-store/feast_worker.py
# with it.
python_env "feature store" ml-service/feature-store/.venv ml-service/feature-store/requirements.lock

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
