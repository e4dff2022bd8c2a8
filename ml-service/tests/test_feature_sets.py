"""Feature sets on real Feast (its own process and environment): versions, checks against the
source, tenancy, and a point-in-time training set that never takes a value from the future."""

from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from app.datasets.schemas import DatasetSource
from app.features.feast_process import FeastProcess, FeatureStoreUnavailableError
from tests.conftest import tenant_headers

TENANT = "feast-shop"
OTHER_TENANT = "feast-other"

# Spend and plan of two customers as they changed over time (updated_at = when it became known).
HISTORY = """
CREATE SCHEMA IF NOT EXISTS shop;
CREATE OR REPLACE TABLE shop.customer_history AS SELECT * FROM (VALUES
    ('C-1', TIMESTAMP '2024-01-01 00:00:00', 10.0::DOUBLE, 'basic', 1::TINYINT),
    ('C-1', TIMESTAMP '2024-02-01 00:00:00', 20.0, 'plus', 2),
    ('C-1', TIMESTAMP '2024-03-01 00:00:00', 999.0, 'gold', 3),
    ('C-2', TIMESTAMP '2024-01-15 00:00:00', 5.0, 'basic', 4)
) AS t(customer_id, updated_at, spend, plan, row_id);
ALTER TABLE shop.customer_history ADD COLUMN price DECIMAL(6, 2) DEFAULT 1.5;
CREATE OR REPLACE TABLE shop.churn_labels AS SELECT * FROM (VALUES
    ('C-1', DATE '2024-01-20', false),
    ('C-1', DATE '2024-02-01', true),
    ('C-2', DATE '2024-01-10', false),
    ('C-1', DATE '2023-12-01', true),
    ('C-1', DATE '2024-02-28', false)
) AS t(customer_id, as_of, churned);
"""


def customer_set(**overrides: object) -> dict:
    definition = {
        "name": "customer",
        "entity": {"name": "customer", "join_keys": ["customer_id"]},
        "source": {"source": "table", "table": "shop.customer_history"},
        "timestamp_column": "updated_at",
        "features": [{"column": "spend"}],
    }
    definition.update(overrides)
    return definition


@pytest.fixture(scope="module")
def shop(client: TestClient) -> TestClient:
    def work(connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute(HISTORY)

    client.app.state.warehouses.write(TENANT, work)  # type: ignore[attr-defined]
    return client


def test_a_definition_is_versioned_and_a_change_makes_the_next_version(shop: TestClient) -> None:
    headers = tenant_headers(TENANT)
    first = shop.post("/api/v1/features/sets", json=customer_set(), headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    assert first.json()["feast_project"] == "feast_shop"
    assert first.json()["feast_feature_view"] == "customer_v1"

    again = shop.post("/api/v1/features/sets", json=customer_set(), headers=headers)
    assert again.status_code == 200
    assert again.json()["version"] == 1

    features = [{"column": "spend"}, {"column": "plan"}]
    changed = shop.post(
        "/api/v1/features/sets", json=customer_set(features=features), headers=headers
    )
    assert changed.status_code == 201, changed.text
    assert changed.json()["version"] == 2

    versions = shop.get("/api/v1/features/sets/customer/versions", headers=headers).json()
    assert [item["version"] for item in versions] == [1, 2]
    # version 1 is kept as it was defined
    assert versions[0]["definition"]["features"] == [{"column": "spend"}]
    assert shop.get("/api/v1/features/sets/customer", headers=headers).json()["version"] == 2
    listing = shop.get("/api/v1/features/sets", headers=headers).json()
    assert [(item["name"], item["latest_version"]) for item in listing] == [("customer", 2)]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"features": [{"column": "spend"}, {"column": "spending"}]}, "features[1].column"),
        ({"features": [{"column": "customer_id"}]}, "features[0].column"),
        ({"timestamp_column": "spend"}, "timestamp_column"),
        ({"features": [{"column": "price"}]}, "features[0].column"),
        ({"entity": {"name": "customer", "join_keys": ["client"]}}, "entity.join_keys[0]"),
        ({"source": {"source": "table", "table": "shop.nothing"}}, "source.table"),
    ],
)
def test_a_definition_that_does_not_fit_its_source_is_refused_naming_the_field(
    shop: TestClient, overrides: dict, field: str
) -> None:
    response = shop.post(
        "/api/v1/features/sets",
        json=customer_set(name="refused", **overrides),
        headers=tenant_headers(TENANT),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert (
        shop.get("/api/v1/features/sets/refused", headers=tenant_headers(TENANT)).status_code == 404
    )


def test_a_training_set_takes_each_value_as_it_was_known_at_the_row_time(shop: TestClient) -> None:
    headers = tenant_headers(TENANT)
    features = [{"column": "spend"}, {"column": "plan"}, {"column": "row_id"}]
    created = shop.post(
        "/api/v1/features/sets", json=customer_set(name="customer_pit", features=features),
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    response = shop.post(
        "/api/v1/features/sets/customer_pit/versions/1/training-sets",
        json={
            "entities": {"source": "table", "table": "shop.churn_labels"},
            "event_timestamp_column": "as_of",
            "output_table": "churn_pit",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["table"] == "training_sets.churn_pit"
    assert response.json()["row_count"] == 5
    assert response.json()["columns"] == [
        "customer_id", "as_of", "churned", "spend", "plan", "row_id",
    ]  # fmt: skip

    def read(connection: duckdb.DuckDBPyConnection, _: str) -> list[tuple]:
        return connection.execute(
            "SELECT t.customer_id, t.as_of, t.churned, t.spend, t.plan, t.row_id, h.updated_at "
            "FROM training_sets.churn_pit AS t "
            "LEFT JOIN shop.customer_history AS h USING (row_id)"
        ).fetchall()

    written = DatasetSource(source="table", table="training_sets.churn_pit")
    rows = shop.app.state.warehouses.read(TENANT, written, "", read)  # type: ignore[attr-defined]
    by_row = {(row[0], str(row[1])): row for row in rows}
    # the latest value at or before the row's time; none before the first; never a later one
    assert by_row[("C-1", "2024-01-20")][2:6] == (False, 10.0, "basic", 1)
    assert by_row[("C-1", "2024-02-01")][2:6] == (True, 20.0, "plus", 2)
    assert by_row[("C-1", "2024-02-28")][2:6] == (False, 20.0, "plus", 2)
    assert by_row[("C-1", "2023-12-01")][2:6] == (True, None, None, None)
    assert by_row[("C-2", "2024-01-10")][2:6] == (False, None, None, None)
    for customer_id, as_of, *_, updated_at in rows:
        assert updated_at is None or updated_at.date() <= as_of, (customer_id, as_of)
    assert all(row[3] != 999.0 for row in rows)


def test_another_tenant_sees_none_of_the_feature_sets(shop: TestClient) -> None:
    shop.post("/api/v1/features/sets", json=customer_set(), headers=tenant_headers(TENANT))
    headers = tenant_headers(OTHER_TENANT)
    assert shop.get("/api/v1/features/sets", headers=headers).json() == []
    assert shop.get("/api/v1/features/sets/customer", headers=headers).status_code == 404
    response = shop.post(
        "/api/v1/features/sets/customer/versions/1/training-sets",
        json={
            "entities": {"source": "sql", "query": "SELECT 'C-1' AS customer_id, now() AS t"},
            "event_timestamp_column": "t",
            "output_table": "stolen",
        },
        headers=headers,
    )
    assert response.status_code == 404


def test_without_the_feast_environment_the_answer_is_503_saying_so(tmp_path: Path) -> None:
    with pytest.raises(FeatureStoreUnavailableError, match="is not installed") as raised:
        FeastProcess(tmp_path / "python").call("apply")
    assert raised.value.status_code == 503
