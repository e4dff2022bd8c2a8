"""Real jobs on the seeded warehouse: Ray Train, XGBoost, MLflow, DuckDB end to end."""

import time

import pytest
import ray._private.state
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient

from tests.conftest import churn_config, tenant_headers, wait_for_status

SEED_RESULT_FIELDS = {
    "job_id", "status", "metrics", "feature_importance", "model_artifact_id",
    "training_duration_seconds", "data_summary",
}  # fmt: skip


@pytest.fixture(scope="module")
def finished_jobs(client: TestClient) -> dict[str, dict]:
    """Three jobs submitted together, so they share the wait."""
    submissions = {
        "churn_a": churn_config(),
        "churn_b": churn_config(name="churn-predictor-repeat"),
        "value": {
            "name": "customer-value",
            "algorithm": "xgboost",
            "task_type": "regression",
            "dataset": {"source": "table", "table": "ml_features.customer_value"},
            "target_column": "lifetime_value",
            "split": {"strategy": "random", "test_size": 0.25, "random_state": 7},
            "hyperparameters": {"n_estimators": 150, "max_depth": 4},
        },
    }
    job_ids = {}
    for label, config in submissions.items():
        response = client.post("/api/v1/training/submit", json=config, headers=tenant_headers())
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "queued"
        job_ids[label] = response.json()["job_id"]
    return {
        label: wait_for_status(client, job_id, {"completed", "failed", "cancelled"})
        for label, job_id in job_ids.items()
    }


def test_churn_classification_completes_in_the_seed_result_shape(
    finished_jobs: dict[str, dict], client: TestClient
) -> None:
    job = finished_jobs["churn_a"]
    assert job["status"] == "completed", job["error"]
    assert job.keys() >= SEED_RESULT_FIELDS
    metrics = job["metrics"]
    assert set(metrics) == {
        "accuracy", "precision", "recall", "f1_score", "auc_roc", "confusion_matrix", "log_loss",
        "per_class",
    }  # fmt: skip
    assert metrics["auc_roc"] > 0.75
    summary = job["data_summary"]
    assert summary == {"total_samples": 5000, "train_samples": 4000, "test_samples": 1000}
    assert sum(map(sum, metrics["confusion_matrix"])) == summary["test_samples"]
    importance = job["feature_importance"]
    assert "customer_id" not in importance  # identifier columns are left out by default
    assert {"tenure", "monthly_charges", "contract_type"} <= importance.keys()
    assert sum(importance.values()) == pytest.approx(1.0)
    assert list(importance.values()) == sorted(importance.values(), reverse=True)
    assert job["progress"]["iteration"] == job["progress"]["total_iterations"] == 100
    assert job["training_duration_seconds"] > 0

    run = MlflowClient(client.app.state.tracking.tracking_uri).get_run(job["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["tenant_id"] == "acme-corp"
    assert run.data.tags["job_id"] == job["job_id"]
    assert run.data.metrics["auc_roc"] == metrics["auc_roc"]
    history = MlflowClient(client.app.state.tracking.tracking_uri).get_metric_history(
        run.info.run_id, "test-logloss_by_iteration"
    )
    assert len(history) == 100
    logged_model = MlflowClient(client.app.state.tracking.tracking_uri).get_logged_model(
        job["model_artifact_id"]
    )
    assert logged_model.source_run_id == run.info.run_id


def test_same_config_and_random_state_give_identical_metrics(
    finished_jobs: dict[str, dict],
) -> None:
    first, second = finished_jobs["churn_a"], finished_jobs["churn_b"]
    assert second["status"] == "completed", second["error"]
    assert first["metrics"] == second["metrics"]
    assert first["feature_importance"] == second["feature_importance"]


def test_regression_on_customer_value_learns_the_relation(finished_jobs: dict[str, dict]) -> None:
    job = finished_jobs["value"]
    assert job["status"] == "completed", job["error"]
    assert set(job["metrics"]) == {"rmse", "mae", "r2", "mape"}
    assert job["metrics"]["r2"] > 0.8
    summary = job["data_summary"]
    assert summary["train_samples"] + summary["test_samples"] == summary["total_samples"] == 5000


def _alive_training_actors() -> list[str]:
    # The State API (ray.util.state) needs the dashboard, which this service does not start;
    # the GCS actor table answers the same question without it.
    return [
        actor["ActorClassName"]
        for actor in ray._private.state.actors().values()
        if actor["State"] != "DEAD"
        and actor["ActorClassName"]
        in {"JobDriver", "TrainController", "RayTrainWorker", "DatasetManager", "SplitCoordinator"}
    ]


def test_finished_jobs_leave_no_training_processes(finished_jobs: dict[str, dict]) -> None:
    deadline = time.monotonic() + 30
    while _alive_training_actors():
        assert time.monotonic() < deadline, f"still alive: {_alive_training_actors()}"
        time.sleep(0.5)


def test_cancel_kills_the_running_training(
    client: TestClient, finished_jobs: dict[str, dict]
) -> None:
    # On Ray Train, where a job owns a controller and workers that must die with its cancel.
    config = churn_config(
        name="long-running",
        hyperparameters={"n_estimators": 5000, "max_depth": 12},
        scaling={"ray_train": True},
    )
    submitted = client.post("/api/v1/training/submit", json=config, headers=tenant_headers())
    job_id = submitted.json()["job_id"]
    deadline = time.monotonic() + 120
    while True:
        job = client.get(f"/api/v1/training/jobs/{job_id}", headers=tenant_headers()).json()
        if job["status"] == "running" and (job["progress"] or {}).get("iteration", 0) > 0:
            break
        assert job["status"] in {"queued", "running"}, job
        assert time.monotonic() < deadline, "training never reported progress"
        time.sleep(0.5)
    assert job["progress"]["total_iterations"] == 5000
    assert _alive_training_actors()

    cancelled = client.delete(f"/api/v1/training/jobs/{job_id}", headers=tenant_headers())
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    deadline = time.monotonic() + 30
    while _alive_training_actors():
        assert time.monotonic() < deadline, f"still alive: {_alive_training_actors()}"
        time.sleep(0.5)

    again = client.delete(f"/api/v1/training/jobs/{job_id}", headers=tenant_headers())
    assert again.status_code == 409
    run = MlflowClient(client.app.state.tracking.tracking_uri).get_run(job["mlflow_run_id"])
    assert run.info.status == "KILLED"
