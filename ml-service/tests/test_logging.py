"""JSON-line logs (MLS_LOG_FORMAT=json): one object per line, with the request id and tenant that
let one request be followed from the AI Service into this one (issue 11, structured logs)."""

import io
import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.logging import RequestContextMiddleware, configure_logging


def _captured(log_format: str) -> io.StringIO:
    """Configures the service's logging as it starts, writing to a buffer instead of stderr."""
    configure_logging(log_format=log_format)
    stream = io.StringIO()
    logging.getLogger("app").handlers[0].setStream(stream)  # type: ignore[attr-defined]
    return stream


@pytest.fixture(autouse=True)
def _restore_default_logging():
    yield
    configure_logging()


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware)

    @app.get("/work")
    def work() -> dict:
        logging.getLogger("app.work").warning("working on it")
        try:
            raise ValueError("line one\nline two")
        except ValueError:
            logging.getLogger("app.work").exception("it failed")
        return {"ok": True}

    return app


def test_every_line_is_one_json_object_with_the_request_id_and_tenant() -> None:
    stream = _captured("json")
    response = TestClient(_app()).get(
        "/work", headers={"X-Request-ID": "req-42", "X-Tenant-ID": "acme-corp"}
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-42"
    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # fails on any line that is not one object
    assert [record["message"] for record in records] == [
        "working on it",
        "it failed",
        "request handled",
    ]
    assert {record["request_id"] for record in records} == {"req-42"}
    assert all(record["time"].endswith("+00:00") for record in records)
    failed = records[1]
    assert failed["level"] == "error"
    assert "ValueError: line one\nline two" in failed["exception"]
    access = records[2]
    assert access["level"] == "info"
    assert access["logger"] == "app.access"
    assert access["method"] == "GET"
    assert access["path"] == "/work"
    assert access["status"] == 200
    assert access["tenant_id"] == "acme-corp"
    assert isinstance(access["duration_ms"], float)


def test_the_default_stays_readable_key_value_lines() -> None:
    stream = _captured("text")
    TestClient(_app()).get("/work", headers={"X-Request-ID": "req-7"})
    access = stream.getvalue().splitlines()[-1]
    assert access.startswith("ts=")
    assert 'msg="request handled"' in access
    assert "request_id=req-7" in access
