"""The Ray Serve deployment: one per deployed model version, one model load per replica.

Called two ways. The ML Service calls `predict` through a `DeploymentHandle` (A/B splits, entity
lookups, forecasts, OIP v2). And, with Ray Serve's direct ingress on (the default on one machine,
app/__init__.py), each replica also serves HTTP itself on a loopback port, so that the AI Service
sends a single-version deployment's predictions straight to it (`GET .../serving/{id}/targets`
names the ports): one hop and one process less per prediction. That path keeps every check the
ML Service makes: the service token, the tenant, the signature, the prediction log.
"""

import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray import serve
from ray.serve._private import replica as serve_replica
from ray.serve.config import BackpressureConfig
from starlette.requests import Request
from starlette.responses import Response

from app.errors import FieldError, MLServiceError
from app.serving.model import ModelSpec, load_model, records_of, validate_records
from app.serving.monitoring import MonitoringStore

logger = logging.getLogger(__name__)


def _bind_inter_deployment_server_to_the_node_address() -> None:
    """Make each replica's inter-deployment gRPC server listen on its node's address only.

    Serve 2.60 binds that server to `[::]:0`, every interface (`ReplicaActor._on_initialized`
    in ray/serve/_private/replica.py, hard-coded), while handles reach it at the replica's node
    IP (`RunningReplicaInfo.node_ip`): 127.0.0.1 for the ML Service's local Ray, the node's own
    address in a cluster. So binding that address serves every caller and exposes nothing
    more; Ray's own servers already bind it. Serve offers no setting for it, so the module-level
    helper Serve calls for that one address is wrapped here, in every replica process (this
    module is imported there to unpickle `ModelReplica`, before the server starts).
    tests/test_serving.py lists the listeners with a deployment running, so a Serve upgrade that
    moves the call fails there rather than exposing the port silently.
    """
    add_port = serve_replica.add_port_to_grpc_server

    def bind(server: Any, address: str) -> int:
        if address == "[::]:0":
            node = ray.util.get_node_ip_address()
            address = f"[{node}]:0" if ":" in node else f"{node}:0"
        return add_port(server, address)

    serve_replica.add_port_to_grpc_server = bind


_bind_inter_deployment_server_to_the_node_address()


def serve_at_normal_priority() -> None:
    """Undo Ray's niceness for this replica process (Linux; best effort).

    Ray starts every worker at nice 15 so that its driver stays responsive under heavy tasks,
    which suits training. A serving replica is on the request path instead: at nice 15 it gets
    a small share of a core whenever the ML Service or the AI Service (nice 0) is busy, and at
    200 req/s on 2 cores that alone moved p50 from 4.4 to 6.7 ms and p99 from 15 to 30 ms.
    Niceness is per thread on Linux and the worker's threads exist already, so each is reset;
    threads started later inherit it. Without the right to raise priority (no CAP_SYS_NICE and
    RLIMIT_NICE below it), the replica stays at Ray's level and says so.
    """
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return
    for thread in tasks.iterdir():
        try:
            os.setpriority(os.PRIO_PROCESS, int(thread.name), 0)
        except ProcessLookupError:  # the thread ended meanwhile
            continue
        except PermissionError:
            logger.warning("could not raise the replica's priority to nice 0; it stays at Ray's")
            return


# How much a deployment takes in before it refuses (Ray Serve's admission control, applied by the
# caller's router before a request leaves the ML Service, so a refusal costs no replica time).
# The bound is on latency: a replica predicts one row in about 1-2 ms of CPU on the 2-core machine,
# so 16 running plus 32 waiting requests finish within about 50-100 ms, the 500 req/s goal's p99 for
# the ones it takes (issue 17); 64 + 64 let an overload queue for half a second and more before a
# refusal. A burst the replica keeps up with stays far below it (at 200 req/s about one request is
# in flight). Past it Serve raises BackPressureError at once, which the ML Service answers as 503
# with Retry-After: the retry_after_s given here.
REPLICA_LIMITS: dict[str, Any] = {
    # a single-row prediction takes well under a millisecond of model time, so queueing inside
    # the replica (its requests run one after the other on its event loop) is cheaper than
    # spreading across processes; autoscaling still sees the ongoing count
    "max_ongoing_requests": 16,
    "max_queued_requests": 32,
    "backpressure_config": BackpressureConfig(status_code=503, retry_after_s=1),
}


@dataclass(frozen=True)
class DirectIngress:
    """What a replica needs to answer predictions over HTTP itself (plain data: Ray pickles it).

    `authorization` is the ML Service's `Bearer <service token>`, the header the AI Service sends
    it; `monitoring_dir` is the ML Service's prediction-log folder (app/serving/monitoring.py),
    on the same host.
    """

    tenant_id: str
    model_id: str
    version: str
    authorization: str
    monitoring_dir: str
    sampling_rate: float


def _error(status: int, detail: str, errors: list[FieldError] | None = None) -> Response:
    """The ML Service's error body (app/errors.py): `{"detail", "errors"?}`."""
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = [item.model_dump() for item in errors]
    return Response(json.dumps(body), status_code=status, media_type="application/json")


# Serve's access log writes one line per request from each replica into Ray's session logs
# (about 3 % of a replica's CPU at 300 req/s, py-spy); the prediction log keeps the predictions
# (at the deployment's sampling rate) with tenant, version and latency, and Serve's metrics count
# every request, refusals included.
@serve.deployment(
    **REPLICA_LIMITS,
    health_check_period_s=10,
    health_check_timeout_s=30,
    logging_config={"enable_access_log": False},
)
class ModelReplica:
    def __init__(self, spec: ModelSpec, direct: DirectIngress | None = None) -> None:
        serve_at_normal_priority()
        # The only place a model is loaded: once per replica, never per request.
        self._model = load_model(spec)
        self._spec = spec
        self._direct = direct
        self._monitoring = (
            MonitoringStore(Path(direct.monitoring_dir)) if direct is not None else None
        )

    async def __call__(self, request: Request) -> Response:
        """`POST <route prefix>/predict` on the replica's own port (direct ingress): one record
        or `{"instances": [...]}`, answered as the ML Service's predict answers it, with
        `Server-Timing: check, compute, replica` (ms). 401 without the service token, 404 for
        another tenant (it must not learn the deployment exists) or another path, 422 naming
        each bad field, 503 when the model fails. A full replica is refused before this runs:
        503 with Retry-After (Serve's backpressure, `REPLICA_LIMITS`)."""
        started = time.perf_counter()
        direct = self._direct
        if direct is None or request.method != "POST" or not request.url.path.endswith("/predict"):
            return _error(404, "not found")
        presented = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(presented, direct.authorization.encode()):
            return _error(401, "the Authorization header does not carry the service token")
        if request.headers.get("x-tenant-id") != direct.tenant_id:
            return _error(404, f"deployment {direct.model_id} does not exist")
        try:
            # Python's json reads the literals NaN and Infinity, as the ML Service's parser
            # does, so the signature check names them rather than a parse error
            body = json.loads(await request.body())
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past Python's stack
            problem = FieldError(field="body", message="not a JSON document")
            return _error(422, "the body is not a JSON document", [problem])
        try:
            records, prefix, _ = records_of(body)
            validate_records(records, self._spec, prefix)
        except MLServiceError as error:
            return _error(error.status_code, error.detail, error.errors)
        checked = time.perf_counter()
        assert self._monitoring is not None
        try:
            outputs = self._model.predict_records(records)
        except Exception as error:
            latency = (time.perf_counter() - checked) * 1000
            self._monitoring.log_outcome(
                direct.tenant_id, direct.model_id, direct.version, direct.sampling_rate,
                records, None, latency,
            )  # fmt: skip
            logger.exception("prediction of %s v%s failed", direct.model_id, direct.version)
            return _error(
                503,
                f"deployment {direct.model_id} version {direct.version} failed to predict: "
                f"{type(error).__name__}",
            )
        computed = time.perf_counter()
        ids = self._monitoring.log_outcome(
            direct.tenant_id, direct.model_id, direct.version, direct.sampling_rate,
            records, outputs, (computed - checked) * 1000,
        )  # fmt: skip
        for output, prediction_id in zip(outputs, ids, strict=True):
            output["prediction_id"] = prediction_id
        content = json.dumps(
            {"model_id": direct.model_id, "version": direct.version, "predictions": outputs}
        )
        timing = (
            f"check;dur={(checked - started) * 1000:.3f}, "
            f"compute;dur={(computed - checked) * 1000:.3f}, "
            f"replica;dur={(time.perf_counter() - started) * 1000:.3f}"
        )
        return Response(
            content, media_type="application/json", headers={"Server-Timing": timing}
        )

    async def predict(self, records: list[dict[str, Any]]) -> list[dict]:
        # async on purpose: a sync method would hop to a thread pool, and a single-row predict
        # (well under a millisecond) is cheaper than that hop
        return self._model.predict_records(records)

    async def predict_timed(
        self, records: list[dict[str, Any]]
    ) -> tuple[list[dict], float, float]:
        """`predict`, with when it began (wall clock, seconds since the epoch) and how long the
        model took (seconds): the replica's side of the per-hop breakdown
        (app/serving/timing.py)."""
        entered = time.time()
        started = time.perf_counter()
        outputs = self._model.predict_records(records)
        return outputs, entered, time.perf_counter() - started

    def check_health(self) -> None:
        # Serve restarts a replica whose check raises; a replica without its model is broken
        if self._model is None:
            raise RuntimeError("the model is not loaded")

    def __del__(self) -> None:
        # Serve calls this when it stops the replica: write the predictions still queued
        monitoring = getattr(self, "_monitoring", None)  # None too if __init__ failed early
        if monitoring is not None:
            monitoring.close()
