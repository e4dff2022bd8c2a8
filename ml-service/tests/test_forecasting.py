"""Prophet and ARIMA on the demo daily revenue: held-out tail metrics, forecast, field checks."""

import mlflow.pyfunc
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient

from tests.conftest import churn_config, tenant_headers, train_all

SUBMIT = "/api/v1/training/submit"
HORIZON = 14


def revenue_config(algorithm: str, **overrides: object) -> dict:
    config = {
        "name": f"revenue-{algorithm}",
        "algorithm": algorithm,
        "task_type": "forecasting",
        "dataset": {"source": "table", "table": "ml_features.daily_revenue"},
        "target_column": "revenue",
        "time_column": "date",
        "horizon": HORIZON,
        "frequency": "D",
        "split": {"strategy": "random", "test_size": 0.2, "random_state": 42},
        "hyperparameters": {},
    }
    return config | overrides


@pytest.fixture(scope="module")
def jobs(client: TestClient) -> dict[str, dict]:
    submissions = {
        "prophet": revenue_config("prophet"),
        "arima": revenue_config("arima", hyperparameters={"seasonal_order": [1, 0, 1, 7]}),
        # monthly totals: the days of a month are summed into one period
        "arima-monthly": revenue_config(
            "arima", frequency="MS", horizon=3, hyperparameters={"order": [1, 1, 0]}
        ),
    }
    return train_all(client, submissions)


@pytest.mark.parametrize("label", ["prophet", "arima"])
def test_daily_revenue_forecast_scores_the_tail_and_looks_ahead(
    jobs: dict[str, dict], client: TestClient, label: str
) -> None:
    job = jobs[label]
    assert job["status"] == "completed", job["error"]
    assert job["task_type"] == "forecasting"
    metrics = job["metrics"]
    assert set(metrics) == {"mape", "smape", "rmse", "mae"}
    assert 0 < metrics["mape"] < 0.25
    assert job["feature_importance"] is None
    assert job["data_summary"] == {"total_samples": 731, "train_samples": 717, "test_samples": 14}
    forecast = job["forecast"]
    assert forecast["frequency"] == "D"
    assert forecast["interval_width"] == 0.8
    holdout, future = forecast["holdout"], forecast["future"]
    assert len(holdout) == len(future) == HORIZON
    assert holdout[0]["timestamp"].startswith("2024-12-18")
    assert future[0]["timestamp"].startswith("2025-01-01")
    assert all(point["actual"] is not None for point in holdout)
    assert all(point["actual"] is None for point in future)
    assert all(point["lower"] <= point["value"] <= point["upper"] for point in holdout + future)
    progress = job["progress"]
    assert progress["iteration"] == progress["total_iterations"] == 3
    assert progress["stage"] == "logging the model"
    assert progress["metrics"]["test-mape"] == metrics["mape"]

    tracking = MlflowClient(client.app.state.tracking.tracking_uri)
    run = tracking.get_run(job["mlflow_run_id"])
    assert run.data.metrics["smape"] == metrics["smape"]
    assert run.data.params["horizon"] == str(HORIZON)
    mlflow.set_tracking_uri(client.app.state.tracking.tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{job['model_artifact_id']}")
    assert model.metadata.flavors.keys() >= {"python_function"}


def test_prophet_model_predicts_from_timestamps(jobs: dict[str, dict], client: TestClient) -> None:
    job = jobs["prophet"]
    mlflow.set_tracking_uri(client.app.state.tracking.tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{job['model_artifact_id']}")
    predicted = model.predict(pd.DataFrame({"ds": pd.date_range("2025-01-01", periods=3)}))
    assert predicted["yhat"].iloc[0] == pytest.approx(job["forecast"]["future"][0]["value"], 0.05)


def test_monthly_frequency_sums_the_days(jobs: dict[str, dict]) -> None:
    job = jobs["arima-monthly"]
    assert job["status"] == "completed", job["error"]
    assert job["data_summary"] == {"total_samples": 24, "train_samples": 21, "test_samples": 3}
    assert job["forecast"]["future"][0]["timestamp"].startswith("2025-01-01")
    # a month of the demo revenue is about thirty days of ~12-16k
    assert 300_000 < job["forecast"]["future"][0]["value"] < 700_000


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"time_column": None}, "time_column"),
        ({"horizon": None}, "horizon"),
        ({"horizon": 0}, "horizon"),
        ({"frequency": None}, "frequency"),
        ({"frequency": "fortnightly"}, "frequency"),
        ({"feature_columns": ["date"]}, "feature_columns"),
        ({"split": {"strategy": "stratified", "test_size": 0.2}}, "split.strategy"),
        ({"time_column": "revenue"}, "time_column"),
        ({"time_column": "day"}, "time_column"),
        ({"target_column": "date"}, "target_column"),
        ({"algorithm": "xgboost"}, "task_type"),
        ({"hyperparameters": {"order": [1, 1]}}, "hyperparameters.order"),
        ({"hyperparameters": {"seasonal_order": [1, 0, 1, 1]}}, "hyperparameters.seasonal_order"),
    ],
)
def test_forecasting_fields_are_checked(client: TestClient, overrides: dict, field: str) -> None:
    config = revenue_config("arima") | overrides
    response = client.post(SUBMIT, json=config, headers=tenant_headers())
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].endswith(field)


@pytest.mark.parametrize("field", ["time_column", "horizon", "frequency"])
def test_forecasting_fields_are_refused_for_other_tasks(client: TestClient, field: str) -> None:
    value = {"time_column": "tenure", "horizon": 3, "frequency": "D"}[field]
    response = client.post(SUBMIT, json=churn_config(**{field: value}), headers=tenant_headers())
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_prophet_is_for_forecasting_only(client: TestClient) -> None:
    response = client.post(
        SUBMIT, json=churn_config(algorithm="prophet", hyperparameters={}), headers=tenant_headers()
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "task_type"
