"""Health, tenant header, request id, error shape, catalog and configuration errors."""

import re

import pytest
from fastapi.testclient import TestClient

from app.config import ConfigurationError, load_settings
from app.main import create_app
from tests.conftest import churn_config, tenant_headers


def test_liveness_is_ok(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "ok"}


def test_readiness_reports_every_dependency_up(client: TestClient) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"ray": "up", "job_store": "up", "mlflow": "up", "warehouses": "up"},
    }


@pytest.mark.parametrize("tenant", [None, "", "Acme", "../etc", "-x", "a" * 64])
def test_missing_or_malformed_tenant_header_is_400(client: TestClient, tenant: str | None) -> None:
    headers = {} if tenant is None else {"X-Tenant-ID": tenant}
    response = client.get("/api/v1/training/jobs", headers=headers)
    assert response.status_code == 400
    assert "X-Tenant-ID" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "authorization"),
    [
        ("/api/v1/training/jobs", None),
        ("/api/v1/training/jobs", "Bearer not-the-token"),
        ("/api/v1/datasets/tables", "test-service-token-0123456789"),  # no Bearer scheme
        ("/metrics", None),
        ("/v2", None),
    ],
)
def test_a_caller_without_the_service_token_is_401(
    client: TestClient, path: str, authorization: str | None
) -> None:
    # The session client sends the token by default; these requests replace or drop it.
    headers = {"X-Tenant-ID": "acme-corp", "Authorization": authorization or ""}
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # The inference protocol's routes answer with its error body, `error`.
    message = response.json()["error" if path.startswith("/v2") else "detail"]
    assert "token" in message or "Authorization" in message


def test_probes_and_the_api_document_need_no_token(client: TestClient) -> None:
    for path in ("/health/live", "/health/ready", "/openapi.json"):
        assert client.get(path, headers={"Authorization": ""}).status_code == 200, path
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["serviceToken"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/training/jobs"]["get"]["security"] == [{"serviceToken": []}]
    assert "security" not in document["paths"]["/health/ready"]["get"]


def test_the_document_describes_error_answers_as_they_leave() -> None:
    """Every error body is JSON, also where success is a page, a stream or an image, and the
    inference protocol's routes declare its `error` body, the token's 401 included (Schemathesis
    holds the running service to this document: scripts/fuzz-openapi.py)."""
    paths = create_app().openapi()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] in "45" and "content" in response:
                    assert list(response["content"]) == ["application/json"], (method, path, status)
    report = paths["/api/v1/eda/profiles/{profile_id}/report"]["get"]["responses"]
    assert list(report["200"]["content"]) == ["text/html"]
    assert report["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    infer = paths["/v2/models/{name}/infer"]["post"]["responses"]
    for status in ("400", "401", "404", "422", "503"):
        schema = infer[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/V2ErrorResponse"}, status


def test_request_id_is_echoed_or_created(client: TestClient) -> None:
    echoed = client.get("/health/live", headers={"X-Request-ID": "req-123"})
    assert echoed.headers["X-Request-ID"] == "req-123"
    created = client.get("/health/live")
    assert len(created.headers["X-Request-ID"]) == 32


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_catalog_lists_xgboost_with_its_hyperparameters(client: TestClient) -> None:
    catalog = client.get("/api/v1/training/algorithms", headers=tenant_headers()).json()
    xgboost = next(entry for entry in catalog if entry["name"] == "xgboost")
    assert xgboost["task_types"] == ["classification", "regression"]
    specs = {spec["name"]: spec for spec in xgboost["hyperparameters"]}
    assert {"n_estimators", "max_depth", "learning_rate", "subsample", "gamma"} <= specs.keys()
    assert specs["n_estimators"] | {"description": ""} == {
        "name": "n_estimators",
        "type": "integer",
        "minimum": 1,
        "maximum": 5000,
        "exclusive_minimum": False,
        "choices": None,
        "default": 100,
        "description": "",
        "min_items": None,
        "max_items": None,
        "nullable": False,
    }
    assert specs["learning_rate"]["exclusive_minimum"] is True


def test_invalid_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLS_PORT", "not-a-port")
    with pytest.raises(ConfigurationError, match="MLS_PORT"):
        load_settings()


def test_tenant_limits_come_from_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLS_MAX_CPU_PER_JOB", "2")
    monkeypatch.setenv("MLS_TENANT_LIMITS", '{"globex": {"max_cpus_per_job": 1}}')
    settings = load_settings()
    assert settings.effective_limits("globex").max_cpus_per_job == 1
    assert settings.effective_limits("acme-corp").max_cpus_per_job == 2
    assert settings.effective_limits("globex").max_concurrent_jobs == 5


def test_demo_tenants_come_from_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().demo_tenants == ["acme-corp"]
    monkeypatch.setenv("MLS_DEMO_TENANTS", '["acme-corp", "hooli"]')
    assert load_settings().demo_tenants == ["acme-corp", "hooli"]
    monkeypatch.setenv("MLS_DEMO_TENANTS", '["Hooli"]')
    with pytest.raises(ConfigurationError, match=re.escape('"Hooli" is not a tenant id')):
        load_settings()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('{"globex": {"max_cpu": 1}}', "MLS_TENANT_LIMITS.globex.max_cpu: Extra inputs"),
        ('{"globex": {"max_cpus_per_job": 0}}', "MLS_TENANT_LIMITS.globex.max_cpus_per_job: "),
        ('{"Globex": {}}', '"Globex" is not a tenant id'),
        ("{globex", 'field "tenant_limits"'),
    ],
)
def test_invalid_tenant_limits_stop_start_up(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("MLS_TENANT_LIMITS", value)
    with pytest.raises(ConfigurationError, match=re.escape(problem)):
        load_settings()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/training/submit", churn_config(name="churn\x00model"), "name"),
        ("/api/v1/training/validate", churn_config(name="line\nbreak"), "name"),
        (
            "/api/v1/training/validate",
            churn_config(dataset={"source": "table", "table": "ml_features.\x1b[31mx"}),
            "dataset.table",
        ),
        ("/api/v1/serving/deployments", {"model_name": "churn\x7f", "version": 1}, "model_name"),
        (
            "/api/v1/serving/batch",
            {
                "model_name": "churn\r",
                "version": 1,
                "dataset": {"source": "table", "table": "ml_features.customer_churn"},
                "output_table": "scores",
            },
            "model_name",
        ),
    ],
)
def test_names_with_control_characters_are_422_naming_the_field(
    client: TestClient, path: str, body: dict, field: str
) -> None:
    response = client.post(path, json=body, headers=tenant_headers())
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert "must not contain control characters; found U+" in error["message"]
