"""Training on a feature set version (`dataset.source: "feature_set"`) on the real Feast,
warehouse, Ray and MLflow: the job trains on the point-in-time frame, and lineage runs both ways
(job, run and registered version name the feature set version; the version lists them)."""

from fastapi.testclient import TestClient

from tests.conftest import tenant_headers, wait_for_status

# The demo customers' charges known from 1 January 2024 and a rise of 1000 known from 1 June.
HISTORY = (
    "SELECT customer_id, TIMESTAMP '2024-01-01' AS updated_at, tenure, monthly_charges, "
    "contract_type FROM ml_features.customer_churn UNION ALL SELECT customer_id, "
    "TIMESTAMP '2024-06-01', tenure, monthly_charges + 1000, contract_type "
    "FROM ml_features.customer_churn"
)
ENTITIES = {
    "source": "sql",
    "query": "SELECT customer_id, DATE '2024-03-01' AS as_of, churned "
    "FROM ml_features.customer_churn",
}
FEATURES = [
    "tenure", "monthly_charges",
    "contract_type_month-to-month", "contract_type_one-year", "contract_type_two-year",
]  # fmt: skip


def training_config(**dataset: object) -> dict:
    return {
        "name": "churn-from-features",
        "algorithm": "xgboost",
        "task_type": "classification",
        "dataset": {
            "source": "feature_set",
            "name": "churn_customer",
            "version": 1,
            "entities": ENTITIES,
            "event_timestamp_column": "as_of",
            **dataset,
        },
        "target_column": "churned",
        "feature_columns": FEATURES,
        "hyperparameters": {"n_estimators": 20, "max_depth": 3},
    }


def test_a_model_trains_on_a_feature_set_version_and_lineage_runs_both_ways(
    client: TestClient,
) -> None:
    headers = tenant_headers()
    created = client.post(
        "/api/v1/features/sets",
        json={
            "name": "churn_customer",
            "entity": {"name": "customer", "join_keys": ["customer_id"]},
            "source": {"source": "sql", "query": HISTORY},
            "timestamp_column": "updated_at",
            "features": [
                {"column": "tenure"},
                {"column": "monthly_charges"},
                {"column": "contract_type", "transform": {"type": "one_hot"}},
            ],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text

    validated = client.post("/api/v1/training/validate", json=training_config(), headers=headers)
    assert validated.status_code == 200, validated.text
    assert validated.json()["row_count"] == 5000
    assert validated.json()["feature_columns"] == FEATURES

    submitted = client.post("/api/v1/training/submit", json=training_config(), headers=headers)
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["feature_set"] == {"name": "churn_customer", "version": 1}
    job = wait_for_status(client, submitted.json()["job_id"], {"completed", "failed"})
    assert job["status"] == "completed", job["error"]
    assert job["data_summary"]["total_samples"] == 5000
    assert set(job["feature_importance"]) <= set(FEATURES)

    registered = client.post(
        "/api/v1/registry/models/churn-features/versions",
        json={"job_id": job["job_id"]},
        headers=headers,
    )
    assert registered.status_code == 201, registered.text
    tags = registered.json()["tags"]
    assert (tags["feature_set"], tags["feature_set_version"]) == ("churn_customer", "1")

    lineage = client.get(
        "/api/v1/features/sets/churn_customer/versions/1/lineage", headers=headers
    )
    assert lineage.status_code == 200, lineage.text
    (used,) = lineage.json()["training_jobs"]
    assert (used["job_id"], used["mlflow_run_id"]) == (job["job_id"], job["mlflow_run_id"])
    assert used["registered_versions"] == [
        {"model_name": "churn-features", "version": registered.json()["version"]}
    ]
    other = client.get(
        "/api/v1/features/sets/churn_customer/versions/1/lineage",
        headers=tenant_headers("feast-other"),
    )
    assert other.status_code == 404


def test_a_feature_set_dataset_that_cannot_be_built_is_refused_naming_the_field(
    client: TestClient,
) -> None:
    headers = tenant_headers()
    cases = [
        (training_config(entities=None), "dataset.entities"),
        (training_config(version=99), "dataset.version"),
        (training_config(name="no_such_set"), "dataset.name"),
        (training_config(table="ml_features.customer_churn"), "dataset.table"),
        (training_config(event_timestamp_column="missing"), "dataset.event_timestamp_column"),
    ]
    plain = training_config()
    plain["dataset"] = {"source": "table", "table": "ml_features.customer_churn", "version": 1}
    cases.append((plain, "dataset.version"))
    for config, field in cases:
        response = client.post("/api/v1/training/validate", json=config, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["errors"][0]["field"] == field, response.text
