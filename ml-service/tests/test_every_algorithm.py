"""Every tabular algorithm of the catalog: train -> register -> deploy -> predict -> batch on a
small invented table of the kinds users send (issue 10, points 3, 4, 6, 7): an INTEGER column
with a NULL, a BOOLEAN feature with a NULL, column names with spaces, brackets, dots, commas,
quotes, `<`, non-ASCII letters and one named like the trainer's working column `__label__`, and
a Yes/No target that must come back as "Yes"/"No". A registered version stands on its own: the
training table replaced, then deleted, changes nothing for it."""

import subprocess
import sys
import time
from collections.abc import Callable

import duckdb
import pytest
from fastapi.testclient import TestClient

from app.training.algorithms import ALGORITHMS
from tests.conftest import tenant_headers, train_all

SERVING = "/api/v1/serving"
TABLE = "uploads.messy_customers"
STANDALONE_TABLE = "uploads.messy_customers_standalone"
ROWS = 80
FEATURES = ["weight (kg)", "price[usd]", "member", 'Região, "plano" <a>', "__label__"]
# Small models: the module is about every path working, not about accuracy.
SMALL = {
    "xgboost": {"n_estimators": 5, "max_depth": 3},
    "lightgbm": {"n_estimators": 5, "min_child_samples": 2},
    "random_forest": {"n_estimators": 5},
    "linear": {},
    "neural_network": {"epochs": 2, "hidden_layers": [8]},
}
TABULAR = [
    name for name, algorithm in ALGORITHMS.items() if "classification" in algorithm.task_types
]
FORECASTERS = [
    name for name, algorithm in ALGORITHMS.items() if "forecasting" in algorithm.task_types
]
SERIES_TABLE = "uploads.messy_series"
RECORD = {
    "weight (kg)": None,
    "price[usd]": 19.5,
    "member": None,
    'Região, "plano" <a>': "básico",
    "__label__": 0.25,
}


def messy_rows(labels: tuple[str, str] = ("Yes", "No")) -> list[tuple]:
    rows = []
    for index in range(ROWS):
        weight = None if index == 3 else 50 + index % 40
        member = None if index == 5 else index % 3 == 0
        plan = ["básico", "prêmio", "família"][index % 3]
        churn = labels[0] if (index % 4 == 0 or (weight or 0) > 80) else labels[1]
        rows.append((weight, 10.0 + index % 17, member, plan, index / ROWS, churn))
    return rows


def write_table(client: TestClient, table: str, rows: list[tuple] | None) -> None:
    """(Re)creates `table` with typed columns (INTEGER and BOOLEAN with NULLs); None drops it."""

    def work(connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute("CREATE SCHEMA IF NOT EXISTS uploads")
        if rows is None:
            connection.execute(f"DROP TABLE {table}")
            return
        connection.execute(
            f'CREATE OR REPLACE TABLE {table} ("weight (kg)" INTEGER, "price[usd]" DOUBLE, '
            'member BOOLEAN, "Região, ""plano"" <a>" VARCHAR, "__label__" DOUBLE, churn VARCHAR)'
        )
        connection.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)", rows)

    client.app.state.warehouses.write("acme-corp", work)  # type: ignore[attr-defined]


def messy_config(algorithm: str, table: str = TABLE) -> dict:
    return {
        "name": f"messy-{algorithm}",
        "algorithm": algorithm,
        "task_type": "classification",
        "dataset": {"source": "table", "table": table},
        "target_column": "churn",
        "feature_columns": FEATURES,
        "split": {"strategy": "stratified", "test_size": 0.25, "random_state": 3},
        "hyperparameters": SMALL[algorithm],
    }


def register(client: TestClient, model: str, job_id: str) -> int:
    response = client.post(
        f"/api/v1/registry/models/{model}/versions", json={"job_id": job_id},
        headers=tenant_headers(),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return int(response.json()["version"])


def deploy(client: TestClient, model: str, version: int, runtime: str = "embedded") -> dict:
    response = client.post(
        f"{SERVING}/deployments",
        json={"model_name": model, "version": version, "model_id": model, "runtime": runtime},
        headers=tenant_headers(),
    )
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 180
    while True:
        body = client.get(f"{SERVING}/deployments/{model}", headers=tenant_headers()).json()
        if body["status"] != "deploying" or time.monotonic() > deadline:
            assert body["status"] == "healthy", body
            return body
        time.sleep(0.3)


def undeploy(client: TestClient, model: str) -> None:
    response = client.delete(f"{SERVING}/deployments/{model}", headers=tenant_headers())
    assert response.status_code == 204, response.text


def predict(client: TestClient, model: str, body: dict) -> list[dict]:
    response = client.post(f"{SERVING}/{model}/predict", json=body, headers=tenant_headers())
    assert response.status_code == 200, response.text
    return response.json()["predictions"]


def batch(client: TestClient, model: str, table: str, output: str) -> dict:
    response = client.post(
        f"{SERVING}/batch",
        json={"model_id": model, "dataset": {"source": "table", "table": table},
              "output_table": output},
        headers=tenant_headers(),
    )  # fmt: skip
    assert response.status_code == 202, response.text
    batch_id = response.json()["batch_id"]
    deadline = time.monotonic() + 120
    while True:
        body = client.get(f"{SERVING}/batch/{batch_id}", headers=tenant_headers()).json()
        if body["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def query(client: TestClient, sql: str) -> list[tuple]:
    return client.app.state.warehouses.write(  # type: ignore[attr-defined]
        "acme-corp", lambda connection: connection.execute(sql).fetchall()
    )


@pytest.fixture(scope="module")
def jobs(client: TestClient) -> dict[str, dict]:
    write_table(client, TABLE, messy_rows())
    # One at a time: on the session's 2 CPUs, the five submitted at once had made no progress
    # after four minutes (Ray Train workers and the Ray Data tasks feeding them compete for CPUs).
    return {
        name: train_all(client, {name: messy_config(name)}, timeout=600)[name]
        for name in TABULAR
    }


def test_the_cases_cover_every_algorithm_of_the_catalog() -> None:
    assert set(TABULAR) == set(SMALL)
    assert set(TABULAR) | set(FORECASTERS) == set(ALGORITHMS)
    assert all(ALGORITHMS[name].name == name for name in ALGORITHMS)


def test_a_process_running_one_algorithm_imports_only_its_module() -> None:
    # A sweep's trial actor runs XGBoost: PyTorch, Prophet, skops and MLflow (seconds of CPU)
    # stay out.
    probe = (
        "import sys; from app.training.algorithms import ALGORITHMS; ALGORITHMS['xgboost']; "
        "print(sorted({'torch', 'prophet', 'skops', 'mlflow', 'xgboost'} & set(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['xgboost']"


@pytest.mark.parametrize("algorithm", TABULAR)
def test_trains_deploys_predicts_and_batch_predicts_a_messy_table(
    client: TestClient, jobs: dict[str, dict], algorithm: str
) -> None:
    job = jobs[algorithm]
    assert job["status"] == "completed", job["error"]
    # importance under the user's names, the working column's namesake included
    assert set(job["feature_importance"]) == set(FEATURES)
    model = f"messy-{algorithm.replace('_', '-')}"
    version = register(client, model, job["job_id"])
    signature = client.get(
        f"/api/v1/registry/models/{model}/versions/{version}", headers=tenant_headers()
    ).json()["signature"]
    assert [column["name"] for column in signature["inputs"]] == FEATURES
    # one Ray Serve case; the embedded runtime elsewhere (same LoadedModel, no replica start-up)
    runtime = "ray_serve" if algorithm == "xgboost" else "embedded"
    deployment = deploy(client, model, version, runtime)
    try:
        assert [field["name"] for field in deployment["inputs"]] == FEATURES
        [single] = predict(client, model, RECORD)
        assert single["class"] in ("Yes", "No")
        assert set(single["probabilities"]) == {"Yes", "No"}
        many = predict(
            client, model, {"instances": [RECORD, RECORD | {"member": True, "weight (kg)": 90}]}
        )
        assert many[0]["score"] == pytest.approx(single["score"])
        output = f"messy_{algorithm}"
        result = batch(client, model, TABLE, output)
        assert result["status"] == "completed", result
        assert result["rows_done"] == ROWS
        rows = query(client, f"SELECT churn, predicted_class FROM predictions.{output}")
        assert len(rows) == ROWS
        assert {predicted for _, predicted in rows} <= {"Yes", "No"}
    finally:
        undeploy(client, model)


def test_a_registered_version_needs_no_training_table(client: TestClient) -> None:
    """Deploy reads the feature spec and drift reference stored with the version: a replaced
    table (other labels, other rows) and then no table at all change nothing."""
    write_table(client, STANDALONE_TABLE, messy_rows())
    config = messy_config("xgboost", STANDALONE_TABLE)
    job = train_all(client, {"xgboost": config}, timeout=600)["xgboost"]
    assert job["status"] == "completed", job["error"]
    model = "messy-standalone"
    version = register(client, model, job["job_id"])

    def answers_in_the_training_labels() -> None:
        deploy(client, model, version)
        try:
            [prediction] = predict(client, model, RECORD)
            assert prediction["class"] in ("Yes", "No")
            assert set(prediction["probabilities"]) == {"Yes", "No"}
            drift = client.get(f"{SERVING}/{model}/drift", headers=tenant_headers())
            assert drift.status_code == 200, drift.text
            assert {item["feature"] for item in drift.json()["features"]} == set(FEATURES)
        finally:
            undeploy(client, model)

    changes: list[Callable[[], None]] = [
        lambda: write_table(client, STANDALONE_TABLE, messy_rows(("Ja", "Nein"))[:20]),
        lambda: write_table(client, STANDALONE_TABLE, None),
    ]
    for change in changes:
        change()
        answers_in_the_training_labels()



def write_series(client: TestClient) -> None:
    def work(connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute("CREATE SCHEMA IF NOT EXISTS uploads")
        connection.execute(
            f"CREATE OR REPLACE TABLE {SERIES_TABLE} AS SELECT "
            """DATE '2024-01-01' + i::INTEGER AS "día", """
            '100 + i + 10 * (i % 7 = 5)::INTEGER AS "sales ($)" FROM range(60) t(i)'
        )

    client.app.state.warehouses.write("acme-corp", work)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def forecasts(client: TestClient) -> dict[str, dict]:
    write_series(client)
    configs = {
        name: {
            "name": f"series-{name}",
            "algorithm": name,
            "task_type": "forecasting",
            "dataset": {"source": "table", "table": SERIES_TABLE},
            "target_column": "sales ($)",
            "time_column": "día",
            "horizon": 5,
            "frequency": "D",
        }
        for name in FORECASTERS
    }
    return train_all(client, configs, timeout=600)


@pytest.mark.parametrize("algorithm", FORECASTERS)
def test_a_forecaster_deploys_and_forecasts_the_next_periods_with_intervals(
    client: TestClient, forecasts: dict[str, dict], algorithm: str
) -> None:
    job = forecasts[algorithm]
    assert job["status"] == "completed", job["error"]
    model = f"series-{algorithm}"
    version = register(client, model, job["job_id"])
    deployment = deploy(client, model, version)
    try:
        assert deployment["task_type"] == "forecasting"
        assert deployment["inputs"] == [{"name": "periods", "type": "long"}]
        points = predict(client, model, {"periods": 3})
        # the 60 days run to 2024-02-29; the forecast starts the day after
        assert [point["timestamp"][:10] for point in points] == [
            "2024-03-01", "2024-03-02", "2024-03-03",
        ]  # fmt: skip
        for point in points:
            assert point["lower"] <= point["value"] <= point["upper"]
            assert 120 < point["value"] < 200
        for body, field in [({"periods": 0}, "periods"), ({"periods": 2, "x": 1}, "x"),
                            ({"instances": [{"periods": 2}]}, "instances")]:  # fmt: skip
            refused = client.post(f"{SERVING}/{model}/predict", json=body, headers=tenant_headers())
            assert refused.status_code == 422, refused.text
            assert field in {item["field"] for item in refused.json()["errors"]}
        feedback = client.post(
            f"{SERVING}/{model}/feedback",
            json=[{"prediction_id": points[0]["prediction_id"], "actual": 160.0}],
            headers=tenant_headers(),
        )
        assert feedback.status_code == 200, feedback.text
        assert feedback.json()["recorded"] == 1
        batched = client.post(
            f"{SERVING}/batch",
            json={"model_id": model, "dataset": {"source": "table", "table": SERIES_TABLE},
                  "output_table": "series_out"},
            headers=tenant_headers(),
        )  # fmt: skip
        assert batched.status_code == 409, batched.text
    finally:
        undeploy(client, model)
