"""LightGBM, random forest and linear/logistic regression end to end on the demo warehouse."""

import pytest
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient

from tests.conftest import churn_config, tenant_headers, train_all

SUBMIT = "/api/v1/training/submit"
SEED_RESULT_FIELDS = {
    "job_id", "status", "metrics", "feature_importance", "model_artifact_id",
    "training_duration_seconds", "data_summary",
}  # fmt: skip
CLASSIFICATION_KEYS = {
    "accuracy", "precision", "recall", "f1_score", "auc_roc", "confusion_matrix", "log_loss",
    "per_class",
}  # fmt: skip
# Small models keep the module quick; one job queue shared by every test below.
SMALL = {
    "lightgbm": {"n_estimators": 30, "num_leaves": 15},
    "random_forest": {"n_estimators": 30, "max_depth": 8},
    "linear": {},
}


def value_config(algorithm: str) -> dict:
    return {
        "name": f"customer-value-{algorithm}",
        "algorithm": algorithm,
        "task_type": "regression",
        "dataset": {"source": "table", "table": "ml_features.customer_value"},
        "target_column": "lifetime_value",
        "split": {"strategy": "random", "test_size": 0.25, "random_state": 7},
        "hyperparameters": SMALL[algorithm],
    }


@pytest.fixture(scope="module")
def jobs(client: TestClient) -> dict[str, dict]:
    submissions = {
        **{
            f"churn-{name}": churn_config(
                name=f"churn-{name}", algorithm=name, hyperparameters=params
            )
            for name, params in SMALL.items()
        },
        "churn-random_forest-again": churn_config(
            name="churn-rf-again",
            algorithm="random_forest",
            hyperparameters=SMALL["random_forest"],
        ),
        # `logistic` names the linear algorithm for classification
        "contract-logistic": churn_config(
            name="contract-type",
            algorithm="logistic",
            target_column="contract_type",
            hyperparameters={"C": 0.5},
        ),
        **{f"value-{name}": value_config(name) for name in SMALL},
    }
    return train_all(client, submissions)


@pytest.mark.parametrize("name", list(SMALL))
def test_churn_classification_completes_with_contract_type(
    jobs: dict[str, dict], client: TestClient, name: str
) -> None:
    job = jobs[f"churn-{name}"]
    assert job["status"] == "completed", job["error"]
    assert job["algorithm"] == name
    assert job.keys() >= SEED_RESULT_FIELDS
    metrics = job["metrics"]
    assert set(metrics) == CLASSIFICATION_KEYS
    assert metrics["auc_roc"] > 0.7
    assert 0 < metrics["log_loss"] < 0.7
    assert sum(map(sum, metrics["confusion_matrix"])) == job["data_summary"]["test_samples"]
    per_class = metrics["per_class"]
    assert len(per_class) == 2
    assert sum(entry["support"] for entry in per_class.values()) == 1000
    assert {"precision", "recall", "f1_score", "support"} == set(next(iter(per_class.values())))
    importance = job["feature_importance"]
    assert "contract_type" in importance
    assert sum(importance.values()) == pytest.approx(1.0)
    assert list(importance.values()) == sorted(importance.values(), reverse=True)
    assert job["progress"]["iteration"] == job["progress"]["total_iterations"]

    tracking = MlflowClient(client.app.state.tracking.tracking_uri)
    run = tracking.get_run(job["mlflow_run_id"])
    assert run.data.metrics["log_loss"] == metrics["log_loss"]
    assert tracking.get_logged_model(job["model_artifact_id"]).source_run_id == run.info.run_id


def test_multi_class_logistic_uses_macro_averages(jobs: dict[str, dict]) -> None:
    job = jobs["contract-logistic"]
    assert job["status"] == "completed", job["error"]
    assert job["algorithm"] == "linear"
    metrics = job["metrics"]
    classes = len(metrics["confusion_matrix"])
    assert classes >= 3
    assert len(metrics["per_class"]) == classes
    assert metrics["auc_roc"] is not None
    recalls = [entry["recall"] for entry in metrics["per_class"].values()]
    assert metrics["recall"] == pytest.approx(sum(recalls) / classes, abs=1e-5)


@pytest.mark.parametrize("name", list(SMALL))
def test_regression_on_customer_value(jobs: dict[str, dict], name: str) -> None:
    job = jobs[f"value-{name}"]
    assert job["status"] == "completed", job["error"]
    assert set(job["metrics"]) == {"rmse", "mae", "r2", "mape"}
    assert job["metrics"]["r2"] > 0.7
    assert job["metrics"]["mape"] > 0
    assert sum(job["feature_importance"].values()) == pytest.approx(1.0)


def test_random_forest_repeats_exactly(jobs: dict[str, dict]) -> None:
    first, second = jobs["churn-random_forest"], jobs["churn-random_forest-again"]
    assert second["status"] == "completed", second["error"]
    assert first["metrics"] == second["metrics"]
    assert first["feature_importance"] == second["feature_importance"]


@pytest.mark.parametrize(
    ("algorithm", "hyperparameters", "field"),
    [
        ("lightgbm", {"max_leaves_typo": 3}, "hyperparameters.max_leaves_typo"),
        ("lightgbm", {"num_leaves": 1}, "hyperparameters.num_leaves"),
        ("random_forest", {"learning_rate": 0.1}, "hyperparameters.learning_rate"),
        ("random_forest", {"max_features": "half"}, "hyperparameters.max_features"),
        ("linear", {"n_estimators": 10}, "hyperparameters.n_estimators"),
        ("logistic", {"C": 0}, "hyperparameters.C"),
    ],
)
def test_unknown_or_out_of_range_hyperparameters_are_refused(
    client: TestClient, algorithm: str, hyperparameters: dict, field: str
) -> None:
    config = churn_config(algorithm=algorithm, hyperparameters=hyperparameters)
    response = client.post(SUBMIT, json=config, headers=tenant_headers())
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert field.split(".")[1] in error["message"] or field.split(".")[1] in response.text


def test_logistic_is_for_classification_only(client: TestClient) -> None:
    config = value_config("linear") | {"algorithm": "logistic"}
    response = client.post(SUBMIT, json=config, headers=tenant_headers())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "task_type"


def test_catalog_lists_every_algorithm(client: TestClient) -> None:
    catalog = client.get("/api/v1/training/algorithms", headers=tenant_headers()).json()
    task_types = {entry["name"]: entry["task_types"] for entry in catalog}
    tabular = ["classification", "regression"]
    assert task_types == {
        "xgboost": tabular, "lightgbm": tabular, "random_forest": tabular, "linear": tabular,
        "neural_network": tabular, "prophet": ["forecasting"], "arima": ["forecasting"],
    }  # fmt: skip
    for entry in catalog:
        assert all(spec["description"] for spec in entry["hyperparameters"])
    arima = {spec["name"]: spec for spec in catalog[-1]["hyperparameters"]}
    assert arima["order"]["type"] == "integer_list"
    assert arima["seasonal_order"]["nullable"] is True
