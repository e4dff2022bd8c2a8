"""Materialisation (a job of the runner) and online lookup on real Feast: the latest value per
entity as of the materialisation, window aggregates as of then, NOT_FOUND for an unknown entity,
a 409 before any materialisation, and nothing of one tenant visible to another."""

import time

import duckdb
import pytest
from fastapi.testclient import TestClient

from tests.conftest import tenant_headers

TENANT = "online-shop"
OTHER_TENANT = "online-other"

HISTORY = """
CREATE SCHEMA IF NOT EXISTS shop;
CREATE OR REPLACE TABLE shop.customer_history AS SELECT * FROM (VALUES
    ('C-1', TIMESTAMP '2024-01-01 00:00:00', 10.0::DOUBLE, 'basic'),
    ('C-1', TIMESTAMP '2024-02-01 00:00:00', 20.0, 'plus'),
    ('C-2', TIMESTAMP '2024-01-15 00:00:00', 5.0, 'basic'),
    -- known only in the future: never online before that time
    ('C-2', TIMESTAMP '2999-01-01 00:00:00', 777.0, 'gold')
) AS t(customer_id, updated_at, spend, plan);
"""

FEATURES = [
    {"column": "spend"},
    {"column": "plan", "transform": {"type": "one_hot"}},
    {"column": "spend", "transform": {"type": "window", "aggregation": "count", "days": 3650}},
]


@pytest.fixture(scope="module")
def shop(client: TestClient) -> TestClient:
    def work(connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute(HISTORY)

    client.app.state.warehouses.write(TENANT, work)  # type: ignore[attr-defined]
    return client


def wait_for_job(client: TestClient, job_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=tenant_headers(TENANT)).json()
        if job["status"] in {"completed", "failed", "cancelled"}:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.5)


def test_a_materialised_version_is_served_online_as_of_its_materialisation(
    shop: TestClient,
) -> None:
    headers = tenant_headers(TENANT)
    created = shop.post(
        "/api/v1/features/sets",
        json={
            "name": "customer",
            "entity": {"name": "customer", "join_keys": ["customer_id"]},
            "source": {"source": "table", "table": "shop.customer_history"},
            "timestamp_column": "updated_at",
            "features": FEATURES,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    lookup = {
        "features": ["customer_v1:spend", "customer_v1:plan_gold", "customer_v1:spend_count_3650d"],
        "entities": {"customer_id": ["C-1", "C-2", "C-404"]},
    }
    before = shop.post("/api/v1/features/online", json=lookup, headers=headers)
    assert before.status_code == 409, before.text
    assert "materialize" in before.json()["detail"]

    submitted = shop.post(
        "/api/v1/features/sets/customer/versions/1/materialize", json={}, headers=headers
    )
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["kind"] == "feature_materialization"
    assert submitted.json()["job_id"].startswith("materialize-")
    job = wait_for_job(shop, submitted.json()["job_id"])
    assert job["status"] == "completed", job
    assert job["progress"] == {"stage": "done", "stages_done": 3, "stages_total": 3}
    assert job["result"]["mode"] == "full"

    answer = shop.post("/api/v1/features/online", json=lookup, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # the join keys first, then the features in Feast's order: results[i] is feature_names[i]
    names = body["metadata"]["feature_names"]
    assert names[0] == "customer_id"
    assert sorted(names[1:]) == ["plan_gold", "spend", "spend_count_3650d"]
    by_name = dict(zip(names, body["results"], strict=True))
    keys, spend, gold, count = (
        by_name[name] for name in ("customer_id", "spend", "plan_gold", "spend_count_3650d")
    )
    assert keys["values"] == ["C-1", "C-2", "C-404"]
    # the latest value known now; C-2's value of 2999 is not known yet
    assert spend["values"] == [20.0, 5.0, None]
    assert spend["statuses"] == ["PRESENT", "PRESENT", "NOT_FOUND"]
    assert spend["event_timestamps"][0].startswith("2024-02-01")
    assert gold["values"][:2] == [0, 0]
    # C-2's future row is outside every window ending now
    assert count["values"][:2] == [2, 1]
    assert count["statuses"][2] == "NOT_FOUND"

    incremental = shop.post(
        "/api/v1/features/sets/customer/versions/1/materialize",
        json={"mode": "incremental"},
        headers=headers,
    )
    assert incremental.status_code == 202, incremental.text
    again = wait_for_job(shop, incremental.json()["job_id"])
    assert again["status"] == "completed", again
    assert again["result"]["mode"] == "incremental"


def test_online_lookups_name_the_field_they_cannot_serve(shop: TestClient) -> None:
    headers = tenant_headers(TENANT)

    def refused(body: dict) -> dict:
        response = shop.post("/api/v1/features/online", json=body, headers=headers)
        assert response.status_code == 422, response.text
        return response.json()["errors"][0]

    entities = {"customer_id": ["C-1"]}
    assert refused({"features": ["spend"], "entities": entities})["field"] == "features[0]"
    assert refused({"features": ["nothing_v1:spend"], "entities": entities})["field"] == (
        "features[0]"
    )
    unknown = refused(
        {"features": ["customer_v1:spend", "customer_v1:tenure"], "entities": entities}
    )
    assert unknown["field"] == "features[1]"
    assert "tenure" in unknown["message"]
    assert refused({"features": ["customer_v1:spend"], "entities": {"id": ["C-1"]}})["field"] == (
        "entities"
    )


def test_another_tenant_sees_no_online_values(shop: TestClient) -> None:
    response = shop.post(
        "/api/v1/features/online",
        json={"features": ["customer_v1:spend"], "entities": {"customer_id": ["C-1"]}},
        headers=tenant_headers(OTHER_TENANT),
    )
    assert response.status_code == 422
    assert "does not exist" in response.json()["errors"][0]["message"]
    materialize = shop.post(
        "/api/v1/features/sets/customer/versions/1/materialize",
        json={},
        headers=tenant_headers(OTHER_TENANT),
    )
    assert materialize.status_code == 404
