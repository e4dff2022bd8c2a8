"""Uploading CSV and Parquet files into a tenant's warehouse; nothing half-written on failure.

Uploads go to tenants of their own so the demo tenant's table list stays as other tests expect.
"""

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.datasets.sql import UPLOAD_TABLE_RULE
from tests.conftest import tenant_headers

TABLES = "/api/v1/datasets/tables"
IRIS_LIKE_CSV = (
    "sepal_length,sepal_width,species\n5.1,3.5,setosa\n4.9,3.0,setosa\n"
    "7.0,3.2,versicolor\n6.3,3.3,virginica\n5.0,3.6,setosa\n6.4,3.2,versicolor\n"
    "5.8,2.7,virginica\n6.9,3.1,versicolor\n"
)


def upload(
    client: TestClient,
    tenant: str,
    table: str,
    content: bytes,
    filename: str = "data.csv",
    **fields: str,
):
    return client.post(
        TABLES,
        headers=tenant_headers(tenant),
        files={"file": (filename, content, "application/octet-stream")},
        data={"table": table, **fields},
    )


def parquet_bytes() -> bytes:
    table = pa.table({"x": [1, 2, 3], "y": [0.5, 1.5, 2.5], "label": ["a", "b", "a"]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def table_names(client: TestClient, tenant: str) -> set[str]:
    response = client.get(TABLES, headers=tenant_headers(tenant))
    return {table["qualified_name"] for table in response.json()}


def assert_nothing_left(client: TestClient, settings: Settings, tenant: str) -> None:
    # No table (staging tables included) and no partial file.
    assert table_names(client, tenant) == set()
    assert list(settings.uploads_tmp_dir.glob("*")) == []


def test_uploads_a_csv_and_describes_it(client: TestClient) -> None:
    response = upload(client, "up-csv", "iris", IRIS_LIKE_CSV.encode())
    assert response.status_code == 201, response.text
    detail = response.json()
    assert detail["qualified_name"] == "uploads.iris"
    assert detail["uploaded"] is True
    assert detail["row_count"] == 8
    types = {column["name"]: (column["type"], column["kind"]) for column in detail["columns"]}
    assert types == {
        "sepal_length": ("DOUBLE", "numeric"),
        "sepal_width": ("DOUBLE", "numeric"),
        "species": ("VARCHAR", "categorical"),
    }
    assert table_names(client, "up-csv") == {"uploads.iris"}
    assert detail["preview"][0] == {"sepal_length": 5.1, "sepal_width": 3.5, "species": "setosa"}
    assert (detail["delimiter"], detail["coerced"], detail["kept_as_text"]) == (",", [], [])
    one = client.get(f"{TABLES}/uploads.iris", headers=tenant_headers("up-csv"))
    assert one.status_code == 200
    as_read = {key: detail[key] for key in one.json()}
    assert one.json() == as_read
    # A bare name in the path means the uploaded table.
    assert client.get(f"{TABLES}/iris", headers=tenant_headers("up-csv")).json() == as_read
    # Usable as a dataset source, as training uses it.
    schema = client.post(
        "/api/v1/datasets/schema",
        json={"source": "table", "table": "uploads.iris"},
        headers=tenant_headers("up-csv"),
    )
    assert schema.json()["row_count"] == 8


def test_uploads_a_parquet_file_recognised_by_its_content(client: TestClient) -> None:
    response = upload(client, "up-parquet", "points", parquet_bytes(), filename="points.bin")
    assert response.status_code == 201, response.text
    detail = response.json()
    assert detail["row_count"] == 3
    assert [(column["name"], column["type"]) for column in detail["columns"]] == [
        ("x", "BIGINT"),
        ("y", "DOUBLE"),
        ("label", "VARCHAR"),
    ]


def test_reads_a_semicolon_csv_when_told_the_delimiter(client: TestClient) -> None:
    response = upload(client, "up-delim", "semi", b"a;b\n1;2\n3;4\n", delimiter=";")
    assert response.status_code == 201, response.text
    assert [column["name"] for column in response.json()["columns"]] == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (b"a,b,c\n1,2,x\n3,4\n5,6,7,8\n", "ragged.csv", "could not be read as csv"),
        # A quote never closed: refused, not `"x` kept as data.
        (b'a,b\n1,"x\n', "open_quote.csv", "every quote is closed"),
        (b'a,b\n1,"x\n2,y\n', "open_quote_2.csv", "could not be read as csv"),
        (b"a,b,c\n" + b"1,2,x\n" * 30_000 + b"3,4,5,6\n", "late.csv", "Line: 30002"),
        (b"this is not parquet", "fake.parquet", "could not be read as parquet"),
        (b"a,b,c\n", "header_only.csv", "the file holds no rows"),
    ],
)
def test_refuses_a_malformed_file_and_leaves_nothing(
    client: TestClient, settings: Settings, content: bytes, filename: str, expected: str
) -> None:
    response = upload(client, "up-malformed", "broken", content, filename=filename)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [error["field"] for error in errors] == ["file"]
    assert expected in errors[0]["message"]
    # The service's temporary path never leaks; the caller's file name is used instead.
    assert str(settings.uploads_tmp_dir) not in errors[0]["message"]
    assert_nothing_left(client, settings, "up-malformed")


def test_refuses_a_file_over_the_limit_and_leaves_nothing(
    client: TestClient, settings: Settings
) -> None:
    content = IRIS_LIKE_CSV.encode() * 100
    response = client.post(
        f"{TABLES}?max_bytes=1000",
        headers=tenant_headers("up-big"),
        files={"file": ("big.csv", content, "text/csv")},
        data={"table": "big"},
    )
    assert response.status_code == 413
    assert response.json()["errors"] == [
        {"field": "file", "message": "the file is larger than the limit of 1000 bytes"}
    ]
    assert_nothing_left(client, settings, "up-big")


def test_a_file_exactly_at_the_limit_is_accepted(client: TestClient) -> None:
    content = IRIS_LIKE_CSV.encode()
    response = client.post(
        f"{TABLES}?max_bytes={len(content)}",
        headers=tenant_headers("up-limit"),
        files={"file": ("iris.csv", content, "text/csv")},
        data={"table": "exact"},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "table", ["Iris", "1iris", "my-table", "ml_features.customer_churn", "main.x", "a" * 64, ""]
)
def test_refuses_a_bad_table_name(client: TestClient, settings: Settings, table: str) -> None:
    response = upload(client, "up-names", table, IRIS_LIKE_CSV.encode())
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "table", "message": UPLOAD_TABLE_RULE}]
    assert_nothing_left(client, settings, "up-names")


def test_requires_the_file_and_the_table(client: TestClient) -> None:
    # A multipart body with the table field only.
    no_file = client.post(TABLES, headers=tenant_headers("up-fields"), files={"table": (None, "t")})
    assert no_file.status_code == 422
    assert no_file.json()["errors"] == [{"field": "file", "message": "a file is required"}]
    not_multipart = client.post(TABLES, headers=tenant_headers("up-fields"), data={"table": "t"})
    assert not_multipart.status_code == 400
    only_file = client.post(
        TABLES,
        headers=tenant_headers("up-fields"),
        files={"file": ("a.csv", b"a\n1\n", "text/csv")},
    )
    assert only_file.status_code == 422
    assert only_file.json()["errors"][0]["field"] == "table"
    unknown = upload(client, "up-fields", "t", b"a\n1\n", if_exists="append")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "if_exists"


def test_an_existing_table_is_replaced_only_when_asked(client: TestClient) -> None:
    assert upload(client, "up-replace", "t", b"a\n1\n").status_code == 201
    again = upload(client, "up-replace", "t", b"a\n1\n2\n")
    assert again.status_code == 409
    assert "if_exists=replace" in again.json()["detail"]
    kept = client.get(f"{TABLES}/t", headers=tenant_headers("up-replace")).json()
    assert kept["row_count"] == 1
    replaced = upload(client, "up-replace", "t", b"b,c\n1,2\n3,4\n", if_exists="replace")
    assert replaced.status_code == 201
    assert replaced.json()["row_count"] == 2
    # A failed replacement keeps the previous table as it was.
    failed = upload(client, "up-replace", "t", b"x,y\n1\n2,3,4\n", if_exists="replace")
    assert failed.status_code == 422
    kept = client.get(f"{TABLES}/t", headers=tenant_headers("up-replace")).json()
    assert kept == {name: replaced.json()[name] for name in kept}


def test_tenants_see_only_their_own_uploads(client: TestClient) -> None:
    assert upload(client, "up-tenant-a", "secret", b"a\n1\n").status_code == 201
    other = tenant_headers("up-tenant-b")
    assert table_names(client, "up-tenant-b") == set()
    assert client.get(f"{TABLES}/uploads.secret", headers=other).status_code == 404
    assert client.delete(f"{TABLES}/uploads.secret", headers=other).status_code == 404
    source = {"source": "table", "table": "uploads.secret"}
    schema = client.post("/api/v1/datasets/schema", json=source, headers=other)
    assert schema.status_code == 422
    assert table_names(client, "up-tenant-a") == {"uploads.secret"}


def test_deletes_uploaded_tables_only(client: TestClient) -> None:
    headers = tenant_headers("up-delete")
    assert upload(client, "up-delete", "gone", b"a\n1\n").status_code == 201
    response = client.delete(f"{TABLES}/gone", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"deleted": "uploads.gone"}
    assert client.get(f"{TABLES}/gone", headers=headers).status_code == 404
    assert client.delete(f"{TABLES}/gone", headers=headers).status_code == 404
    demo = client.delete(f"{TABLES}/ml_features.customer_churn", headers=tenant_headers())
    assert demo.status_code == 403
    assert (
        client.get(f"{TABLES}/ml_features.customer_churn", headers=tenant_headers()).json()[
            "row_count"
        ]
        == 5000
    )


def test_refuses_a_malformed_table_path(client: TestClient) -> None:
    response = client.get(f"{TABLES}/a.b.c", headers=tenant_headers("up-path"))
    assert response.status_code == 400


def test_requires_the_tenant_header(client: TestClient) -> None:
    response = client.post(TABLES, files={"file": ("a.csv", b"a\n1\n")}, data={"table": "t"})
    assert response.status_code == 400


BOUNDARY = "b0undary"
WHOLE_BODY = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="table"\r\n\r\ncut\r\n'
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="cut.csv"\r\n\r\n'
    f"a,b\n1,2\n3,4\r\n--{BOUNDARY}--\r\n"
)


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        # The last row cut in half, the closing boundary never sent: refused, not loaded with NULLs.
        (WHOLE_BODY[:-22], f"multipart/form-data; boundary={BOUNDARY}", "closing boundary"),
        (WHOLE_BODY[: -len(f"--{BOUNDARY}--\r\n")], f"multipart/form-data; boundary={BOUNDARY}",
         "closing boundary"),
        (WHOLE_BODY.replace("Content-Disposition: form-data; name=\"table\"",
                            "Content-Dis\x01position: form-data; name=\"table\""),
         f"multipart/form-data; boundary={BOUNDARY}", "invalid character"),
        (WHOLE_BODY, "multipart/form-data", "multipart/form-data"),
    ],
)  # fmt: skip
def test_refuses_a_malformed_or_truncated_multipart_body_and_loads_nothing(
    client: TestClient, settings: Settings, body: str, content_type: str, reason: str
) -> None:
    response = client.post(
        TABLES,
        content=body.encode("latin-1"),
        headers=tenant_headers("up-cut", **{"Content-Type": content_type}),
    )
    assert response.status_code == 400, response.text
    assert reason in response.json()["detail"]
    assert_nothing_left(client, settings, "up-cut")
