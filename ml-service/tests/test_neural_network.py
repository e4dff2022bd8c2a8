"""The PyTorch MLP on Ray Train: classification, regression, reproducibility, the logged pyfunc."""

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
import torch
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient

from app.training.algorithms.neural_network import fit_network
from tests.conftest import churn_config, tenant_headers, train_all

SUBMIT = "/api/v1/training/submit"
# Few epochs and large batches keep the module quick; enough to learn the demo churn signal.
SMALL = {"hidden_layers": [16, 8], "epochs": 4, "batch_size": 128, "learning_rate": 0.01}


def nn_churn(name: str, **overrides: object) -> dict:
    return churn_config(
        name=name, algorithm="neural_network", hyperparameters=SMALL, **overrides
    )


@pytest.fixture(scope="module")
def jobs(client: TestClient) -> dict[str, dict]:
    submissions = {
        "churn": nn_churn("nn-churn"),
        "contract": nn_churn("nn-contract", target_column="contract_type"),
        "value": {
            "name": "nn-value",
            "algorithm": "neural_network",
            "task_type": "regression",
            "dataset": {"source": "table", "table": "ml_features.customer_value"},
            "target_column": "lifetime_value",
            "split": {"strategy": "random", "test_size": 0.25, "random_state": 7},
            "hyperparameters": SMALL | {"epochs": 8, "activation": "gelu", "dropout": 0},
        },
    }
    return train_all(client, submissions)


def test_binary_classification_learns_churn_with_epoch_history(
    jobs: dict[str, dict], client: TestClient
) -> None:
    job = jobs["churn"]
    assert job["status"] == "completed", job["error"]
    assert job["metrics"]["auc_roc"] > 0.7
    assert job["progress"]["iteration"] == job["progress"]["total_iterations"] == 4
    assert {"train-loss", "test-loss", "test-accuracy", "test-auc"} <= set(
        job["progress"]["metrics"]
    )
    # permutation importance: every feature, normalised, largest first
    importance = job["feature_importance"]
    assert "contract_type" in importance
    assert sum(importance.values()) == pytest.approx(1.0)
    assert list(importance.values()) == sorted(importance.values(), reverse=True)

    tracking = MlflowClient(client.app.state.tracking.tracking_uri)
    history = tracking.get_metric_history(job["mlflow_run_id"], "train-loss_by_iteration")
    assert [entry.step for entry in history] == [1, 2, 3, 4]


def _loop_config(seed: int) -> dict:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 4)).astype(np.float32)
    labels = (features[:, 0] + features[:, 1] > 0).astype(np.int64)
    return {
        "task_type": "classification",
        "architecture": {
            "input_size": 4, "hidden_layers": [8], "activation": "relu", "dropout": 0.2,
            "outputs": 2,
        },
        "x_train": features[:150], "y_train": labels[:150],
        "x_test": features[150:], "y_test": labels[150:],
        "target_scale": (0.0, 1.0), "seed": seed, "threads": 1, "learning_rate": 0.01,
        "weight_decay": 0.0, "epochs": 3, "batch_size": 32,
    }  # fmt: skip


def test_random_state_repeats_the_weights_exactly() -> None:
    """The worker's loop without Ray: same seed, same weights and history; another seed differs."""
    runs = []
    for seed in (42, 42, 7):
        history: list = []
        network = fit_network(_loop_config(seed), lambda *entry, h=history: h.append(entry))
        runs.append((network.state_dict(), history))
    (first, first_history), (second, second_history), (other, _) = runs
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert first_history == second_history
    assert [epoch for epoch, _ in first_history] == [1, 2, 3]
    assert not all(torch.equal(first[name], other[name]) for name in first)


def test_multi_class_and_regression(jobs: dict[str, dict]) -> None:
    contract = jobs["contract"]
    assert contract["status"] == "completed", contract["error"]
    assert len(contract["metrics"]["confusion_matrix"]) >= 3
    value = jobs["value"]
    assert value["status"] == "completed", value["error"]
    assert set(value["metrics"]) == {"rmse", "mae", "r2", "mape"}
    assert value["metrics"]["r2"] > 0.5
    assert "test-rmse" in value["progress"]["metrics"]


def test_logged_model_predicts_on_raw_columns(jobs: dict[str, dict], client: TestClient) -> None:
    job = jobs["churn"]
    mlflow.set_tracking_uri(client.app.state.tracking.tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{job['model_artifact_id']}")
    row = {
        "tenure": 3.0, "monthly_charges": 95.5, "total_charges": 280.0,
        "contract_type": "month-to-month", "internet_service": "fiber_optic",
        "payment_method": "electronic_check", "senior_citizen": False, "num_support_tickets": 4.0,
    }  # fmt: skip
    assert set(model.metadata.get_input_schema().input_names()) == set(row)
    unseen = row | {"contract_type": "three-year", "total_charges": None}
    # The signature carries the user's types: the BOOLEAN column is a boolean, not its 0/1 code.
    predicted = model.predict(pd.DataFrame([row, unseen]))
    assert predicted.columns[0] == "prediction"
    assert predicted["prediction"].iloc[0] in (True, False, 0, 1)
    probabilities = predicted.drop(columns="prediction")
    assert probabilities.sum(axis=1).to_list() == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize(
    ("hyperparameters", "field"),
    [
        ({"hidden_layers": 32}, "hyperparameters.hidden_layers"),
        ({"hidden_layers": []}, "hyperparameters.hidden_layers"),
        ({"hidden_layers": [16, 0]}, "hyperparameters.hidden_layers"),
        ({"activation": "sigmoid"}, "hyperparameters.activation"),
        ({"dropout": 0.95}, "hyperparameters.dropout"),
        ({"epochs": 0}, "hyperparameters.epochs"),
        ({"n_estimators": 10}, "hyperparameters.n_estimators"),
    ],
)
def test_bad_hyperparameters_are_refused(
    client: TestClient, hyperparameters: dict, field: str
) -> None:
    config = churn_config(algorithm="neural_network", hyperparameters=hyperparameters)
    response = client.post(SUBMIT, json=config, headers=tenant_headers())
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
