"""Submission rules: validation, tenant isolation, idempotency, the quota, restart recovery."""

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.jobs.runner import RESTART_ERROR
from app.jobs.store import JobStore, NewJob, TenantQuotaExceededError
from app.main import create_app
from tests.conftest import AUTHORIZATION, churn_config, tenant_headers, wait_for_status

SUBMIT = "/api/v1/training/submit"
VALIDATE = "/api/v1/training/validate"
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
        ({"task_type": "regression", "target_column": "contract_type"}, "split.strategy"),
        (
            {"task_type": "regression", "target_column": "contract_type", "split": {}},
            "target_column",
        ),
        ({"target_column": "monthly_charges"}, "target_column"),
        ({"dataset": {"source": "sql", "query": "DROP TABLE x"}}, "dataset.query"),
        ({"dataset": {"source": "sql"}}, "dataset.query"),
        ({"dataset": {"source": "table", "table": "ml_features.nope"}}, "dataset.table"),
        ({"epochs": 3}, "epochs"),
    ],
)
@pytest.mark.parametrize("path", [SUBMIT, VALIDATE])
def test_refuses_a_bad_config_naming_the_field(
    client: TestClient, change: dict, field: str, path: str
) -> None:
    response = client.post(path, json=churn_config(**change), headers=tenant_headers())
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert body["detail"]


def test_validate_answers_what_would_be_trained(client: TestClient) -> None:
    config = churn_config(algorithm="logistic", feature_columns=["tenure", "contract_type"])
    del config["split"], config["hyperparameters"]
    jobs_before = client.get("/api/v1/training/jobs", headers=tenant_headers()).json()
    response = client.post(VALIDATE, json=config, headers=tenant_headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["algorithm"] == "linear"
    assert body["feature_columns"] == ["tenure", "contract_type"]
    assert body["categorical_columns"] == ["contract_type"]
    assert body["split"] == {
        "strategy": "random",
        "test_size": 0.2,
        "random_state": 42,
        "time_column": None,
    }
    assert body["hyperparameters"]  # every default filled in
    assert body["row_count"] > 0
    assert client.get("/api/v1/training/jobs", headers=tenant_headers()).json() == jobs_before


def test_validate_lists_every_problem_at_once(client: TestClient) -> None:
    config = churn_config(
        hyperparameters={"max_depth": 50, "learning_rate": 0},
        target_column="churn",
        split={"strategy": "time"},
        horizon=3,
    )
    response = client.post(VALIDATE, json=config, headers=tenant_headers())
    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == [
        "hyperparameters.max_depth",
        "hyperparameters.learning_rate",
        "horizon",
        "split.time_column",
        "target_column",
    ]
    assert response.json()["detail"].endswith("(and 4 more in errors)")


def test_forecasting_needs_neither_split_nor_hyperparameters(client: TestClient) -> None:
    config = {
        "name": "revenue",
        "algorithm": "arima",
        "task_type": "forecasting",
        "dataset": {"source": "table", "table": "ml_features.daily_revenue"},
        "target_column": "revenue",
        "time_column": "date",
        "horizon": 14,
        "frequency": "D",
    }
    response = client.post(VALIDATE, json=config, headers=tenant_headers())
    assert response.status_code == 200, response.text
    assert response.json()["feature_columns"] == []
    stratified = {**config, "split": {"strategy": "time", "time_column": "date"}}
    response = client.post(VALIDATE, json=stratified, headers=tenant_headers())
    assert [error["field"] for error in response.json()["errors"]] == ["split.strategy"]


ROWS = "FROM range(200)"


@pytest.mark.parametrize(
    ("query", "change", "field", "message"),
    [
        (
            f"SELECT range AS x, NULL::DOUBLE AS z, range % 2 AS y {ROWS}",
            {},
            "feature_columns.1",
            "z holds only NULL values",
        ),
        (
            f"SELECT range AS x, range % 7 AS z, NULL::INTEGER AS y {ROWS}",
            {},
            "target_column",
            "y holds only NULL values",
        ),
        (
            f"SELECT CASE WHEN range = 5 THEN '-inf'::DOUBLE ELSE range END AS x, range % 7 AS z, "
            f"range % 2 AS y {ROWS}",
            {},
            "feature_columns.0",
            "x holds infinite values (±inf); replace or filter them in the SQL",
        ),
        (
            f"SELECT range AS x, range % 7 AS z, CASE WHEN range = 5 THEN 'inf'::DOUBLE "
            f"ELSE range END AS y {ROWS}",
            {"task_type": "regression"},
            "target_column",
            "y holds infinite values (±inf); replace or filter them in the SQL",
        ),
        (
            f"SELECT 3 AS x, range % 7 AS z, range % 2 AS y {ROWS}",
            {"feature_columns": ["x"]},
            "feature_columns.0",
            "x is the only feature and holds a single value; the model could learn nothing from it",
        ),
        (
            f"SELECT range AS x, range % 7 AS z, 'a' || (range % 3) AS t, range % 2 AS y {ROWS}",
            {"split": {"strategy": "time", "time_column": "t"}},
            "split.time_column",
            "t is categorical (VARCHAR); the rows are ordered by a date, timestamp or number "
            "column (cast it in the SQL)",
        ),
        (
            f"SELECT range AS x, range % 7 AS z, CASE WHEN range > 3 THEN range END AS t, "
            f"range % 2 AS y {ROWS}",
            {"split": {"strategy": "time", "time_column": "t"}},
            "split.time_column",
            "t has 4 NULL values; a time split orders every row by it (filter or fill them in "
            "the SQL)",
        ),
    ],
)
def test_refuses_degenerate_data_naming_the_column(
    client: TestClient, query: str, change: dict, field: str, message: str
) -> None:
    config = generated_config(dataset={"source": "sql", "query": query}, **change)
    for path in (VALIDATE, SUBMIT):
        response = client.post(path, json=config, headers=tenant_headers("degenerate-co"))
        assert response.status_code == 422, response.text
        assert response.json()["errors"] == [{"field": field, "message": message}]


def test_refuses_a_series_too_short_for_the_horizon(client: TestClient) -> None:
    config = {
        "name": "short",
        "algorithm": "arima",
        "task_type": "forecasting",
        "dataset": {
            "source": "sql",
            "query": "SELECT DATE '2024-01-01' + range::INTEGER AS d, range::DOUBLE AS v "
            "FROM range(20)",
        },
        "target_column": "v",
        "time_column": "d",
        "horizon": 14,
        "frequency": "D",
    }
    response = client.post(VALIDATE, json=config, headers=tenant_headers("degenerate-co"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "horizon",
            "message": "d spans 20 periods of D; a horizon of 14 needs at least 24 (10 to fit on)",
        }
    ]


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
    # the same key with another body: 422 naming the key (IETF Idempotency-Key draft)
    reused = client.post(SUBMIT, json=generated_config(name="other"), headers=headers)
    assert reused.status_code == 422, reused.text
    [error] = reused.json()["errors"]
    assert error["field"] == "Idempotency-Key"
    assert error["message"].startswith(f"this key was used for job {job_id} with a different")
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
        "tenant busy-co already has 5 active jobs (training, batch prediction, tuning sweep, "
        "profiling, materialisation; its max_concurrent_jobs, from MLS_MAX_TRAINING_JOBS or "
        "MLS_TENANT_LIMITS); wait for one to finish or cancel one"
    )
    assert response.headers["Retry-After"]
    # three-jobs-co's MLS_TENANT_LIMITS entry (conftest) lowers its quota to 3
    for _ in range(3):
        store.submit("three-jobs-co", None, a_new_job(), max_active_jobs=5)
    response = client.post(SUBMIT, json=generated_config(), headers=tenant_headers("three-jobs-co"))
    assert response.status_code == 429
    assert "already has 3 active jobs" in response.json()["detail"]
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
    with TestClient(restarted, headers=AUTHORIZATION) as client:
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
