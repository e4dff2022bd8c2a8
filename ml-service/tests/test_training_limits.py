"""Seed 001's resource limits (resources per job, cluster fit, dataset size, duration) and the
job event stream. The session's Ray cluster has 2 CPUs and no GPU; the tenants' limits are the
session's MLS_TENANT_LIMITS (conftest.TENANT_LIMITS)."""

import json
import time

import pytest
import ray
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient

from app.training.algorithms.base import FitContext
from tests.conftest import DEMO_TENANT, tenant_headers, wait_for_status

SUBMIT = "/api/v1/training/submit"
GENERATED_QUERY = "SELECT range AS x, range % 7 AS z, range % 2 AS y FROM range(200)"


def generated_config(**overrides: object) -> dict:
    config = {
        "name": "tiny",
        "algorithm": "xgboost",
        "task_type": "classification",
        "dataset": {"source": "sql", "query": GENERATED_QUERY},
        "target_column": "y",
        "feature_columns": ["x", "z"],
        "hyperparameters": {"n_estimators": 5},
    }
    config.update(overrides)
    return config


def refusal(client: TestClient, config: dict, tenant: str = DEMO_TENANT) -> tuple[str, str]:
    response = client.post(SUBMIT, json=config, headers=tenant_headers(tenant))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    return error["field"], error["message"]


@pytest.mark.parametrize(
    ("resources", "tenant", "field", "message"),
    [
        ({"cpus": 5}, DEMO_TENANT, "resources.cpus", "over the tenant's limit of 4 CPUs per job"),
        ({"cpus": 2}, "one-cpu-co", "resources.cpus",
         "limit of 1 CPU per job (MLS_MAX_CPU_PER_JOB)"),
        ({"memory_gb": 17}, DEMO_TENANT, "resources.memory_gb", "limit of 16 GB per job"),
        ({"gpus": 1}, DEMO_TENANT, "resources.gpus",
         "limit of 0 GPUs per job (MLS_MAX_GPU_PER_JOB)"),
        ({"cpus": 3}, "roomy-co", "resources.cpus", "but the cluster has 2 CPUs"),
        ({"gpus": 1}, "roomy-co", "resources.gpus", "but the cluster has no GPU"),
        ({"memory_gb": 60_000}, "roomy-co", "resources.memory_gb", "GB of memory for tasks"),
    ],
)  # fmt: skip
def test_refuses_resources_over_the_limit_or_the_cluster(
    client: TestClient, resources: dict, tenant: str, field: str, message: str
) -> None:
    refused_field, refused_message = refusal(client, generated_config(resources=resources), tenant)
    assert refused_field == field
    assert message in refused_message


def test_refuses_limits_in_the_request_body(client: TestClient) -> None:
    # Limits are the ML Service's configuration; a body that tries to raise them is refused.
    config = generated_config(limits={"max_cpus_per_job": 64})
    assert refusal(client, config, "one-cpu-co") == ("limits", "Extra inputs are not permitted")


def test_refuses_a_dataset_over_the_size_limit_before_loading(client: TestClient) -> None:
    # 200 rows of 3 BIGINT columns: 4,800 bytes, over tiny-data-co's 0.000001 GB (1,073 bytes).
    field, message = refusal(client, generated_config(), "tiny-data-co")
    assert field == "dataset"
    assert "over the tenant's maximum of 1e-06 GB (MLS_MAX_DATASET_SIZE_GB)" in message
    assert "bytes in the columns used" in message


def test_stops_a_job_over_the_maximum_duration(client: TestClient) -> None:
    config = generated_config(
        dataset={"source": "sql", "query": GENERATED_QUERY.replace("range(200)", "range(200000)")},
        hyperparameters={"n_estimators": 5000, "max_depth": 12, "learning_rate": 0.01},
    )
    accepted = client.post(SUBMIT, json=config, headers=tenant_headers("two-seconds-co"))
    assert accepted.status_code == 202, accepted.text
    started = time.monotonic()
    job = wait_for_status(client, accepted.json()["job_id"], {"completed", "failed"},
                          tenant="two-seconds-co", timeout=120)  # fmt: skip
    assert job["status"] == "failed"
    assert job["error"].startswith("stopped after ")
    assert "maximum training duration (MLS_MAX_TRAINING_DURATION=2)" in job["error"]
    assert time.monotonic() - started < 60
    run = MlflowClient(client.app.state.tracking.tracking_uri).get_run(job["mlflow_run_id"])
    assert run.info.status == "FAILED"


def read_events(
    client: TestClient, job_id: str, tenant: str = DEMO_TENANT, route: str = "/api/v1/training"
) -> list[tuple]:
    events = []
    with client.stream(
        "GET", f"{route}/jobs/{job_id}/events", headers=tenant_headers(tenant)
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def wait_for_idle_cpus(timeout: float = 180) -> None:
    """Jobs of earlier tests may still be releasing their CPUs; a job asking for all of them
    would wait in Ray's queue, and its event stream with it."""
    deadline = time.monotonic() + timeout
    while ray.available_resources().get("CPU", 0) < ray.cluster_resources()["CPU"]:
        assert time.monotonic() < deadline, f"CPUs still busy: {ray.available_resources()}"
        time.sleep(1)


def test_a_job_asking_for_both_cpus_streams_its_events_to_completion(client: TestClient) -> None:
    # A Ray task (no Ray Train start-up) keeps this quick; XGBoost takes the same FitContext path.
    wait_for_idle_cpus()
    config = generated_config(
        algorithm="random_forest", resources={"cpus": 2}, hyperparameters={"n_estimators": 10}
    )
    accepted = client.post(SUBMIT, json=config, headers=tenant_headers())
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]

    events = read_events(client, job_id)  # returns only once the server closed the stream

    names = [name for name, _ in events]
    assert names[-1] == "end" and names.count("end") == 1
    assert "progress" in names
    statuses = [data["status"] for name, data in events if name == "status"]
    assert statuses[-1] == "completed"
    assert statuses == sorted(set(statuses), key=["queued", "running", "completed"].index)
    iterations = [data["progress"]["iteration"] for name, data in events if name == "progress"]
    assert iterations == sorted(iterations) and iterations[-1] == 10
    final = events[-1][1]["job"]
    assert final["status"] == "completed", final["error"]
    assert final["progress"]["estimated_remaining_seconds"] == 0
    assert final["metrics"]["accuracy"] >= 0
    # A stream opened after the end replays the final state and ends at once.
    assert [name for name, _ in read_events(client, job_id)] == ["status", "progress", "end"]
    # The generic stream of any kind of job tells the same story.
    generic = read_events(client, job_id, route="/api/v1")
    assert [name for name, _ in generic] == ["status", "progress", "end"]
    assert {data["kind"] for _, data in generic} == {"training"}
    assert generic[-1][1]["job"]["result"]["metrics"] == final["metrics"]


def test_event_stream_of_another_tenants_job_is_not_found(client: TestClient) -> None:
    job_id = client.post(SUBMIT, json=generated_config(), headers=tenant_headers()).json()["job_id"]
    response = client.get(
        f"/api/v1/training/jobs/{job_id}/events", headers=tenant_headers("globex")
    )
    assert response.status_code == 404
    assert response.json() == {"detail": f"training job {job_id} does not exist"}
    client.delete(f"/api/v1/training/jobs/{job_id}", headers=tenant_headers())


def test_fit_context_turns_the_request_into_ray_resources() -> None:
    context = FitContext(
        job_id="j", random_state=1, hyperparameters={}, storage_path="/tmp", progress=None,
        cpus=2, memory_bytes=3 * 1024**3, gpus=1,
    )  # fmt: skip
    assert context.worker_resources() == {"CPU": 2, "memory": 3 * 1024**3, "GPU": 1}
    assert context.task_options() == {"num_cpus": 2, "num_gpus": 1, "memory": 3 * 1024**3}
    assert context.use_gpu
