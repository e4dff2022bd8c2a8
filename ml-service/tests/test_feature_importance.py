"""What matters for a target (GET /api/v1/features/importance) on real models trained in the
test (XGBoost and a random forest on Ray, registered in MLflow) and a real feature set on Feast:
which model is chosen and why, the importance it recorded, the profiler's association on the
feature set's point-in-time frame, the charts, tenancy and the 404/422 that name the field.

Each target is a renamed copy of `churned` of this test's own, so models other tests train on
the demo tenant's `churned` never change which model is chosen here."""

from fastapi.testclient import TestClient

from tests.conftest import tenant_headers, train_all, wait_for_status

IMPORTANCE = "/api/v1/features/importance"
HISTORY = (
    "SELECT customer_id, TIMESTAMP '2024-01-01' AS updated_at, tenure, monthly_charges, "
    "contract_type FROM ml_features.customer_churn"
)


def churn_model(target: str, algorithm: str, **hyperparameters: object) -> dict:
    return {
        "name": f"importance-{algorithm}",
        "algorithm": algorithm,
        "task_type": "classification",
        "dataset": {
            "source": "sql",
            "query": f"SELECT tenure, monthly_charges, contract_type, churned AS {target} "
            "FROM ml_features.customer_churn",
        },
        "target_column": target,
        "split": {"strategy": "stratified", "test_size": 0.2, "random_state": 7},
        "hyperparameters": hyperparameters,
    }


def importance(client: TestClient, tenant: str = "acme-corp", **query: object):
    return client.get(IMPORTANCE, params=query, headers=tenant_headers(tenant))


def test_the_target_s_production_model_else_the_latest_registered_else_the_latest_job(
    client: TestClient,
) -> None:
    headers = tenant_headers()
    jobs = train_all(
        client,
        {
            "xgboost": churn_model("left_us", "xgboost", n_estimators=20, max_depth=3),
            "forest": churn_model("left_us", "random_forest", n_estimators=20, max_depth=4),
        },
    )
    assert {job["status"] for job in jobs.values()} == {"completed"}, jobs

    # Nothing registered: the latest completed job with that target (the forest, submitted last).
    answer = importance(client, target="left_us")
    assert answer.status_code == 200, answer.text
    model = answer.json()["model"]
    assert (model["chosen_by"], model["job_id"]) == ("training_job", jobs["forest"]["job_id"])
    assert model["model_name"] is None
    assert model["importance_kind"].startswith("mean decrease in impurity")
    assert model["test_metrics"] == jobs["forest"]["metrics"]
    scores = {item["feature"]: item["importance"] for item in model["feature_importance"]}
    assert scores == jobs["forest"]["feature_importance"]
    assert abs(sum(scores.values()) - 1) < 1e-9

    for label, name in (("xgboost", "leavers-xgb"), ("forest", "leavers-forest")):
        registered = client.post(
            f"/api/v1/registry/models/{name}/versions",
            json={"job_id": jobs[label]["job_id"]},
            headers=headers,
        )
        assert registered.status_code == 201, registered.text

    # Registered, none in Production: the latest registered version (the forest's).
    model = importance(client, target="left_us").json()["model"]
    assert (model["chosen_by"], model["model_name"], model["model_version"]) == (
        "latest_version", "leavers-forest", "1",
    )  # fmt: skip

    promoted = client.post(
        "/api/v1/registry/models/leavers-xgb/versions/1/stage",
        json={"stage": "Production", "reason": "best AUC"},
        headers=headers,
    )
    assert promoted.status_code == 200, promoted.text
    answer = importance(client, target="left_us").json()
    model = answer["model"]
    assert (model["chosen_by"], model["model_name"], model["stage"]) == (
        "production", "leavers-xgb", "Production",
    )  # fmt: skip
    assert "leavers-xgb version 1 is in Production" in model["reason"]
    assert model["job_id"] == jobs["xgboost"]["job_id"]
    assert model["importance_kind"].startswith("total gain")
    assert model["test_metrics"]["auc_roc"] == jobs["xgboost"]["metrics"]["auc_roc"]
    assert {i["feature"]: i["importance"] for i in model["feature_importance"]} == (
        jobs["xgboost"]["feature_importance"]
    )
    assert [chart["name"] for chart in answer["charts"]] == ["feature_importance"]

    # Named explicitly: that version, whatever is in Production.
    model = importance(client, model_name="leavers-forest", model_version="1").json()["model"]
    assert (model["chosen_by"], model["model_name"]) == ("requested", "leavers-forest")

    png = client.get(
        f"{IMPORTANCE}/charts/feature_importance",
        params={"target": "left_us"},
        headers=tenant_headers(Accept="image/png"),
    )
    assert png.status_code == 200, png.text
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    spec = client.get(
        f"{IMPORTANCE}/charts/feature_importance", params={"target": "left_us"}, headers=headers
    ).json()
    assert "leavers-xgb v1" in spec["title"]["text"]
    assert {row["feature"] for row in spec["data"]["values"]} == set(scores)

    # Another tenant has no model for this target.
    other = importance(client, "importance-other", target="left_us")
    assert other.status_code == 404
    assert other.json()["detail"].startswith("target:")


def test_a_feature_set_s_association_with_the_target_on_its_point_in_time_frame(
    client: TestClient,
) -> None:
    headers = tenant_headers()
    created = client.post(
        "/api/v1/features/sets",
        json={
            "name": "importance_customer",
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
    features = [column for item in created.json()["fitted"] for column in item["columns"]]

    # No model trained on it yet: nothing to profile.
    missing = importance(client, target="cancelled", feature_set="importance_customer")
    assert missing.status_code == 404
    assert missing.json()["detail"].startswith("target:")

    submitted = client.post(
        "/api/v1/training/submit",
        json={
            "name": "importance-from-features",
            "algorithm": "xgboost",
            "task_type": "classification",
            "dataset": {
                "source": "feature_set",
                "name": "importance_customer",
                "version": 1,
                "entities": {
                    "source": "sql",
                    "query": "SELECT customer_id, DATE '2024-03-01' AS as_of, churned AS "
                    "cancelled FROM ml_features.customer_churn",
                },
                "event_timestamp_column": "as_of",
            },
            "target_column": "cancelled",
            "feature_columns": features,
            "hyperparameters": {"n_estimators": 20, "max_depth": 3},
        },
        headers=headers,
    )
    assert submitted.status_code == 202, submitted.text
    job = wait_for_status(client, submitted.json()["job_id"], {"completed", "failed"})
    assert job["status"] == "completed", job["error"]

    answer = importance(client, target="cancelled", feature_set="importance_customer")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"]["job_id"] == job["job_id"]
    assert body["model"]["feature_set"] == {"name": "importance_customer", "version": 1}
    association = body["feature_set"]
    assert (association["frame"], association["job_id"], association["rows"]) == (
        "point_in_time", job["job_id"], 5000,
    )  # fmt: skip
    assert association["table"].startswith("training_sets.importance_customer_v1_")
    measured = {item["feature"]: item for item in association["associations"]}
    assert set(measured) == set(features)
    # The demo's churn depends on the contract (synthetic signal, documented): a month-to-month
    # contract is associated with churn more than a two-year one is.
    assert measured["contract_type_month-to-month"]["value"] > 0.1
    values = [item["value"] for item in association["associations"]]
    assert values == sorted(values, reverse=True)
    assert [chart["name"] for chart in body["charts"]] == [
        "feature_importance", "target_associations",
    ]  # fmt: skip
    spec = client.get(
        f"{IMPORTANCE}/charts/target_associations",
        params={"target": "cancelled", "feature_set": "importance_customer"},
        headers=headers,
    ).json()
    assert {row["feature"] for row in spec["data"]["values"]} == set(features)

    for query, field in (
        ({"feature_set_version": 99}, "feature_set_version"),
        ({"feature_set": "no_such_set"}, "feature_set"),
    ):
        query = {"target": "cancelled", "feature_set": "importance_customer", **query}
        response = importance(client, **query)
        assert response.status_code == 404, response.text
        assert response.json()["detail"].startswith(f"{field}:"), response.text


def test_a_question_that_matches_nothing_or_contradicts_itself_names_the_field(
    client: TestClient,
) -> None:
    cases = [
        ({}, 422, "target"),
        ({"model_version": "1"}, 422, "model_version"),
        ({"target": "churned", "feature_set_version": 1}, 422, "feature_set_version"),
        ({"target": "no_such_column"}, 404, "target"),
        ({"model_name": "no-such-model"}, 404, "model_name"),
        ({"target": "churned", "model_name": "x", "unknown": "1"}, 422, "unknown"),
    ]
    for query, status, field in cases:
        response = importance(client, **query)
        assert response.status_code == status, (query, response.text)
        assert field in response.text, (query, response.text)
    not_png = client.get(
        f"{IMPORTANCE}/charts/feature_importance",
        params={"target": "churned"},
        headers=tenant_headers(Accept="text/csv"),
    )
    assert not_png.status_code == 406
