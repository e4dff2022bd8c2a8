"""Messy CSV files (tests/data/messy/, invented values) read exactly as written, or refused with a
422 naming the field; what changed type is reported with its reason."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import tenant_headers

MESSY = Path(__file__).parent / "data" / "messy"
TABLES = "/api/v1/datasets/tables"


def upload(client: TestClient, name: str, **fields: str):
    path = MESSY / name
    return client.post(
        TABLES,
        headers=tenant_headers("messy-co"),
        files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
        data={"table": path.stem.split(".")[0], "if_exists": "replace", **fields},
    )


def rows(body: dict) -> list[list]:
    return [list(row.values()) for row in body["preview"]]


def types(body: dict) -> dict[str, str]:
    return {column["name"]: column["type"] for column in body["columns"]}


@pytest.mark.parametrize(
    ("name", "fields", "expected_types", "expected_rows", "delimiter"),
    [
        (
            "semicolon_decimal_comma.csv",
            {"decimal_separator": ",", "thousands_separator": "."},
            {"customer": "VARCHAR", "amount": "DOUBLE", "visits": "BIGINT"},
            [["A", 1.5, 3], ["B", 1234.25, 4], ["C", -0.75, 5]],
            ";",
        ),
        (
            "tab_separated.txt",
            {},
            {"city": "VARCHAR", "score": "BIGINT"},
            [["Oslo", 7], ["Bergen", 8]],
            "\t",
        ),
        (
            "pipe.csv",
            {},
            {"code": "BIGINT", "label": "VARCHAR"},
            [[1, "x"], [2, "y"], [3, "z"]],
            "|",
        ),
        (
            "yes_no_labels.csv",
            {},
            {"tenure": "BIGINT", "churn": "VARCHAR", "vip": "VARCHAR"},
            [[1, "Yes", "T"], [5, "No", "F"], [7, "yes", "T"], [2, "No", "F"]],
            ",",
        ),
        (
            "true_false.csv",
            {},
            {"flag": "BOOLEAN", "n": "BIGINT"},
            [[True, 1], [False, 2], [True, 3]],
            ",",
        ),
        (
            "ambiguous_dates.csv",
            {},
            {"month": "VARCHAR", "sales": "BIGINT"},
            [["02/01/2021", 10], ["03/01/2021", 12], ["04/01/2021", 9]],
            ",",
        ),
        (
            "ambiguous_dates.csv",
            {"date_format": "%m/%d/%Y"},
            {"month": "DATE", "sales": "BIGINT"},
            [["2021-02-01", 10], ["2021-03-01", 12], ["2021-04-01", 9]],
            ",",
        ),
        (
            "unambiguous_dates.csv",
            {},
            {"day": "DATE", "iso": "DATE", "stamp": "TIMESTAMP", "sales": "BIGINT"},
            [
                ["2021-01-13", "2021-01-13", "2021-01-13T08:30:00", 1],
                ["2021-02-02", "2021-02-02", "2021-02-02T17:05:00", 2],
            ],
            ",",
        ),
        (
            "null_markers.csv",
            {"null_markers": '["NA", "\\\\N", ""]'},
            {"x": "BIGINT", "y": "DOUBLE", "z": "VARCHAR"},
            [[1, None, "a"], [2, None, "b"], [3, 4.5, None]],
            ",",
        ),
        (
            "quoted_headers.csv",
            {},
            {
                "mean radius": "DOUBLE",
                "price[usd]": "BIGINT",
                "weight (kg)": "BIGINT",
                "a.b": "VARCHAR",
            },
            [[1.5, 10, 70, "x"], [2.5, 20, 80, "y"]],
            ",",
        ),
        (
            "bom_crlf.csv",
            {},
            {"name": "VARCHAR", "n": "BIGINT"},
            [["Åse", 1], ["Zoë", 2]],
            ",",
        ),
        (
            "latin1.csv",
            {"encoding": "latin-1"},
            {"name": "VARCHAR", "n": "BIGINT"},
            [["José", 1], ["Müller", 2]],
            ",",
        ),
        (
            "explicit_types.csv",
            {"column_types": '{"zip": "VARCHAR"}'},
            {"zip": "VARCHAR", "town": "VARCHAR"},
            [["0150", "Oslo"], ["5003", "Bergen"]],
            ";",
        ),
    ],
)
def test_reads_each_kind_of_messy_file_exactly(
    client: TestClient,
    name: str,
    fields: dict,
    expected_types: dict,
    expected_rows: list,
    delimiter: str,
) -> None:
    response = upload(client, name, **fields)
    assert response.status_code == 201, response.text
    body = response.json()
    assert types(body) == expected_types
    assert rows(body) == expected_rows
    assert body["delimiter"] == delimiter


def test_reports_what_changed_type_and_what_stayed_text(client: TestClient) -> None:
    body = upload(client, "unambiguous_dates.csv").json()
    coerced = {item["column"]: item for item in body["coerced"]}
    assert coerced["day"]["to_type"] == "DATE"
    assert "day/month" in coerced["day"]["reason"]
    assert coerced["iso"]["reason"] == "ISO 8601 dates: %Y-%m-%d"
    assert body["kept_as_text"] == []
    ambiguous = upload(client, "ambiguous_dates.csv").json()
    assert ambiguous["coerced"] == []
    assert [note["column"] for note in ambiguous["kept_as_text"]] == ["month"]
    assert "date_format" in ambiguous["kept_as_text"][0]["reason"]
    labels = upload(client, "yes_no_labels.csv").json()
    assert labels["coerced"] == [] and labels["kept_as_text"] == []
    null_counts = {
        c["name"]: c["null_count"]
        for c in upload(client, "null_markers.csv", null_markers='["NA", "\\\\N", ""]').json()[
            "columns"
        ]
    }
    assert null_counts == {"x": 0, "y": 2, "z": 1}


@pytest.mark.parametrize(
    ("name", "fields", "field", "needle"),
    [
        ("semicolon_decimal_comma.csv", {"delimiter": ","}, "file", "delimiter"),
        (
            "explicit_types.csv",
            {"column_types": '{"zap": "VARCHAR"}'},
            "column_types.zap",
            "no column zap",
        ),
        (
            "explicit_types.csv",
            {"column_types": '{"zip": "STRING; DROP"}'},
            "column_types.zip",
            "not a DuckDB type",
        ),
        ("explicit_types.csv", {"column_types": "[1]"}, "column_types", "JSON object"),
        ("null_markers.csv", {"null_markers": "NA"}, "null_markers", "JSON array"),
        ("latin1.csv", {}, "file", "encoding"),
    ],
)
def test_refuses_a_misread_or_bad_option_naming_the_field(
    client: TestClient, name: str, fields: dict, field: str, needle: str
) -> None:
    response = upload(client, name, **fields)
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert needle in error["message"]
