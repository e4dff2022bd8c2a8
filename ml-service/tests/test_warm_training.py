"""Single-worker training on warm, reused workers: no new worker per job, the same model as on
Ray Train, the worker's real exception on failure, and idle workers exit."""

import time

import pytest
import ray
from fastapi.testclient import TestClient

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


def test_warm_jobs_reuse_one_worker_and_match_ray_train(client: TestClient) -> None:
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


@pytest.mark.parametrize("ray_train", [False, True])
def test_a_failure_inside_the_worker_names_the_real_exception(
    client: TestClient, ray_train: bool
) -> None:
    # XGBoost refuses an infinite label inside the worker, after every check at submission.
    body = config(
        task_type="regression",
        dataset={
            "source": "sql",
            "query": "SELECT range AS x, range % 7 AS z, "
            "CASE WHEN range = 5 THEN 'inf'::DOUBLE ELSE range END AS y FROM range(200)",
        },
        split={"strategy": "random", "test_size": 0.25, "random_state": 7},
        scaling={"num_workers": 1, "ray_train": ray_train},
    )
    accepted = client.post(SUBMIT, json=body, headers=tenant_headers("warm-co"))
    if accepted.status_code == 422:  # refused at submission: no worker involved
        pytest.skip(f"infinite labels are refused before training: {accepted.text}")
    job = wait_for_status(client, accepted.json()["job_id"], {"completed", "failed"},
                          tenant="warm-co", timeout=400)  # fmt: skip
    assert job["status"] == "failed"
    assert "XGBoostError" in job["error"], job["error"]
    assert "WorkerGroupError" not in job["error"]


def test_idle_warm_workers_exit(client: TestClient) -> None:
    pool: WarmPool = client.app.state.warm_pool
    if pool.idle_count == 0:
        assert train(client, config())["status"] == "completed"
    workers = [idle.worker for idle in pool._idle]
    pool.idle_seconds = 0.1
    time.sleep(0.2)
    assert pool.reap() == len(workers) and pool.idle_count == 0
    for worker in workers:
        with pytest.raises(ray.exceptions.RayActorError):
            ray.get(worker.node_id.remote(), timeout=60)


def test_more_workers_than_the_algorithm_takes_is_422(client: TestClient) -> None:
    body = config(algorithm="random_forest", scaling={"num_workers": 2}, hyperparameters={})
    answer = client.post(SUBMIT, json=body, headers=tenant_headers("warm-co"))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "scaling.num_workers"
