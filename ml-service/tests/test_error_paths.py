"""Error texts never name the server's folders (issue 11): DuckDB, MLflow, Ray and the file system
put absolute paths in their messages, and the error layer cuts them to the file name."""

from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.errors import (
    InvalidFieldError,
    NotFoundError,
    add_server_folder,
    install_error_handlers,
    without_server_paths,
)


@pytest.fixture()
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("server-data")
    add_server_folder(folder)
    return folder


@pytest.fixture()
def client(data_dir: Path) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/api/v1/read")
    def read() -> None:
        # DuckDB's own message for a file that is not there names the absolute path.
        try:
            duckdb.connect().execute(f"SELECT * FROM read_csv('{data_dir}/uploads_tmp/f1e2.csv')")
        except duckdb.Error as error:
            raise InvalidFieldError("dataset.query", str(error)) from None

    @app.get("/v2/models/m")
    def missing() -> None:
        raise NotFoundError(f"no artifact file {data_dir}/mlflow/artifacts/1/model.pkl")

    return TestClient(app)


def test_a_duckdb_error_reaches_the_caller_without_the_server_path(
    client: TestClient, data_dir: Path
) -> None:
    response = client.post("/api/v1/read")
    assert response.status_code == 422
    body = response.json()
    assert str(data_dir) not in response.text
    assert "uploads_tmp" not in response.text
    # what DuckDB said is kept, with the file's name
    assert "f1e2.csv" in body["detail"]
    assert body["errors"][0]["field"] == "dataset.query"
    assert "f1e2.csv" in body["errors"][0]["message"]


def test_the_protocol_error_body_is_scrubbed_too(client: TestClient, data_dir: Path) -> None:
    response = client.get("/v2/models/m")
    assert response.status_code == 404
    assert response.json() == {"error": "no artifact file model.pkl"}


def test_keeps_what_is_not_a_server_path(data_dir: Path) -> None:
    text = "poll GET /api/v1/jobs/x; a/b/c; /tmpfoo/bar; SELECT 4/2 FROM t; https://example.org/a/b"
    assert without_server_paths(text) == text
    assert without_server_paths(f"open {data_dir}: denied") == "open <server path>: denied"
    assert without_server_paths(f"at file://{data_dir}/mlflow/1/x.json.") == "at x.json."
