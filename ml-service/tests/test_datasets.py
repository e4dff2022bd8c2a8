"""Schema description, table listing and SQL safety of the tenant warehouses."""

import pytest
from fastapi.testclient import TestClient

from app.datasets.sql import READ_ONLY_MESSAGE
from tests.conftest import CHURN_QUERY, tenant_headers


def describe(client: TestClient, body: dict, tenant: str = "acme-corp"):
    return client.post("/api/v1/datasets/schema", json=body, headers=tenant_headers(tenant))


def test_describes_the_seeded_churn_table(client: TestClient) -> None:
    response = describe(client, {"source": "sql", "query": CHURN_QUERY})
    assert response.status_code == 200
    schema = response.json()
    assert schema["row_count"] == 5000
    columns = {column["name"]: column for column in schema["columns"]}
    assert columns["tenure"]["kind"] == "numeric"
    assert columns["tenure"]["type"] == "INTEGER"
    assert columns["contract_type"]["kind"] == "categorical"
    assert 2 <= columns["contract_type"]["distinct_count"] <= 4
    assert columns["senior_citizen"]["kind"] == "boolean"
    assert columns["customer_id"]["kind"] == "text"
    assert columns["churned"]["null_count"] == 0


def test_describes_a_table_source_with_dates(client: TestClient) -> None:
    response = describe(client, {"source": "table", "table": "ml_features.daily_revenue"})
    assert response.status_code == 200
    kinds = {column["name"]: column["kind"] for column in response.json()["columns"]}
    assert kinds == {"date": "datetime", "revenue": "numeric"}
    assert response.json()["row_count"] == 731


def test_lists_the_tenant_tables_with_columns(client: TestClient) -> None:
    tables = client.get("/api/v1/datasets/tables", headers=tenant_headers()).json()
    names = {table["qualified_name"] for table in tables}
    assert names == {
        "ml_features.customer_churn",
        "ml_features.customer_value",
        "ml_features.daily_revenue",
    }


def test_another_tenant_sees_an_empty_warehouse(client: TestClient) -> None:
    assert client.get("/api/v1/datasets/tables", headers=tenant_headers("globex")).json() == []
    response = describe(client, {"source": "sql", "query": CHURN_QUERY}, tenant="globex")
    assert response.status_code == 422
    assert "customer_churn" in response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1; SELECT 2",
        "DROP TABLE ml_features.customer_churn",
        "INSERT INTO ml_features.customer_churn (customer_id) VALUES ('x')",
        "ATTACH '/tmp/other.duckdb' AS other",
        "COPY ml_features.customer_churn TO '/tmp/stolen.csv'",
        "SET enable_external_access = true",
        "PRAGMA version",
        "SELECT 1; DROP TABLE ml_features.customer_churn",
    ],
)
def test_refuses_anything_but_one_select(client: TestClient, query: str) -> None:
    response = describe(client, {"source": "sql", "query": query})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "query", "message": READ_ONLY_MESSAGE}]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM 'data/jobs.sqlite'",
    ],
)
def test_refuses_file_access_inside_a_select(client: TestClient, query: str) -> None:
    response = describe(client, {"source": "sql", "query": query})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query"
    assert "root:" not in response.text


def test_bad_sql_is_422_with_duckdbs_message(client: TestClient) -> None:
    response = describe(client, {"source": "sql", "query": "SELEC tenure FROM x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query"
    assert "syntax error" in response.json()["detail"]


def test_unknown_table_is_422_naming_it(client: TestClient) -> None:
    response = describe(client, {"source": "table", "table": "ml_features.nope"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "table"
    assert "ml_features.nope" in response.json()["detail"]


def test_table_names_cannot_smuggle_sql(client: TestClient) -> None:
    response = describe(client, {"source": "table", "table": "x; DROP TABLE y"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "table"


def test_a_trailing_comment_does_not_break_the_wrapping(client: TestClient) -> None:
    response = describe(client, {"source": "sql", "query": "SELECT 1 AS one -- note"})
    assert response.status_code == 200
    assert response.json()["row_count"] == 1
