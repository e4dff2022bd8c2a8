#!/bin/sh
# "head": start a Ray head node in this container and run the ML Service as its driver.
# "worker": join the head named by RAY_HEAD_ADDRESS and block.
# Ray's own ports stay on the compose network; only the ML Service's HTTP port is published.
set -eu
case "${1:-head}" in
  head)
    ray start --head --port=6379 --num-cpus="${RAY_HEAD_NUM_CPUS:-2}" --include-dashboard=false --disable-usage-stats
    export RAY_ADDRESS=auto
    exec python -m app
    ;;
  worker)
    exec ray start --address="${RAY_HEAD_ADDRESS:?set RAY_HEAD_ADDRESS}" --num-cpus="${RAY_WORKER_NUM_CPUS:-2}" --disable-usage-stats --block
    ;;
  *)
    exec "$@"
    ;;
esac
