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
    assert versions[0]["definition"]["features"] == [
        {"column": "spend", "name": None, "transform": None}
    ]
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


TRANSFORMED = [
    {"column": "spend", "transform": {"type": "standard"}},
    {"column": "spend", "name": "spend_scaled", "transform": {"type": "min_max"}},
    {"column": "plan", "transform": {"type": "one_hot"}},
    {"column": "plan", "transform": {"type": "frequency"}},
    {"column": "plan", "transform": {"type": "ordinal", "categories": ["basic", "plus", "gold"]}},
    {"column": "spend", "transform": {"type": "bin", "edges": [0, 15, 100, 1000]}},
    {"column": "updated_at", "transform": {"type": "date_part", "part": "month"}},
    {"column": "spend", "transform": {"type": "window", "aggregation": "sum", "days": 45}},
    {"column": "spend", "transform": {"type": "window", "aggregation": "count", "days": 45}},
    {"name": "spend_per_row", "transform": {"type": "sql", "expression": "spend / row_id"}},
]


def _training_rows(shop: TestClient, name: str, version: int, table: str) -> dict:
    response = shop.post(
        f"/api/v1/features/sets/{name}/versions/{version}/training-sets",
        json={
            "entities": {"source": "table", "table": "shop.churn_labels"},
            "event_timestamp_column": "as_of",
            "output_table": table,
        },
        headers=tenant_headers(TENANT),
    )
    assert response.status_code == 201, response.text
    columns = response.json()["columns"]

    def read(connection: duckdb.DuckDBPyConnection, _: str) -> list[tuple]:
        return connection.execute(f"SELECT * FROM training_sets.{table}").fetchall()

    written = DatasetSource(source="table", table=f"training_sets.{table}")
    rows = shop.app.state.warehouses.read(TENANT, written, "", read)  # type: ignore[attr-defined]
    return {(row[0], str(row[1])): dict(zip(columns, row, strict=True)) for row in rows}


def test_transformations_are_fitted_on_the_source_and_computed_as_of_each_row(
    shop: TestClient,
) -> None:
    headers = tenant_headers(TENANT)
    created = shop.post(
        "/api/v1/features/sets",
        json=customer_set(name="customer_transformed", features=TRANSFORMED),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    fitted = created.json()["fitted"]
    # spend is 10, 20, 999, 5: population mean and std, min and max, kept in the version
    mean = (10 + 20 + 999 + 5) / 4
    std = (sum((value - mean) ** 2 for value in (10, 20, 999, 5)) / 4) ** 0.5
    assert fitted[0]["mean"] == pytest.approx(mean)
    assert fitted[0]["std"] == pytest.approx(std)
    assert (fitted[1]["min"], fitted[1]["max"]) == (5.0, 999.0)
    assert fitted[2]["columns"] == ["plan_basic", "plan_gold", "plan_plus"]
    assert fitted[3]["frequencies"] == [0.5, 0.25, 0.25]

    rows = _training_rows(shop, "customer_transformed", 1, "transformed")
    late_february = rows[("C-1", "2024-02-28")]
    # as of 28 February the 1 February row (20.0, plus) is the latest; March's 999 never leaks
    assert late_february["spend_standard"] == pytest.approx((20 - mean) / std)
    assert late_february["spend_scaled"] == pytest.approx((20 - 5) / (999 - 5))
    assert (late_february["plan_basic"], late_february["plan_gold"]) == (0, 0)
    assert late_february["plan_plus"] == 1
    assert late_february["plan_frequency"] == 0.25
    assert late_february["plan_ordinal"] == 1
    assert late_february["spend_bin"] == 1
    assert late_february["updated_at_month"] == 2
    assert late_february["spend_per_row"] == 10.0
    # the window counts rows in (28 Feb - 45 days, 28 Feb]: 1 Feb only, not 1 Jan, not 1 Mar
    assert (late_february["spend_sum_45d"], late_february["spend_count_45d"]) == (20.0, 1)
    january = rows[("C-1", "2024-01-20")]
    assert (january["spend_sum_45d"], january["spend_count_45d"]) == (10.0, 1)
    assert january["plan_basic"] == 1
    before_history = rows[("C-1", "2023-12-01")]
    assert before_history["spend_standard"] is None
    assert (before_history["spend_sum_45d"], before_history["spend_count_45d"]) == (None, 0)


def test_a_version_keeps_its_fitted_statistics_when_the_source_changes(shop: TestClient) -> None:
    headers = tenant_headers(TENANT)

    def history(values: str) -> None:
        def work(connection: duckdb.DuckDBPyConnection) -> None:
            connection.execute(
                "CREATE OR REPLACE TABLE shop.spend_history AS SELECT * FROM (VALUES "
                f"{values}) AS t(customer_id, updated_at, spend)"
            )

        shop.app.state.warehouses.write(TENANT, work)  # type: ignore[attr-defined]

    history("('C-1', TIMESTAMP '2024-01-01', 10.0), ('C-2', TIMESTAMP '2024-01-01', 30.0)")
    definition = customer_set(
        name="spend_scaled",
        source={"source": "table", "table": "shop.spend_history"},
        features=[{"column": "spend", "transform": {"type": "standard"}}],
    )
    first = shop.post("/api/v1/features/sets", json=definition, headers=headers)
    assert first.status_code == 201, first.text
    assert (first.json()["fitted"][0]["mean"], first.json()["fitted"][0]["std"]) == (20.0, 10.0)
    # new rows shift the source's mean; version 1 still scales with its own mean and std
    history(
        "('C-1', TIMESTAMP '2024-01-01', 10.0), ('C-2', TIMESTAMP '2024-01-01', 30.0), "
        "('C-3', TIMESTAMP '2024-01-01', 1000.0)"
    )
    rows = _training_rows(shop, "spend_scaled", 1, "spend_scaled_v1")
    assert rows[("C-1", "2024-01-20")]["spend_standard"] == -1.0
    version = shop.get("/api/v1/features/sets/spend_scaled/versions/1", headers=headers).json()
    assert version["fitted"][0]["mean"] == 20.0


@pytest.mark.parametrize(
    ("feature", "field"),
    [
        ({"column": "plan", "transform": {"type": "standard"}}, "features[0].transform"),
        ({"column": "spend", "transform": {"type": "date_part", "part": "month"}},
         "features[0].transform"),
        ({"column": "plan", "transform": {"type": "window", "aggregation": "mean", "days": 7}},
         "features[0].transform.aggregation"),
        ({"column": "spend", "transform": {"type": "bin", "edges": [1, 2], "bins": 3}},
         "features[0].transform"),
        ({"column": "spend", "transform": {"type": "bin", "edges": [5, 2]}},
         "features[0].transform.edges"),
        ({"name": "x", "transform": {"type": "sql", "expression": "no_such_column + 1"}},
         "features[0].transform.expression"),
        ({"name": "x", "transform": {"type": "sql",
                                     "expression": "1) AS v FROM t; DROP TABLE t; SELECT (1"}},
         "features[0].transform.expression"),
        ({"name": "x", "transform": {"type": "sql", "expression": "price * 2"}},
         "features[0].transform.expression"),
        ({"transform": {"type": "sql", "expression": "spend * 2"}}, "features[0].name"),
        ({"name": "customer_id", "column": "spend", "transform": {"type": "standard"}},
         "features[0].name"),
        ({"transform": {"type": "standard"}}, "features[0].column"),
        ({"name": "spend:scaled", "column": "spend", "transform": {"type": "standard"}},
         "features[0].name"),
    ],
)  # fmt: skip
def test_a_transformation_that_does_not_fit_the_source_is_refused_naming_the_feature(
    shop: TestClient, feature: dict, field: str
) -> None:
    response = shop.post(
        "/api/v1/features/sets",
        json=customer_set(name="refused_transform", features=[feature]),
        headers=tenant_headers(TENANT),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
