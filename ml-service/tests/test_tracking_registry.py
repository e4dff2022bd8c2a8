"""Tracking and registry on real MLflow: two churn runs, compare, register, promote, audit,
tenancy and traversal attempts (issue 4)."""

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

import app.tracking.service as tracking_service
from tests.conftest import churn_config, tenant_headers, wait_for_status

OTHER_TENANT = "globex"
MODEL = "churn-classifier"
REGISTRY = f"/api/v1/registry/models/{MODEL}"


def actor(name: str) -> dict[str, str]:
    return tenant_headers(**{"X-Actor": name})


@pytest.fixture(scope="module")
def jobs(client: TestClient) -> dict[str, dict]:
    """Two small churn models with different hyperparameters, trained together."""
    configs = {
        "shallow": churn_config(
            name="churn-shallow", hyperparameters={"n_estimators": 20, "max_depth": 2}
        ),
        "deep": churn_config(
            name="churn-deep", hyperparameters={"n_estimators": 20, "max_depth": 5}
        ),
    }
    submitted = {}
    for label, config in configs.items():
        response = client.post("/api/v1/training/submit", json=config, headers=tenant_headers())
        assert response.status_code == 202, response.text
        submitted[label] = response.json()["job_id"]
    finished = {
        label: wait_for_status(client, job_id, {"completed", "failed", "cancelled"})
        for label, job_id in submitted.items()
    }
    for job in finished.values():
        assert job["status"] == "completed", job["error"]
    return finished


def test_a_run_records_config_dataset_hash_code_version_and_report(
    client: TestClient, jobs: dict[str, dict]
) -> None:
    job = jobs["shallow"]
    run = client.get(
        f"/api/v1/tracking/runs/{job['mlflow_run_id']}", headers=tenant_headers()
    ).json()
    assert run["job_id"] == job["job_id"]
    assert run["model_artifact_id"] == job["model_artifact_id"]
    assert run["params"]["max_depth"] == "2"
    assert run["metrics"]["auc_roc"] == job["metrics"]["auc_roc"]
    assert run["dataset"]["query"] == "SELECT * FROM ml_features.customer_churn"
    assert run["dataset"]["rows"] == 5000
    assert len(run["dataset"]["content_hash"]) == 64
    # Same query, same rows: both runs carry the same content hash.
    other = client.get(
        f"/api/v1/tracking/runs/{jobs['deep']['mlflow_run_id']}", headers=tenant_headers()
    ).json()
    assert other["dataset"]["content_hash"] == run["dataset"]["content_hash"]
    assert run["code_version"]

    listing = client.get(
        f"/api/v1/tracking/runs/{run['run_id']}/artifacts", headers=tenant_headers()
    ).json()
    assert {"config.json", "classification_report.json", "evaluation.json"} <= {
        item["path"] for item in listing["files"]
    }
    report = client.get(
        f"/api/v1/tracking/runs/{run['run_id']}/artifacts/content",
        params={"path": "classification_report.json"},
        headers=tenant_headers(),
    )
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("application/json")
    assert {"accuracy", "macro avg", "weighted avg"} <= report.json().keys()
    config = client.get(
        f"/api/v1/tracking/runs/{run['run_id']}/artifacts/content",
        params={"path": "config.json"},
        headers=tenant_headers(),
    ).json()
    assert config["request"]["hyperparameters"] == {"n_estimators": 20, "max_depth": 2}

    history = client.get(
        f"/api/v1/tracking/runs/{run['run_id']}/metrics/test-logloss_by_iteration/history",
        headers=tenant_headers(),
    ).json()
    steps = [point["step"] for point in history["history"]]
    assert len(steps) == 20 and steps == sorted(steps)


def test_the_trained_model_files_list_and_download(
    client: TestClient, jobs: dict[str, dict]
) -> None:
    """MLflow 3 keeps the model under the LoggedModel's own root, not the run's."""
    models = f"/api/v1/tracking/models/{jobs['shallow']['model_artifact_id']}"
    listing = client.get(f"{models}/artifacts", headers=tenant_headers())
    assert listing.status_code == 200, listing.text
    body = listing.json()
    paths = {item["path"] for item in body["files"]}
    assert "MLmodel" in paths
    # The XGBoost booster itself (model.ubj, or model.json/.xgb by MLflow's model_format).
    assert any(path.startswith("model.") for path in paths), paths
    info = client.get(models, headers=tenant_headers()).json()
    assert body["root_uri"] == info["artifact_uri"]

    mlmodel = client.get(
        f"{models}/artifacts/content", params={"path": "MLmodel"}, headers=tenant_headers()
    )
    assert mlmodel.status_code == 200
    assert "flavors" in mlmodel.text
    assert mlmodel.headers["content-disposition"] == "attachment; filename*=UTF-8''MLmodel"
    missing = client.get(
        f"{models}/artifacts/content", params={"path": "nope.bin"}, headers=tenant_headers()
    )
    assert missing.status_code == 404


def test_experiments_are_per_tenant_and_include_training(client: TestClient) -> None:
    listed = client.get("/api/v1/tracking/experiments", headers=tenant_headers()).json()
    assert "training" in {item["name"] for item in listed["experiments"]}
    created = client.post(
        "/api/v1/tracking/experiments",
        json={"name": "churn-exploration", "tags": {"team": "retention"}},
        headers=tenant_headers(),
    )
    assert created.status_code == 201, created.text
    experiment = created.json()
    assert experiment["name"] == "churn-exploration"
    assert experiment["tags"] == {"team": "retention"}
    again = client.post(
        "/api/v1/tracking/experiments",
        json={"name": "churn-exploration"},
        headers=tenant_headers(),
    )
    assert again.status_code == 409
    fetched = client.get(
        f"/api/v1/tracking/experiments/{experiment['experiment_id']}", headers=tenant_headers()
    )
    assert fetched.json() == experiment


def test_experiment_tags_mlflow_refuses_are_a_422_and_create_nothing(client: TestClient) -> None:
    # Schemathesis found the empty key: MLflow refused it inside create_experiment, a 500.
    for tags, field in [
        ({"": "x"}, "tags."),
        ({"team": "a", "bad\u00ae": "b"}, "tags.bad\u00ae"),
        ({"tenant_id": "someone-else"}, "tags"),
    ]:
        response = client.post(
            "/api/v1/tracking/experiments",
            json={"name": "tagged-badly", "tags": tags},
            headers=tenant_headers(),
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    listed = client.get("/api/v1/tracking/experiments", headers=tenant_headers()).json()
    assert "tagged-badly" not in {item["name"] for item in listed["experiments"]}


def test_search_filters_orders_and_pages(client: TestClient, jobs: dict[str, dict]) -> None:
    ours = {job["mlflow_run_id"] for job in jobs.values()}

    def search(**body: object) -> dict:
        response = client.post("/api/v1/tracking/runs/search", json=body, headers=tenant_headers())
        assert response.status_code == 200, response.text
        return response.json()

    found = search(filter="metrics.auc_roc > 0.5", order_by=["metrics.auc_roc DESC"])
    assert ours <= {run["run_id"] for run in found["runs"]}
    values = [run["metrics"]["auc_roc"] for run in found["runs"]]
    assert values == sorted(values, reverse=True)
    assert search(filter="metrics.auc_roc > 0.9999")["runs"] == []
    deep = search(filter="params.max_depth = '5' and params.n_estimators = '20'")
    assert jobs["deep"]["mlflow_run_id"] in {run["run_id"] for run in deep["runs"]}
    assert jobs["shallow"]["mlflow_run_id"] not in {run["run_id"] for run in deep["runs"]}

    first = search(filter="metrics.auc_roc > 0.5", max_results=1)
    assert len(first["runs"]) == 1 and first["next_page_token"]
    second = search(
        filter="metrics.auc_roc > 0.5", max_results=1, page_token=first["next_page_token"]
    )
    assert second["runs"][0]["run_id"] != first["runs"][0]["run_id"]

    bad = client.post(
        "/api/v1/tracking/runs/search",
        json={"filter": "metrics.auc_roc >>> 1"},
        headers=tenant_headers(),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "filter"


def test_compare_two_runs(client: TestClient, jobs: dict[str, dict]) -> None:
    shallow, deep = jobs["shallow"]["mlflow_run_id"], jobs["deep"]["mlflow_run_id"]
    response = client.post(
        "/api/v1/tracking/runs/compare", json={"run_ids": [shallow, deep]}, headers=tenant_headers()
    )
    assert response.status_code == 200, response.text
    comparison = response.json()
    assert [run["run_id"] for run in comparison["runs"]] == [shallow, deep]
    params = {item["key"]: item["values"] for item in comparison["params"]}
    assert params["max_depth"] == {shallow: "2", deep: "5"}
    auc = next(item for item in comparison["metrics"] if item["key"] == "auc_roc")
    best = max(auc["values"], key=auc["values"].__getitem__)
    assert auc["best_run_id"] == best
    chart = {item["key"]: item["series"] for item in comparison["chart"]["metrics"]}
    assert {len(series["points"]) for series in chart["test-logloss_by_iteration"]} == {20}
    one = client.post(
        "/api/v1/tracking/runs/compare", json={"run_ids": [shallow]}, headers=tenant_headers()
    )
    assert one.status_code == 422


def test_registry_lifecycle_with_audit(client: TestClient, jobs: dict[str, dict]) -> None:
    shallow, deep = jobs["shallow"], jobs["deep"]
    v1 = client.post(
        f"{REGISTRY}/versions",
        json={"job_id": shallow["job_id"], "description": "first", "tags": {"owner": "ds"}},
        headers=actor("alice"),
    )
    assert v1.status_code == 201, v1.text
    version = v1.json()
    assert version["version"] == "1" and version["stage"] == "None"
    assert version["job_id"] == shallow["job_id"]
    assert version["model_artifact_id"] == shallow["model_artifact_id"]
    assert {"tenure", "contract_type"} <= {
        column["name"] for column in version["signature"]["inputs"]
    }
    assert version["lineage"]["config"]["request"]["hyperparameters"]["max_depth"] == 2
    assert len(version["lineage"]["dataset_hash"]) == 64
    assert version["metrics"]["auc_roc"] == shallow["metrics"]["auc_roc"]

    def stage(number: str, target: str, who: str, reason: str) -> dict:
        response = client.post(
            f"{REGISTRY}/versions/{number}/stage",
            json={"stage": target, "reason": reason},
            headers=actor(who),
        )
        assert response.status_code == 200, response.text
        return response.json()

    assert stage("1", "Staging", "alice", "validation passed")["aliases"] == ["staging"]
    promoted = stage("1", "Production", "bob", "approved")
    assert promoted["stage"] == "Production" and promoted["aliases"] == ["production"]

    v2 = client.post(
        f"{REGISTRY}/versions", json={"run_id": deep["mlflow_run_id"]}, headers=actor("alice")
    )
    assert v2.status_code == 201, v2.text
    assert v2.json()["job_id"] == deep["job_id"]
    stage("2", "Production", "bob", "deeper trees win")
    model = client.get(REGISTRY, headers=tenant_headers()).json()
    stages = {item["version"]: item["stage"] for item in model["versions"]}
    assert stages == {"1": "Archived", "2": "Production"}
    assert model["production_version"] == "2"
    assert model["aliases"] == {"production": "2"}

    events = client.get(f"{REGISTRY}/audit", headers=tenant_headers()).json()["events"]
    transitions = [
        (event["actor"], event["version"], event["from_stage"], event["to_stage"], event["reason"])
        for event in events
        if event["action"] == "transition"
    ]
    assert transitions == [
        ("alice", "1", "None", "Staging", "validation passed"),
        ("bob", "1", "Staging", "Production", "approved"),
        ("bob", "2", "None", "Production", "deeper trees win"),
        ("bob", "1", "Production", "Archived", "replaced by version 2 in Production"),
    ]
    assert [event["action"] for event in events][:2] == ["register_model", "register_version"]

    assert client.delete(f"{REGISTRY}/versions/2", headers=actor("eve")).status_code == 409
    assert client.delete(REGISTRY, headers=actor("eve")).status_code == 409

    champion = client.put(
        f"{REGISTRY}/aliases/champion", json={"version": 2}, headers=actor("alice")
    )
    assert champion.status_code == 200, champion.text
    assert champion.json()["aliases"] == {"production": "2", "champion": "2"}
    reserved = client.put(
        f"{REGISTRY}/aliases/production", json={"version": 1}, headers=actor("alice")
    )
    assert reserved.status_code == 400
    assert client.delete(f"{REGISTRY}/aliases/champion", headers=actor("alice")).status_code == 200

    patched = client.patch(
        REGISTRY,
        json={"description": "churn model", "tags": {"domain": "retention"}},
        headers=actor("alice"),
    ).json()
    assert patched["description"] == "churn model" and patched["tags"] == {"domain": "retention"}

    def names(**query: str) -> list[str]:
        response = client.get("/api/v1/registry/models", params=query, headers=tenant_headers())
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["models"]]

    # Other modules (serving) register churn models of their own in the same tenant.
    assert MODEL in names(name="CHURN") and all("churn" in name for name in names(name="CHURN"))
    assert MODEL in names(stage="Production")
    assert names(tag="domain=retention") == [MODEL]
    assert MODEL in names(metric="auc_roc>0.5")
    assert names(metric="auc_roc>0.9999") == []
    assert names(name="nothing-like-it") == []

    resolved = client.get(
        f"/api/v1/tracking/models/{shallow['model_artifact_id']}", headers=tenant_headers()
    ).json()
    assert resolved["run_id"] == shallow["mlflow_run_id"]
    assert resolved["job_id"] == shallow["job_id"]
    assert resolved["registered_versions"] == [{"name": MODEL, "version": "1"}]

    stage("2", "Archived", "bob", "retired")
    dry = client.delete(REGISTRY, params={"dry_run": "true"}, headers=actor("bob")).json()
    assert dry == {
        "deleted": {"name": MODEL, "versions": ["1", "2"], "aliases": []},
        "dry_run": True,
    }
    assert client.get(REGISTRY, headers=tenant_headers()).status_code == 200
    assert client.delete(f"{REGISTRY}/versions/1", headers=actor("bob")).status_code == 204
    removed = client.delete(REGISTRY, headers=actor("bob")).json()
    assert removed["deleted"]["versions"] == ["2"] and removed["dry_run"] is False
    assert client.get(REGISTRY, headers=tenant_headers()).status_code == 404
    trail = client.get(f"{REGISTRY}/audit", headers=tenant_headers()).json()["events"]
    assert [event["action"] for event in trail][-2:] == ["delete_version", "delete_model"]


def test_another_tenant_sees_and_reaches_nothing(client: TestClient, jobs: dict[str, dict]) -> None:
    job = jobs["shallow"]
    run_id = job["mlflow_run_id"]
    client.post(
        f"/api/v1/registry/models/{MODEL}-iso/versions",
        json={"job_id": job["job_id"]},
        headers=tenant_headers(),
    )
    own = client.get(f"/api/v1/tracking/runs/{run_id}", headers=tenant_headers()).json()
    other = tenant_headers(OTHER_TENANT)

    assert client.get("/api/v1/tracking/experiments", headers=other).json() == {"experiments": []}
    searched = client.post("/api/v1/tracking/runs/search", json={}, headers=other).json()
    assert searched["runs"] == []
    assert client.get("/api/v1/registry/models", headers=other).json() == {"models": []}
    for path in (
        f"/api/v1/tracking/runs/{run_id}",
        f"/api/v1/tracking/experiments/{own['experiment_id']}",
        f"/api/v1/tracking/runs/{run_id}/artifacts",
        f"/api/v1/tracking/runs/{run_id}/artifacts/content?path=config.json",
        f"/api/v1/tracking/runs/{run_id}/metrics/auc_roc/history",
        f"/api/v1/tracking/models/{job['model_artifact_id']}",
        f"/api/v1/tracking/models/{job['model_artifact_id']}/artifacts",
        f"/api/v1/tracking/models/{job['model_artifact_id']}/artifacts/content?path=MLmodel",
        f"/api/v1/registry/models/{MODEL}-iso",
        f"/api/v1/registry/models/{MODEL}-iso/versions/1",
        f"/api/v1/registry/models/{MODEL}-iso/audit",
    ):
        assert client.get(path, headers=other).status_code == 404, path
    writes = [
        client.post(
            "/api/v1/tracking/runs/search",
            json={"experiment_ids": [own["experiment_id"]]},
            headers=other,
        ),
        client.post(
            "/api/v1/tracking/runs/compare",
            json={"run_ids": [run_id, jobs["deep"]["mlflow_run_id"]]},
            headers=other,
        ),
        client.post(f"{REGISTRY}-iso/versions", json={"job_id": job["job_id"]}, headers=other),
        client.post(f"{REGISTRY}-iso/versions", json={"run_id": run_id}, headers=other),
        client.post(
            f"{REGISTRY}-iso/versions/1/stage", json={"stage": "Production"}, headers=other
        ),
        client.delete(f"{REGISTRY}-iso", headers=other),
    ]
    assert [response.status_code for response in writes] == [404] * len(writes)
    # The other tenant's failed registrations created nothing of its own either.
    assert client.get("/api/v1/registry/models", headers=other).json() == {"models": []}


TRAVERSALS = [
    "path=../x",
    "path=a/../../b",
    "path=%2e%2e%2fconfig.json",  # decoded once by the framework into ../config.json
    "path=%252e%252e%252fx",  # double-encoded: an escape is left after decoding
    "path=..%5cx",
    "path=..%5c..%5cetc%5cpasswd",
    "path=/etc/passwd",
    "path=file:///etc/passwd",
    "path=a%00b",
    f"path={'a' * 256}",  # longer than a file name may be (ENAMETOOLONG was a 502)
]


@pytest.mark.parametrize("query", TRAVERSALS)
@pytest.mark.parametrize("endpoint", ["artifacts", "artifacts/content"])
@pytest.mark.parametrize("owner", ["runs", "models"])
def test_traversal_attempts_are_refused_before_reading(
    client: TestClient,
    jobs: dict[str, dict],
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    endpoint: str,
    owner: str,
) -> None:
    reads: list[Path] = []
    original = tracking_service._read_file
    monkeypatch.setattr(
        tracking_service,
        "_read_file",
        lambda target, path: reads.append(target) or original(target, path),
    )
    key = "mlflow_run_id" if owner == "runs" else "model_artifact_id"
    item_id = jobs["shallow"][key]
    response = client.get(
        f"/api/v1/tracking/{owner}/{item_id}/{endpoint}?{query}", headers=tenant_headers()
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("path ")
    assert reads == []


def test_a_symlink_out_of_the_artifact_root_is_refused(
    client: TestClient, jobs: dict[str, dict]
) -> None:
    run = client.get(
        f"/api/v1/tracking/runs/{jobs['deep']['mlflow_run_id']}", headers=tenant_headers()
    ).json()
    listing = client.get(
        f"/api/v1/tracking/runs/{run['run_id']}/artifacts", headers=tenant_headers()
    ).json()
    root = Path(urlparse(listing["root_uri"]).path)
    outside = root.parent.parent / "secret.txt"
    outside.write_text("tenant secret")
    os.symlink(outside, root / "escape.txt")
    response = client.get(
        f"/api/v1/tracking/runs/{run['run_id']}/artifacts/content",
        params={"path": "escape.txt"},
        headers=tenant_headers(),
    )
    assert response.status_code == 400
    assert "tenant secret" not in response.text


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/tracking/runs/not-a-run-id", "run_id"),
        ("/api/v1/tracking/experiments/1;drop", "experiment_id"),
        ("/api/v1/tracking/models/m-..", "model_artifact_id"),
        (f"/api/v1/tracking/runs/{'ab' * 16}/metrics/..%2e/history", "metric_key"),
        ("/api/v1/registry/models/-bad-name", "name"),
        ("/api/v1/registry/models/churn/versions/0", "version"),
        ("/api/v1/registry/models/churn/versions/1%2e1", "version"),
    ],
)
def test_malformed_ids_are_400_naming_the_parameter(
    client: TestClient, path: str, parameter: str
) -> None:
    response = client.get(path, headers=tenant_headers())
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(f"{parameter} ")


def test_a_tag_mlflow_refuses_changes_nothing_and_writes_no_audit_event(
    client: TestClient, jobs: dict[str, dict]
) -> None:
    name = f"{MODEL}-atomic"
    registry = f"/api/v1/registry/models/{name}"
    created = client.post(
        f"{registry}/versions",
        json={"job_id": jobs["shallow"]["job_id"], "description": "kept", "tags": {"a": "1"}},
        headers=actor("alice"),
    )
    assert created.status_code == 201, created.text
    trail_before = client.get(f"{registry}/audit", headers=tenant_headers()).json()["events"]

    for path in (registry, f"{registry}/versions/1"):
        # Good tags first, the bad one last: nothing of it may be written.
        response = client.patch(
            path,
            json={"description": "changed", "tags": {"b": "2", "bad®": "x"}},
            headers=actor("mallory"),
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "tags.bad®"

    model = client.get(registry, headers=tenant_headers()).json()
    version = client.get(f"{registry}/versions/1", headers=tenant_headers()).json()
    assert model["description"] in (None, "")
    assert "b" not in model["tags"]
    assert version["description"] == "kept"
    assert version["tags"].get("a") == "1" and "b" not in version["tags"]
    trail_after = client.get(f"{registry}/audit", headers=tenant_headers()).json()["events"]
    assert trail_after == trail_before

    refused = client.post(
        f"{registry}/versions",
        json={"job_id": jobs["deep"]["job_id"], "tags": {"bad®": "x"}},
        headers=actor("alice"),
    )
    assert refused.status_code == 422
    versions = client.get(registry, headers=tenant_headers()).json()
    assert [item["version"] for item in versions["versions"]] == ["1"]


@pytest.mark.parametrize(
    "token",
    ["é", "W10=", "not base64!", "eyJvZmZzZXQiOiAieCJ9"],  # non-ASCII, [], junk, {"offset": "x"}
)
def test_a_page_token_the_search_did_not_issue_is_422_naming_it(
    client: TestClient, token: str
) -> None:
    response = client.post(
        "/api/v1/tracking/runs/search", json={"page_token": token}, headers=tenant_headers()
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "page_token"
