# Sourced by the scripts that start services: the local stack's addresses and development defaults.
# Every value can be overridden from the environment.
root=${root:?}
export MLS_HOST=${MLS_HOST:-127.0.0.1}
export MLS_PORT=${MLS_PORT:-8000}
export MLS_DATA_DIR=${MLS_DATA_DIR:-$root/data}
export PORT=${PORT:-3000}
export HOST=${HOST:-127.0.0.1}
export ML_SERVICE_URL=${ML_SERVICE_URL:-http://$MLS_HOST:$MLS_PORT}
# The shared secret of the AI Service -> ML Service hop: made once under the data folder (mode 600)
# and given to both; the ML Service answers 401 to any caller without it.
mkdir -p "$MLS_DATA_DIR"
token_file="$MLS_DATA_DIR/service_token"
if [ -z "${MLS_SERVICE_TOKEN:-}" ] && [ ! -s "$token_file" ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '=+/\n' >"$token_file")
fi
export MLS_SERVICE_TOKEN=${MLS_SERVICE_TOKEN:-$(cat "$token_file")}
export ML_SERVICE_TOKEN=${ML_SERVICE_TOKEN:-$MLS_SERVICE_TOKEN}
# Seed 001's tenant limits are the ML Service's configuration (MLS_MAX_*, MLS_TENANT_LIMITS); a
# request never carries them. The names the AI Service used to read (ML_MAX_TRAINING_JOBS, …,
# ML_TENANT_LIMITS) still work for this stack: each is passed on when its MLS_ name is unset.
for limit in MAX_TRAINING_JOBS MAX_TRAINING_DURATION MAX_DATASET_SIZE_GB MAX_CPU_PER_JOB \
  MAX_MEMORY_PER_JOB_GB MAX_GPU_PER_JOB TENANT_LIMITS; do
  old=ML_$limit new=MLS_$limit
  if [ -z "${!new:-}" ] && [ -n "${!old:-}" ]; then
    export "$new=${!old}"
  fi
done
# Development keys for the demo tenant and a second one; set API_KEYS yourself for anything shared.
export API_KEYS=${API_KEYS:-dev-acme-key:acme-corp,dev-globex-key:globex}
logs="$MLS_DATA_DIR/logs"
mkdir -p "$logs"
