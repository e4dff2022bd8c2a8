"""Overload is graceful (issue 17): past a deployment's bounds (REPLICA_LIMITS: requests running in
its replica plus requests waiting for one), Ray Serve refuses at once and the ML Service answers
503 with Retry-After instead of letting requests queue for seconds.

A deliberately slow replica (fault injection: every predict takes SLOW_SECONDS) on a real Serve
deployment with ModelReplica's own limits stands in for a saturated one."""

import asyncio
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from ray import serve
from ray.serve.handle import DeploymentHandle

from app.errors import install_error_handlers
from app.serving.replica import REPLICA_LIMITS
from app.serving.service import DeploymentAtCapacityError, ServeReplicas

SLOW_SECONDS = 2.0
APP = "overload-test"


@serve.deployment(**REPLICA_LIMITS)
class SlowReplica:
    async def predict(self, records: list[dict]) -> list[dict]:
        await asyncio.sleep(SLOW_SECONDS)
        return [{"value": 1.0} for _ in records]


@pytest.fixture(scope="module")
def slow_app(ray_cluster: None) -> Iterator[str]:
    serve.start(proxy_location="Disabled", http_options={"host": "127.0.0.1"})
    serve.run(SlowReplica.bind(), name=APP, route_prefix=None)
    yield APP
    serve.delete(APP)


def test_requests_past_the_bound_are_refused_at_once_with_retry_after(slow_app: str) -> None:
    capacity = REPLICA_LIMITS["max_ongoing_requests"] + REPLICA_LIMITS["max_queued_requests"]
    sent = capacity + 20

    async def one(replicas: ServeReplicas) -> tuple[str, float, int | None]:
        started = time.perf_counter()
        try:
            await replicas.predict([{"x": 1}])
            return "served", time.perf_counter() - started, None
        except DeploymentAtCapacityError as error:
            return "refused", time.perf_counter() - started, error.retry_after_seconds

    async def burst() -> list[tuple[str, float, int | None]]:
        replicas = ServeReplicas(DeploymentHandle(SlowReplica.name, slow_app), "slow")
        await replicas.predict([{"x": 1}])  # the handle knows its replica before the burst
        return await asyncio.gather(*(one(replicas) for _ in range(sent)))

    outcomes = asyncio.run(burst())

    served = [seconds for kind, seconds, _ in outcomes if kind == "served"]
    refused = [(seconds, retry) for kind, seconds, retry in outcomes if kind == "refused"]
    # Serve may refuse a few more than strictly needed (its router's own note), never fewer
    assert len(served) <= capacity
    assert len(refused) >= sent - capacity
    assert {retry for _, retry in refused} == {1}
    # refused before any slow predict ended: nothing waited for a replica
    assert max(seconds for seconds, _ in refused) < SLOW_SECONDS / 2
    assert min(served) >= SLOW_SECONDS * 0.9


def test_a_deployment_at_capacity_is_503_with_retry_after() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/predict")
    async def predict() -> None:
        raise DeploymentAtCapacityError("churn", 0.2)

    response = TestClient(app).post("/predict")

    assert response.status_code == 503
    # Retry-After counts whole seconds (RFC 9110 §10.2.3): a fraction rounds up, never to 0
    assert response.headers["Retry-After"] == "1"
    assert response.json()["detail"] == (
        "deployment churn is at capacity; retry shortly or add replicas"
    )
