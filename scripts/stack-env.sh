# Sourced by the scripts that start services: the local stack's addresses and development defaults.
# Every value can be overridden from the environment.
root=${root:?}
export MLS_HOST=${MLS_HOST:-127.0.0.1}
export MLS_PORT=${MLS_PORT:-8000}
export MLS_DATA_DIR=${MLS_DATA_DIR:-$root/data}
export PORT=${PORT:-3000}
export HOST=${HOST:-127.0.0.1}
export ML_SERVICE_URL=${ML_SERVICE_URL:-http://$MLS_HOST:$MLS_PORT}
# Development keys for the demo tenant and a second one; set API_KEYS yourself for anything shared.
export API_KEYS=${API_KEYS:-dev-acme-key:acme-corp,dev-globex-key:globex}
logs="$MLS_DATA_DIR/logs"
mkdir -p "$logs"
