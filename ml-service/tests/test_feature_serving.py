"""A deployment of a model trained on a feature set version predicts by entity key alone: the
features come from that version's online values (real Feast, Ray, MLflow), a later version of the
set changes nothing for it, an unknown key is a 422 naming the row, and a version never
materialised is a 409."""

import time

from fastapi.testclient import TestClient

from app.datasets.schemas import DatasetSource
from tests.conftest import tenant_headers, wait_for_status

SERVING = "/api/v1/serving"
SET = "serving_customer"
BASE = {
    "name": SET,
    "entity": {"name": "customer", "join_keys": ["customer_id"]},
    "source": {"source": "table", "table": "ml_features.customer_churn"},
    "timestamp_column": "updated_at",
}
FEATURES_V1 = [
    {"column": "tenure"},
    {"column": "monthly_charges"},
    {"column": "contract_type", "transform": {"type": "one_hot"}},
    {"column": "num_support_tickets", "transform": {"type": "window", "aggregation": "sum",
                                                    "days": 3650}},
]  # fmt: skip
COLUMNS = [
    "tenure", "monthly_charges", "contract_type_month-to-month", "contract_type_one-year",
    "contract_type_two-year", "num_support_tickets_sum_3650d",
]  # fmt: skip


def materialize(client: TestClient, version: int) -> None:
    submitted = client.post(
        f"/api/v1/features/sets/{SET}/versions/{version}/materialize",
        json={},
        headers=tenant_headers(),
    )
    assert submitted.status_code == 202, submitted.text
    done = wait_for_job_of(client, submitted.json()["job_id"])
    assert done["status"] == "completed", done


def wait_for_job_of(client: TestClient, job_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=tenant_headers()).json()
        if job["status"] in {"completed", "failed", "cancelled"}:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.5)


def test_a_deployment_predicts_by_entity_key_with_its_pinned_feature_set_version(
    client: TestClient,
) -> None:
    headers = tenant_headers()
    created = client.post("/api/v1/features/sets", json={**BASE, "features": FEATURES_V1},
                          headers=headers)  # fmt: skip
    assert created.status_code == 201, created.text
    version = created.json()["version"]
    submitted = client.post(
        "/api/v1/training/submit",
        json={
            "name": "churn-by-key",
            "algorithm": "xgboost",
            "task_type": "classification",
            "dataset": {
                "source": "feature_set", "name": SET, "version": version,
                "entities": {"source": "sql", "query": "SELECT customer_id, updated_at AS as_of, "
                             "churned FROM ml_features.customer_churn"},
                "event_timestamp_column": "as_of",
            },
            "target_column": "churned",
            "feature_columns": COLUMNS,
            "hyperparameters": {"n_estimators": 20, "max_depth": 3},
        },
        headers=headers,
    )  # fmt: skip
    assert submitted.status_code == 202, submitted.text
    job = wait_for_status(client, submitted.json()["job_id"], {"completed", "failed"})
    assert job["status"] == "completed", job["error"]
    registered = client.post(
        "/api/v1/registry/models/churn-by-key/versions", json={"job_id": job["job_id"]},
        headers=headers,
    )  # fmt: skip
    assert registered.status_code == 201, registered.text
    deployed = client.post(
        f"{SERVING}/deployments",
        json={"model_name": "churn-by-key", "version": int(registered.json()["version"]),
              "runtime": "embedded"},
        headers=headers,
    )  # fmt: skip
    assert deployed.status_code == 202, deployed.text
    model_id = deployed.json()["model_id"]
    assert deployed.json()["variants"][0]["feature_set"] == {"name": SET, "version": version}
    deadline = time.monotonic() + 120
    while client.get(f"{SERVING}/deployments/{model_id}", headers=headers).json()[
        "status"
    ] == "deploying":
        assert time.monotonic() < deadline
        time.sleep(0.5)

    by_key = {"entities": {"customer_id": ["CUST-00001", "CUST-00002"]}}
    before = client.post(f"{SERVING}/{model_id}/predict", json=by_key, headers=headers)
    assert before.status_code == 409, before.text
    assert "materialize" in before.json()["detail"]
    materialize(client, version)

    # A second version computes tenure otherwise (standardised); the model keeps version 1's.
    changed = [{"column": "tenure", "transform": {"type": "standard"}, "name": "tenure"},
               *FEATURES_V1[1:]]  # fmt: skip
    second = client.post("/api/v1/features/sets", json={**BASE, "features": changed},
                         headers=headers)  # fmt: skip
    assert second.status_code == 201, second.text
    materialize(client, second.json()["version"])

    answer = client.post(f"{SERVING}/{model_id}/predict", json=by_key, headers=headers)
    assert answer.status_code == 200, answer.text
    # the same rows sent as features: the demo table's values (one row per customer, each
    # customer's only support-ticket count in the 10 years before now)
    rows = client.app.state.warehouses.read(  # type: ignore[attr-defined]
        "acme-corp",
        DatasetSource(source="sql", query="SELECT tenure, monthly_charges, contract_type, "
                      "num_support_tickets FROM ml_features.customer_churn WHERE customer_id IN "
                      "('CUST-00001', 'CUST-00002') ORDER BY customer_id"),
        "",
        lambda connection, select: connection.sql(select).fetchall(),
    )  # fmt: skip
    instances = [
        {"tenure": tenure, "monthly_charges": charges,
         "contract_type_month-to-month": int(contract == "month-to-month"),
         "contract_type_one-year": int(contract == "one-year"),
         "contract_type_two-year": int(contract == "two-year"),
         "num_support_tickets_sum_3650d": float(tickets)}
        for tenure, charges, contract, tickets in rows
    ]  # fmt: skip
    direct = client.post(f"{SERVING}/{model_id}/predict", json={"instances": instances},
                         headers=headers)  # fmt: skip
    assert direct.status_code == 200, direct.text

    def scores(response: dict) -> list[dict]:
        return [{k: v for k, v in item.items() if k != "prediction_id"}
                for item in response["predictions"]]  # fmt: skip

    assert scores(answer.json()) == scores(direct.json())

    unknown = client.post(
        f"{SERVING}/{model_id}/predict",
        json={"entities": {"customer_id": ["CUST-00001", "NOBODY"]}},
        headers=headers,
    )
    assert unknown.status_code == 422, unknown.text
    assert [error["field"] for error in unknown.json()["errors"]] == ["entities.customer_id[1]"]
    wrong_key = client.post(
        f"{SERVING}/{model_id}/predict", json={"entities": {"id": ["CUST-00001"]}},
        headers=headers,
    )  # fmt: skip
    assert wrong_key.status_code == 422, wrong_key.text
    assert wrong_key.json()["errors"][0]["field"].startswith("entities")
