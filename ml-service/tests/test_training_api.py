"""Submission rules: validation, tenant isolation, idempotency, the quota, restart recovery."""

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.jobs.runner import RESTART_ERROR
from app.jobs.store import JobStore, NewJob, TenantQuotaExceededError
from app.main import create_app
from tests.conftest import churn_config, tenant_headers, wait_for_status

SUBMIT = "/api/v1/training/submit"
# A dataset any tenant can use: DuckDB generates it, no warehouse needed.
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


def a_new_job() -> NewJob:
    return NewJob(
        kind="training",
        id_prefix="train",
        name="filler",
        spec={"algorithm": "xgboost", "task_type": "classification"},
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"split": {"test_size": 1.5}}, "split.test_size"),
        ({"split": {"strategy": "shuffled"}}, "split.strategy"),
        ({"hyperparameters": {"max_depth": 50}}, "hyperparameters.max_depth"),
        ({"hyperparameters": {"learning_rate": 0}}, "hyperparameters.learning_rate"),
        ({"hyperparameters": {"n_estimators": 2.5}}, "hyperparameters.n_estimators"),
        ({"hyperparameters": {"max_leaves_typo": 3}}, "hyperparameters.max_leaves_typo"),
        ({"algorithm": "catboost"}, "algorithm"),
        ({"task_type": "forecasting"}, "task_type"),
        ({"target_column": "churn"}, "target_column"),
        ({"feature_columns": ["tenure", "nope"]}, "feature_columns.1"),
        ({"feature_columns": ["customer_id", "tenure"]}, "feature_columns.0"),
        ({"feature_columns": []}, "feature_columns"),
        ({"task_type": "regression", "target_column": "contract_type"}, "target_column"),
        ({"target_column": "monthly_charges"}, "target_column"),
        ({"dataset": {"source": "sql", "query": "DROP TABLE x"}}, "dataset.query"),
        ({"dataset": {"source": "sql"}}, "dataset.query"),
        ({"dataset": {"source": "table", "table": "ml_features.nope"}}, "dataset.table"),
        ({"epochs": 3}, "epochs"),
    ],
)
def test_refuses_a_bad_config_naming_the_field(
    client: TestClient, change: dict, field: str
) -> None:
    response = client.post(SUBMIT, json=churn_config(**change), headers=tenant_headers())
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert body["detail"]


def test_refuses_a_dataset_of_another_tenant(client: TestClient) -> None:
    config = churn_config(dataset={"source": "sql", "query": "SELECT 1", "tenant_id": "globex"})
    response = client.post(SUBMIT, json=config, headers=tenant_headers())
    assert response.status_code == 403
    assert "tenant_id" in response.json()["detail"]


def test_idempotency_key_returns_the_same_job_and_cancel_ends_it(client: TestClient) -> None:
    headers = tenant_headers("idem-co", **{"Idempotency-Key": "submit-1"})
    first = client.post(SUBMIT, json=generated_config(), headers=headers)
    second = client.post(SUBMIT, json=generated_config(), headers=headers)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["job_id"] == second.json()["job_id"]
    job_id = first.json()["job_id"]
    assert job_id.startswith("train-") and len(job_id) == len("train-") + 12
    listed = client.get("/api/v1/training/jobs", headers=tenant_headers("idem-co")).json()
    assert [job["job_id"] for job in listed] == [job_id]

    cancelled = client.delete(f"/api/v1/training/jobs/{job_id}", headers=headers)
    if cancelled.status_code == 409:  # the tiny job may finish first
        assert wait_for_status(client, job_id, {"completed"}, tenant="idem-co")
    else:
        assert cancelled.json()["status"] == "cancelled"
    assert client.delete(f"/api/v1/training/jobs/{job_id}", headers=headers).status_code == 409


def test_another_tenants_job_is_404_like_an_unknown_one(client: TestClient) -> None:
    response = client.post(SUBMIT, json=generated_config(), headers=tenant_headers("owner-co"))
    job_id = response.json()["job_id"]
    for method in ("GET", "DELETE"):
        foreign = client.request(
            method, f"/api/v1/training/jobs/{job_id}", headers=tenant_headers("intruder-co")
        )
        unknown = client.request(
            method, "/api/v1/training/jobs/train-000000000000", headers=tenant_headers("owner-co")
        )
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.json().keys() == unknown.json().keys() == {"detail"}
    assert client.get("/api/v1/training/jobs", headers=tenant_headers("intruder-co")).json() == []
    wait_for_status(client, job_id, {"completed"}, tenant="owner-co")


def test_sixth_active_job_is_refused_with_429(client: TestClient) -> None:
    store: JobStore = client.app.state.job_store
    for _ in range(5):
        store.submit("busy-co", None, a_new_job(), max_active_jobs=5)
    response = client.post(SUBMIT, json=generated_config(), headers=tenant_headers("busy-co"))
    assert response.status_code == 429
    assert response.json()["detail"] == (
        "tenant busy-co already has 5 active jobs (training, batch predictions; "
        "limit ML_MAX_TRAINING_JOBS=5); wait for one to finish or cancel one"
    )
    assert response.headers["Retry-After"]
    limited = generated_config(limits={"max_concurrent_jobs": 3})
    response = client.post(SUBMIT, json=limited, headers=tenant_headers("busy-co"))
    assert response.status_code == 429
    assert "limit ML_MAX_TRAINING_JOBS=3" in response.json()["detail"]
    # other tenants keep their own quota
    _, created = store.submit("calm-co", None, a_new_job(), max_active_jobs=5)
    assert created


def test_quota_holds_under_concurrent_submissions(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    outcomes: list[str] = []

    def submit() -> None:
        try:
            store.submit("race-co", None, a_new_job(), max_active_jobs=5)
            outcomes.append("created")
        except TenantQuotaExceededError:
            outcomes.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] * 5 + ["refused"] * 7
    assert len(store.list_jobs("race-co", "training", "queued", 100)) == 5


def test_same_idempotency_key_never_creates_a_second_row(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    first, created_first = store.submit("a-co", "key", a_new_job(), max_active_jobs=5)
    second, created_second = store.submit("a-co", "key", a_new_job(), max_active_jobs=5)
    assert (created_first, created_second) == (True, False)
    assert first.job_id == second.job_id
    other, created_other = store.submit("b-co", "key", a_new_job(), max_active_jobs=5)
    assert created_other and other.job_id != first.job_id


def test_jobs_left_running_are_failed_after_a_restart(tmp_path: Path, ray_cluster: None) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    running, _ = store.submit("acme-corp", None, a_new_job(), max_active_jobs=3)
    store.mark_running(running.job_id)
    queued, _ = store.submit("acme-corp", None, a_new_job(), max_active_jobs=3)
    batch = NewJob("batch_prediction", "batch", "predictions.scores", {"output_table": "scores"})
    batch_running, _ = store.submit("acme-corp", None, batch, max_active_jobs=3)
    store.mark_running(batch_running.job_id)
    with pytest.raises(TenantQuotaExceededError):
        store.submit("acme-corp", None, a_new_job(), max_active_jobs=3)

    restarted = create_app(Settings(data_dir=tmp_path, seed_demo_data=False, ray_num_cpus=2))
    with TestClient(restarted) as client:
        for job_id in (running.job_id, queued.job_id):
            job = client.get(f"/api/v1/training/jobs/{job_id}", headers=tenant_headers()).json()
            assert job["status"] == "failed"
            assert job["error"] == RESTART_ERROR
            assert job["finished_at"] is not None
        cut = client.get(
            f"/api/v1/serving/batch/{batch_running.job_id}", headers=tenant_headers()
        ).json()
        assert (cut["status"], cut["error"]) == ("failed", RESTART_ERROR)
        # and they count in the quota no more
        _, created = store.submit("acme-corp", None, a_new_job(), max_active_jobs=3)
        assert created
