"""Single-worker training on warm, reused workers: no new worker per job, the same model as on
Ray Train, the worker's real exception on failure, cancel mid-fit, and idle workers exit."""

import time
from collections.abc import Callable
from typing import Any

import pytest
import ray
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from app.config import Settings
from app.training.warm import WarmPool
from tests.conftest import tenant_headers, wait_for_status

SUBMIT = "/api/v1/training/submit"
QUERY = "SELECT range AS x, range % 7 AS z, (range * 7919) % 3 = 0 AS y FROM range(400)"


def config(**overrides: object) -> dict:
    body = {
        "name": "warm",
        "algorithm": "xgboost",
        "task_type": "classification",
        "dataset": {"source": "sql", "query": QUERY},
        "target_column": "y",
        "feature_columns": ["x", "z"],
        "split": {"strategy": "stratified", "test_size": 0.25, "random_state": 7},
        "hyperparameters": {"n_estimators": 20, "max_depth": 3},
    }
    body.update(overrides)
    return body


def train(client: TestClient, body: dict) -> dict:
    accepted = client.post(SUBMIT, json=body, headers=tenant_headers("warm-co"))
    assert accepted.status_code == 202, accepted.text
    return wait_for_status(client, accepted.json()["job_id"], {"completed", "failed"},
                           tenant="warm-co", timeout=400)  # fmt: skip


def test_warm_jobs_reuse_one_worker_and_match_ray_train(
    client: TestClient, settings: Settings
) -> None:
    pool: WarmPool = client.app.state.warm_pool
    first = train(client, config())
    assert first["status"] == "completed", first["error"]
    started = pool.started
    second = train(client, config())
    assert second["status"] == "completed", second["error"]
    assert pool.started == started, "the second job started a new worker"
    assert second["metrics"] == first["metrics"]
    assert second["progress"]["iteration"] == 20

    on_ray_train = train(client, config(scaling={"num_workers": 1, "ray_train": True}))
    assert on_ray_train["status"] == "completed", on_ray_train["error"]
    assert on_ray_train["metrics"] == first["metrics"]
    assert pool.started == started
    # Ray Train's run folder (checkpoints, result files) is gone once the job has ended.
    assert not (settings.ray_results_dir / on_ray_train["job_id"]).exists()


@pytest.mark.parametrize("ray_train", [False, True])
def test_a_failure_inside_the_worker_names_the_real_exception(
    client: TestClient, ray_train: bool
) -> None:
    # XGBoost keeps labels as float32: a finite DOUBLE beyond its range (1e39) passes every
    # check at submission (infinite values are refused there), and only XGBoost refuses it,
    # inside the worker.
    body = config(
        task_type="regression",
        dataset={
            "source": "sql",
            "query": "SELECT range AS x, range % 7 AS z, "
            "CASE WHEN range = 5 THEN 1e39 ELSE range END::DOUBLE AS y FROM range(200)",
        },
        split={"strategy": "random", "test_size": 0.25, "random_state": 7},
        scaling={"num_workers": 1, "ray_train": ray_train},
    )
    accepted = client.post(SUBMIT, json=body, headers=tenant_headers("warm-co"))
    assert accepted.status_code == 202, accepted.text
    job = wait_for_status(client, accepted.json()["job_id"], {"completed", "failed"},
                          tenant="warm-co", timeout=400)  # fmt: skip
    assert job["status"] == "failed"
    assert job["error"].startswith("training failed: XGBoostError: "), job["error"]
    assert "Label contains NaN, infinity or a value too large" in job["error"]
    assert "WorkerGroupError" not in job["error"]


def _recording(method: Callable[[str], Any], workers: list[Any]) -> Callable[[str], Any]:
    """`WarmPool._take`/`_start`, noting the worker it hands to a job."""

    def call(node_id: str) -> Any:
        worker = method(node_id)
        if worker is not None:
            workers.append(worker)
        return worker

    return call


def test_cancel_mid_fit_kills_the_worker_and_frees_its_cpu_and_the_quota(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool: WarmPool = client.app.state.warm_pool
    used: list[Any] = []
    monkeypatch.setattr(pool, "_take", _recording(pool._take, used))
    monkeypatch.setattr(pool, "_start", _recording(pool._start, used))
    headers = tenant_headers("warm-cancel-co")
    free_cpus = ray.available_resources()["CPU"]
    long = config(
        name="long",
        dataset={"source": "sql", "query": QUERY.replace("range(400)", "range(200000)")},
        hyperparameters={"n_estimators": 5000, "max_depth": 8},
    )
    accepted = client.post(SUBMIT, json=long, headers=headers)
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    deadline = time.monotonic() + 120
    while True:
        job = client.get(f"/api/v1/training/jobs/{job_id}", headers=headers).json()
        if job["status"] == "running" and (job["progress"] or {}).get("iteration", 0) > 0:
            break
        assert job["status"] in {"queued", "running"}, job
        assert time.monotonic() < deadline, "training never reported progress"
        time.sleep(0.2)
    assert len(used) == 1, "the job runs on one warm worker"
    assert ray.available_resources().get("CPU", 0) <= free_cpus - 1, "its CPU is reserved"
    refused = client.post(SUBMIT, json=config(), headers=headers)
    assert refused.status_code == 429, refused.text

    cancelled = client.delete(f"/api/v1/training/jobs/{job_id}", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    # The worker was mid-fit: killed (only that stops XGBoost), never handed to another job.
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(used[0].node_id.remote(), timeout=60)
    assert all(idle.worker != used[0] for idle in pool._idle)
    deadline = time.monotonic() + 30
    while ray.available_resources().get("CPU", 0) < free_cpus:
        assert time.monotonic() < deadline, f"CPU still reserved: {ray.available_resources()}"
        time.sleep(0.2)
    run = MlflowClient(client.app.state.tracking.tracking_uri).get_run(job["mlflow_run_id"])
    assert run.info.status == "KILLED"
    ended = client.get(f"/api/v1/training/jobs/{job_id}", headers=headers).json()
    assert ended["status"] == "cancelled" and ended["progress"]["iteration"] < 5000

    # The quota is free again, and the pool runs the next job on another worker.
    again = client.post(SUBMIT, json=config(), headers=headers)
    assert again.status_code == 202, again.text
    done = wait_for_status(client, again.json()["job_id"], {"completed", "failed"},
                           tenant="warm-cancel-co", timeout=400)  # fmt: skip
    assert done["status"] == "completed", done["error"]
    assert len(used) == 2 and used[1] != used[0]


def test_idle_warm_workers_exit(client: TestClient) -> None:
    pool: WarmPool = client.app.state.warm_pool
    if pool.idle_count == 0:
        assert train(client, config())["status"] == "completed"
    workers = [idle.worker for idle in pool._idle]
    pool.idle_seconds = 0.1
    time.sleep(0.2)
    assert pool.reap() == len(workers) and pool.idle_count == 0
    # ray.kill is asynchronous: a call sent just after it may still be answered, so the test
    # waits for the worker to be gone rather than expecting the very next call to fail.
    for worker in workers:
        deadline = time.monotonic() + 60
        with pytest.raises(ray.exceptions.RayActorError):
            while time.monotonic() < deadline:
                ray.get(worker.node_id.remote(), timeout=60)
                time.sleep(0.2)


def test_more_workers_than_the_algorithm_takes_is_422(client: TestClient) -> None:
    body = config(algorithm="random_forest", scaling={"num_workers": 2}, hyperparameters={})
    answer = client.post(SUBMIT, json=body, headers=tenant_headers("warm-co"))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "scaling.num_workers"
