"""One data folder and one Ray instance per test session; Ray start-up is slow."""

import ipaddress
import os
import time
from collections.abc import Iterator

import psutil
import pytest
import ray
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.ray_runtime import connect_ray

DEMO_TENANT = "acme-corp"
# Every app of the session (including ones a test builds with its own Settings) reads it from the
# environment; the session client sends it on every call, tenant_headers() adds it for others.
SERVICE_TOKEN = "test-service-token-0123456789"
os.environ["MLS_SERVICE_TOKEN"] = SERVICE_TOKEN
AUTHORIZATION = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
CHURN_QUERY = "SELECT * FROM ml_features.customer_churn"


# The session's per-tenant limits (MLS_TENANT_LIMITS): the demo tenant trains many models at once;
# the others are the tenants whose limit a test probes.
TENANT_LIMITS = {
    DEMO_TENANT: {"max_concurrent_jobs": 20},
    "three-jobs-co": {"max_concurrent_jobs": 3},
    "warm-cancel-co": {"max_concurrent_jobs": 1},
    "one-cpu-co": {"max_cpus_per_job": 1},
    "roomy-co": {"max_cpus_per_job": 64, "max_memory_per_job_gb": 1_000_000, "max_gpus_per_job": 8},
    "tiny-data-co": {"max_dataset_size_gb": 0.000001},
    "two-seconds-co": {"max_training_duration_seconds": 2},
}


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    os.environ.pop("RAY_ADDRESS", None)
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"), ray_num_cpus=2, tenant_limits=TENANT_LIMITS
    )


@pytest.fixture(scope="session")
def ray_cluster(settings: Settings) -> Iterator[None]:
    # Started here so every app instance of the session reuses it instead of starting its own.
    connect_ray(settings)
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def client(settings: Settings, ray_cluster: None) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=AUTHORIZATION) as test_client:
        yield test_client


def tenant_headers(tenant: str = DEMO_TENANT, **extra: str) -> dict[str, str]:
    return {"X-Tenant-ID": tenant, **AUTHORIZATION, **extra}


def churn_config(**overrides: object) -> dict:
    config = {
        "name": "churn-predictor-v2",
        "algorithm": "xgboost",
        "task_type": "classification",
        "dataset": {"source": "sql", "query": CHURN_QUERY, "tenant_id": DEMO_TENANT},
        "target_column": "churned",
        "split": {"strategy": "stratified", "test_size": 0.2, "random_state": 42},
        "hyperparameters": {"n_estimators": 100, "max_depth": 4, "learning_rate": 0.1},
    }
    config.update(overrides)
    return config


def wait_for_status(
    client: TestClient,
    job_id: str,
    statuses: set[str],
    tenant: str = DEMO_TENANT,
    timeout: float = 150,
) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/training/jobs/{job_id}", headers=tenant_headers(tenant)).json()
        if job["status"] in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s: {job}")
        time.sleep(0.5)


def train_all(client: TestClient, submissions: dict[str, dict], timeout: float = 240) -> dict:
    """Submits every config at once (they queue on Ray together), then waits for each to end;
    the ended jobs by label."""
    job_ids = {}
    for label, config in submissions.items():
        response = client.post("/api/v1/training/submit", json=config, headers=tenant_headers())
        assert response.status_code == 202, response.text
        job_ids[label] = response.json()["job_id"]
    ended = {"completed", "failed", "cancelled"}
    return {
        label: wait_for_status(client, job_id, ended, timeout=timeout)
        for label, job_id in job_ids.items()
    }


def is_loopback(address: str) -> bool:
    """Whether a listening address is loopback only. An IPv6 socket bound to 127.0.0.1 shows as
    ::ffff:127.0.0.1 (Python 3.11 calls that not loopback); `::` and `0.0.0.0` are every
    interface."""
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def ray_listeners() -> list[tuple[str, str, int]]:
    """(process, address, port) of every listening socket of this process and its children:
    the in-process ML Service, Ray's GCS, raylet, agents, workers and Serve replicas."""
    me = psutil.Process()
    listening = []
    for process in [me, *me.children(recursive=True)]:
        try:
            connections = process.net_connections(kind="inet")
            name = " ".join(process.cmdline()[:2])[-80:]
        except psutil.NoSuchProcess:  # a worker that ended meanwhile listens on nothing
            continue
        listening += [
            (name, conn.laddr.ip, conn.laddr.port)
            for conn in connections
            if conn.status == psutil.CONN_LISTEN
        ]
    return listening
