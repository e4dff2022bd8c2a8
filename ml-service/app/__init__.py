"""ML Service: training on Ray, tracking in MLflow, tenant warehouses in DuckDB."""

import os

__version__ = "0.1.0"

# Ray reads this when ray.train is first imported, in this process and in its workers (the
# workers get it through the job's runtime_env, see app/ray_runtime.py).
os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")

# Ray Serve's documented high-throughput mode, read when ray.serve is first imported (here and,
# through the environment Ray's processes inherit, in the controller and replicas). Measured on
# 2 cores, a DeploymentHandle call to an echo deployment costs p50 4.5 ms and 3.4 ms of the
# caller's CPU by default, 1.8 ms and 1.1 ms with it: handles talk to replicas over gRPC instead
# of Ray actor tasks, user code runs on the replica's event loop instead of hopping threads,
# and the per-request logs are buffered.
# Direct ingress (each ingress replica serves HTTP itself, on a port from 30000-31000 on
# loopback) is on when Ray runs on this machine: the AI Service then sends a single-version
# deployment's predictions straight to the replica (app/serving/replica.py), which measured
# 5.5 ms of CPU per prediction through the ML Service against about 3 without it (issue 17).
# A cluster joined by RAY_ADDRESS keeps it off: replicas there are not on the AI Service's host.
# Either can be overridden by setting the variable.
# A stopping replica keeps answering for the drain period so that load balancers can drop it;
# Serve's 30 s made every undeploy and every stale version's removal wait 30 s per version. The
# AI Service learns a deployment's replicas anew every second and falls back to the ML Service
# when a replica's port is closed, so 2 s is enough.
SERVE_ENV = {
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "0" if os.environ.get("RAY_ADDRESS") else "1",
    "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "2",
}
for _name, _value in SERVE_ENV.items():
    SERVE_ENV[_name] = os.environ.setdefault(_name, _value)
DIRECT_INGRESS = SERVE_ENV["RAY_SERVE_ENABLE_DIRECT_INGRESS"] == "1"

# On one machine (no RAY_ADDRESS) every Ray process listens on loopback only. Ray binds its servers
# (GCS, raylet, workers, dashboard and runtime-env agents) to the node's IP, and `ray.init` turns
# a loopback `_node_ip_address` into the host's routable IP unless Ray runs in its single-machine
# mode, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (ray._private.ray_constants.ENABLE_RAY_CLUSTER,
# read when Ray is imported, so set here first). Measured on Ray 2.60 with `ss -ltn`: without it
# they listen on `*` and on the host's address; with it on 127.0.0.1 only
# (tests/test_ray_runtime.py). A cluster named by RAY_ADDRESS needs routable node addresses.
if not os.environ.get("RAY_ADDRESS"):
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
