"""Serving on Ray Serve (issue 5): deploy -> predict -> 422s -> feedback -> metrics, A/B, releases,
drift, restart recovery and tenancy. One deployment is shared: Serve start-up is slow."""

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.datasets.schemas import DatasetSource
from tests.conftest import (
    AUTHORIZATION,
    churn_config,
    is_loopback,
    ray_listeners,
    tenant_headers,
    wait_for_status,
)

MODEL = "churn-serve"
MODEL_ID = "churn-serve"
OTHER_TENANT = "globex"
SERVING = "/api/v1/serving"


def wait_healthy(client: TestClient, model_id: str = MODEL_ID, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"{SERVING}/deployments/{model_id}", headers=tenant_headers())
        # 200 from the first call on: a restarted service knows its deployments before it serves
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] != "deploying":
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{model_id} still deploying after {timeout}s: {body}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def versions(client: TestClient) -> list[str]:
    """Two registered versions of a small churn model."""
    submitted = []
    for depth in (2, 4):
        config = churn_config(
            name=f"churn-serve-{depth}", hyperparameters={"n_estimators": 20, "max_depth": depth}
        )
        response = client.post("/api/v1/training/submit", json=config, headers=tenant_headers())
        assert response.status_code == 202, response.text
        submitted.append(response.json()["job_id"])
    numbers = []
    for job_id in submitted:
        job = wait_for_status(client, job_id, {"completed", "failed", "cancelled"})
        assert job["status"] == "completed", job["error"]
        registered = client.post(
            f"/api/v1/registry/models/{MODEL}/versions",
            json={"job_id": job_id},
            headers=tenant_headers(),
        )
        assert registered.status_code == 201, registered.text
        numbers.append(registered.json()["version"])
    return numbers


@pytest.fixture(scope="module")
def deployment(client: TestClient, versions: list[str]) -> Iterator[dict]:
    response = client.post(
        f"{SERVING}/deployments",
        json={"model_name": MODEL, "version": int(versions[0]), "model_id": MODEL_ID},
        headers=tenant_headers(),
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "deploying"
    body = wait_healthy(client)
    assert body["status"] == "healthy", body
    yield body
    # The session's Ray is shared: later modules' jobs need the replicas' CPUs back.
    client.delete(f"{SERVING}/deployments/{MODEL_ID}", headers=tenant_headers())


CUSTOMER = {
    "tenure": 3,
    "monthly_charges": 89.5,
    "total_charges": 268.5,
    "contract_type": "month-to-month",
}


def full_record(deployment: dict, **overrides: object) -> dict:
    record = {}
    for field in deployment["inputs"]:
        if field["name"] in CUSTOMER:
            record[field["name"]] = CUSTOMER[field["name"]]
        elif field["type"] == "string":
            record[field["name"]] = "none"
        else:
            record[field["name"]] = 1
    return record | overrides


def test_deploy_then_predict_one_record_and_instances(client: TestClient, deployment: dict) -> None:
    record = full_record(deployment)
    single = client.post(f"{SERVING}/{MODEL_ID}/predict", json=record, headers=tenant_headers())
    assert single.status_code == 200, single.text
    body = single.json()
    assert body["version"] == deployment["variants"][0]["version"]
    [prediction] = body["predictions"]
    assert prediction["class"] in (0, 1, True, False)
    assert 0.5 <= prediction["score"] <= 1
    assert set(prediction["probabilities"]) == {"0", "1"} or len(prediction["probabilities"]) == 2
    assert len(prediction["prediction_id"]) == 32

    many = client.post(
        f"{SERVING}/{MODEL_ID}/predict",
        json={"instances": [record, full_record(deployment, tenure=60, contract_type="two-year")]},
        headers=tenant_headers(),
    )
    assert many.status_code == 200, many.text
    predictions = many.json()["predictions"]
    assert len(predictions) == 2
    assert predictions[0]["score"] == pytest.approx(prediction["score"])


def test_inputs_that_do_not_fit_the_signature_are_422_naming_each_field(
    client: TestClient, deployment: dict
) -> None:
    record = full_record(deployment)
    del record["tenure"]
    bad = {"instances": [record | {"monthly_charges": "a lot", "favourite_colour": "red"}]}
    response = client.post(f"{SERVING}/{MODEL_ID}/predict", json=bad, headers=tenant_headers())
    assert response.status_code == 422, response.text
    fields = {item["field"]: item["message"] for item in response.json()["errors"]}
    assert fields == {
        "instances.0.tenure": "missing",
        "instances.0.monthly_charges": "must be a number",
        "instances.0.favourite_colour": "not a feature of the model",
    }
    single = client.post(
        f"{SERVING}/{MODEL_ID}/predict",
        json=full_record(deployment, contract_type=3),
        headers=tenant_headers(),
    )
    assert single.status_code == 422
    assert single.json()["errors"] == [{"field": "contract_type", "message": "must be a string"}]
    empty = client.post(
        f"{SERVING}/{MODEL_ID}/predict", json={"instances": []}, headers=tenant_headers()
    )
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "instances"


def test_an_unseen_category_is_treated_as_missing_like_in_training(
    client: TestClient, deployment: dict
) -> None:
    response = client.post(
        f"{SERVING}/{MODEL_ID}/predict",
        json=full_record(deployment, contract_type="ten-year"),
        headers=tenant_headers(),
    )
    assert response.status_code == 200, response.text


def test_feedback_feeds_live_accuracy_and_latency_metrics(
    client: TestClient, deployment: dict
) -> None:
    records = [full_record(deployment, tenure=t) for t in range(1, 21)]
    response = client.post(
        f"{SERVING}/{MODEL_ID}/predict", json={"instances": records}, headers=tenant_headers()
    )
    predictions = response.json()["predictions"]
    feedback = [
        {
            "prediction_id": item["prediction_id"],
            "actual": item["class"] if i < 15 else 1 - item["class"],
        }
        for i, item in enumerate(predictions)
    ] + [{"prediction_id": "0" * 32, "actual": 1}]
    recorded = client.post(
        f"{SERVING}/{MODEL_ID}/feedback", json=feedback, headers=tenant_headers()
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json() == {"recorded": 20, "unknown_prediction_ids": ["0" * 32]}

    metrics = client.get(
        f"{SERVING}/{MODEL_ID}/metrics", params={"window": "1h"}, headers=tenant_headers()
    )
    assert metrics.status_code == 200, metrics.text
    body = metrics.json()
    assert body["task_type"] == "classification"
    [variant] = [
        v for v in body["variants"] if v["version"] == deployment["variants"][0]["version"]
    ]
    assert variant["feedback_count"] == 20
    assert variant["accuracy"] == pytest.approx(0.75)
    assert variant["requests"] >= 20
    assert variant["error_rate"] == 0
    assert 0 < variant["latency_ms"]["p50"] <= variant["latency_ms"]["p99"]
    bad_window = client.get(
        f"{SERVING}/{MODEL_ID}/metrics", params={"window": "soon"}, headers=tenant_headers()
    )
    assert bad_window.status_code == 422
    assert bad_window.json()["errors"][0]["field"] == "window"


def test_open_inference_protocol_v2(client: TestClient, deployment: dict) -> None:
    assert client.get("/v2/health/live", headers=AUTHORIZATION).json() == {"live": True}
    assert client.get("/v2/health/ready", headers=AUTHORIZATION).json() == {"ready": True}
    assert client.get("/v2", headers=AUTHORIZATION).json()["name"] == "ml-service"
    version = deployment["variants"][0]["version"]
    metadata = client.get(f"/v2/models/{MODEL_ID}", headers=tenant_headers()).json()
    assert {item["name"] for item in metadata["inputs"]} == {
        f["name"] for f in deployment["inputs"]
    }
    assert metadata["versions"] == [version]
    # the churn target is 0/1: the class output carries integers, declared as such
    assert {item["name"]: item["datatype"] for item in metadata["outputs"]} == {
        "class": "INT64", "score": "FP64", "prediction_id": "BYTES"
    }  # fmt: skip
    by_version = client.get(f"/v2/models/{MODEL_ID}/versions/{version}", headers=tenant_headers())
    assert by_version.json() == metadata
    assert client.get(f"/v2/models/{MODEL_ID}/ready", headers=tenant_headers()).status_code == 200
    assert (
        client.get(
            f"/v2/models/{MODEL_ID}/versions/{version}/ready", headers=tenant_headers()
        ).status_code
        == 200
    )
    never = client.get(f"/v2/models/{MODEL_ID}/versions/999/ready", headers=tenant_headers())
    assert never.status_code == 404
    assert "999" in never.json()["error"]  # the protocol's error body, not {"detail"}

    records = [full_record(deployment), full_record(deployment, tenure=50)]
    inputs = [
        {
            "name": field["name"],
            "shape": [2, 1],
            # a boolean feature takes 0/1 as an integer tensor, as predict takes 0 and 1
            "datatype": {"string": "BYTES", "boolean": "INT64"}.get(field["type"], "FP64"),
            "data": [record[field["name"]] for record in records],
        }
        for field in deployment["inputs"]
    ]
    # as stock clients (tritonclient) send it: a JSON body with no Content-Type
    response = client.post(
        f"/v2/models/{MODEL_ID}/versions/{version}/infer",
        content=json.dumps({"id": "r1", "inputs": inputs}).encode(),
        headers=tenant_headers(),
    )
    assert response.status_code == 200, response.text
    assert response.json()["model_version"] == version
    outputs = {item["name"]: item for item in response.json()["outputs"]}
    assert set(outputs) == {"class", "score", "prediction_id"}
    assert outputs["score"]["shape"] == [2]
    assert all(isinstance(value, int) for value in outputs["class"]["data"])

    only_score = client.post(
        f"/v2/models/{MODEL_ID}/infer",
        json={"inputs": inputs, "outputs": [{"name": "score"}]},
        headers=tenant_headers(),
    )
    assert [item["name"] for item in only_score.json()["outputs"]] == ["score"]

    numeric = next(i for i, item in enumerate(inputs) if item["datatype"] == "FP64")
    wrong = [dict(item) for item in inputs]
    wrong[numeric] = {**wrong[numeric], "datatype": "BYTES", "shape": [3]}
    refused = client.post(
        f"/v2/models/{MODEL_ID}/infer",
        json={"inputs": wrong, "outputs": [{"name": "colour"}]},
        headers=tenant_headers(),
    )
    assert refused.status_code == 422
    assert "error" in refused.json()
    assert {item["field"] for item in refused.json()["errors"]} == {
        f"inputs.{numeric}.shape", f"inputs.{numeric}.datatype"
    }  # fmt: skip
    unknown_output = client.post(
        f"/v2/models/{MODEL_ID}/infer",
        json={"inputs": inputs, "outputs": [{"name": "colour"}]},
        headers=tenant_headers(),
    )
    assert unknown_output.status_code == 422
    assert unknown_output.json()["errors"][0]["field"] == "outputs.0.name"


def test_drift_alerts_on_a_shifted_batch_and_not_on_a_normal_one(
    client: TestClient, deployment: dict
) -> None:
    # A second deployment of the same version keeps this test's logged inputs apart.
    created = client.post(
        f"{SERVING}/deployments",
        json={"model_name": MODEL, "version": int(deployment["variants"][0]["version"]),
              "model_id": "churn-drift"},
        headers=tenant_headers(),
    )  # fmt: skip
    assert created.status_code == 202, created.text
    assert wait_healthy(client, "churn-drift")["status"] == "healthy"
    names = [field["name"] for field in deployment["inputs"]]
    frame = client.app.state.warehouses.load_frame(  # type: ignore[attr-defined]
        "acme-corp",
        DatasetSource(source="sql", query="SELECT * FROM ml_features.customer_churn LIMIT 400"),
        "",
        names,
    )
    sample = [
        {name: (value.item() if hasattr(value, "item") else value) for name, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    normal = client.post(
        f"{SERVING}/churn-drift/predict", json={"instances": sample}, headers=tenant_headers()
    )
    assert normal.status_code == 200, normal.text
    report = client.get(f"{SERVING}/churn-drift/drift", headers=tenant_headers()).json()
    assert report["rows"] == len(sample)
    tenure = next(item for item in report["features"] if item["feature"] == "tenure")
    assert not tenure["drifted"], report

    shifted = [row | {"tenure": row["tenure"] + 100, "monthly_charges": row["monthly_charges"] * 3}
               for row in sample]  # fmt: skip
    client.post(
        f"{SERVING}/churn-drift/predict", json={"instances": shifted}, headers=tenant_headers()
    )
    report = client.get(f"{SERVING}/churn-drift/drift", headers=tenant_headers()).json()
    drifted = {item["feature"] for item in report["features"] if item["drifted"]}
    assert {"tenure", "monthly_charges"} <= drifted
    assert any(alert.startswith("tenure:") for alert in report["alerts"])
    assert (
        client.delete(f"{SERVING}/deployments/churn-drift", headers=tenant_headers()).status_code
        == 204
    )


def test_ab_split_is_sticky_by_key_and_follows_weights_then_release_and_rollback(
    client: TestClient, deployment: dict, versions: list[str]
) -> None:
    first, second = int(versions[0]), int(versions[1])
    split = client.put(
        f"{SERVING}/{MODEL_ID}/traffic",
        json={"variants": [{"version": first, "weight": 80}, {"version": second, "weight": 20}]},
        headers=tenant_headers(),
    )
    assert split.status_code == 200, split.text
    assert {v["version"]: v["weight"] for v in split.json()["variants"]} == {
        str(first): 80, str(second): 20,
    }  # fmt: skip
    record = full_record(deployment)

    def answered_by(key: str) -> str:
        response = client.post(
            f"{SERVING}/{MODEL_ID}/predict",
            json=record,
            headers=tenant_headers(**{"X-Request-Key": key}),
        )
        assert response.status_code == 200, response.text
        return response.json()["version"]

    assert {answered_by("customer-42") for _ in range(5)} == {answered_by("customer-42")}
    counts: dict[str, int] = {}
    for index in range(300):
        version = answered_by(f"customer-{index}")
        counts[version] = counts.get(version, 0) + 1
    assert 0.12 <= counts.get(str(second), 0) / 300 <= 0.28, counts

    metrics = client.get(f"{SERVING}/{MODEL_ID}/metrics", headers=tenant_headers()).json()
    assert {str(first), str(second)} <= {v["version"] for v in metrics["variants"]}

    released = client.post(
        f"{SERVING}/{MODEL_ID}/release", json={"version": second}, headers=tenant_headers()
    )
    assert released.status_code == 200, released.text
    assert [(v["version"], v["weight"]) for v in released.json()["variants"]] == [
        (str(second), 100)
    ]
    assert answered_by("anyone") == str(second)
    rolled_back = client.post(f"{SERVING}/{MODEL_ID}/rollback", headers=tenant_headers())
    assert rolled_back.status_code == 200, rolled_back.text
    assert answered_by("anyone-else") != "" and {
        v["version"]: v["weight"] for v in rolled_back.json()["variants"]
    } == {str(first): 80, str(second): 20}


def test_replicas_listen_on_loopback_only(client: TestClient, deployment: dict) -> None:
    # Serve hard-codes [::] for each replica's inter-deployment gRPC server; app/serving/
    # replica.py binds it to the node's address (loopback here) like Ray's own servers.
    assert (
        client.post(
            f"{SERVING}/{MODEL_ID}/predict", json=full_record(deployment), headers=tenant_headers()
        ).status_code
        == 200
    )
    exposed = [item for item in ray_listeners() if not is_loopback(item[1])]
    assert exposed == [], exposed


def test_a_replica_answers_predictions_itself_with_the_ml_services_checks(
    client: TestClient, deployment: dict, versions: list[str]
) -> None:
    """Ray Serve's direct ingress (app/serving/replica.py): the targets the AI Service calls
    answer like the ML Service's predict, check the token, the tenant and the signature, and log
    each prediction where feedback finds it. Offered only while one version takes all traffic."""
    split = {"variants": [{"version": int(v), "weight": 50} for v in versions]}
    client.put(f"{SERVING}/{MODEL_ID}/traffic", json=split, headers=tenant_headers())
    targets = client.get(f"{SERVING}/{MODEL_ID}/targets", headers=tenant_headers())
    assert targets.status_code == 409
    assert "split across versions" in targets.json()["detail"]
    single = {"variants": [{"version": int(versions[0]), "weight": 100}]}
    client.put(f"{SERVING}/{MODEL_ID}/traffic", json=single, headers=tenant_headers())
    targets = client.get(f"{SERVING}/{MODEL_ID}/targets", headers=tenant_headers())
    assert targets.status_code == 200, targets.text
    assert targets.json()["version"] == versions[0]
    [url] = targets.json()["urls"]
    assert url.startswith("http://127.0.0.1:"), url
    headers = tenant_headers()
    record = full_record(deployment)

    with httpx.Client(timeout=10) as replica:
        answer = replica.post(
            f"{url}/predict", json={"instances": [record, record]}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        through_ml_service = client.post(
            f"{SERVING}/{MODEL_ID}/predict", json=record, headers=tenant_headers()
        ).json()
        predictions = answer.json()["predictions"]
        assert answer.json()["model_id"] == MODEL_ID
        assert {k: v for k, v in predictions[0].items() if k != "prediction_id"} == {
            k: v for k, v in through_ml_service["predictions"][0].items() if k != "prediction_id"
        }
        assert "compute;dur=" in answer.headers["server-timing"]

        refused = {
            "no token": replica.post(
                f"{url}/predict", json=record, headers={"X-Tenant-ID": headers["X-Tenant-ID"]}
            ),
            "another tenant": replica.post(
                f"{url}/predict", json=record, headers=headers | {"X-Tenant-ID": OTHER_TENANT}
            ),
            "bad record": replica.post(
                f"{url}/predict", json={**record, "tenure": "three"}, headers=headers
            ),
            "not JSON": replica.post(f"{url}/predict", content=b"{", headers=headers),
            "nested too deep": replica.post(
                f"{url}/predict", content=b"[" * 100_000 + b"]" * 100_000, headers=headers
            ),
        }
    assert {reason: r.status_code for reason, r in refused.items()} == {
        "no token": 401, "another tenant": 404, "bad record": 422, "not JSON": 422,
        "nested too deep": 422,
    }  # fmt: skip
    assert refused["not JSON"].json()["errors"] == [
        {"field": "body", "message": "not a JSON document"}
    ]
    assert refused["bad record"].json()["errors"][0]["field"] == "tenure"

    # feedback right away: the replica's log may not be written yet, the ML Service waits for it
    feedback = client.post(
        f"{SERVING}/{MODEL_ID}/feedback",
        json=[{"prediction_id": p["prediction_id"], "actual": p["class"]} for p in predictions],
        headers=tenant_headers(),
    )
    assert feedback.json() == {"recorded": 2, "unknown_prediction_ids": []}


def test_targets_are_refused_where_predictions_need_the_ml_service(
    client: TestClient, deployment: dict
) -> None:
    other = client.get(f"{SERVING}/{MODEL_ID}/targets", headers=tenant_headers(OTHER_TENANT))
    assert other.status_code == 404
    embedded = client.post(
        f"{SERVING}/deployments",
        json={"model_name": MODEL, "version": 1, "model_id": "churn-inline", "runtime": "embedded"},
        headers=tenant_headers(),
    )
    assert embedded.status_code == 202, embedded.text
    try:
        refused = client.get(f"{SERVING}/churn-inline/targets", headers=tenant_headers())
        assert refused.status_code == 409
        assert "runtime embedded" in refused.json()["detail"]
    finally:
        client.delete(f"{SERVING}/deployments/churn-inline", headers=tenant_headers())


def test_another_tenant_sees_and_reaches_nothing(client: TestClient, deployment: dict) -> None:
    other = tenant_headers(OTHER_TENANT)
    assert client.get(f"{SERVING}/deployments", headers=other).json() == {"deployments": []}
    for method, path in [
        ("get", f"{SERVING}/deployments/{MODEL_ID}"),
        ("post", f"{SERVING}/{MODEL_ID}/predict"),
        ("get", f"{SERVING}/{MODEL_ID}/metrics"),
        ("post", f"{SERVING}/{MODEL_ID}/rollback"),
        ("delete", f"{SERVING}/deployments/{MODEL_ID}"),
        ("get", f"/v2/models/{MODEL_ID}"),
    ]:
        kwargs = {"json": full_record(deployment)} if path.endswith("predict") else {}
        response = client.request(method, path, headers=other, **kwargs)
        assert response.status_code == 404, (path, response.text)
    # and it cannot deploy the first tenant's model either
    response = client.post(
        f"{SERVING}/deployments", json={"model_name": MODEL, "version": 1}, headers=other
    )
    assert response.status_code == 404


def test_batch_prediction_writes_a_predictions_table(client: TestClient, deployment: dict) -> None:
    # a source DuckDB cannot read is refused at submission, naming the field; no job is made
    refused = client.post(
        f"{SERVING}/batch",
        json={
            "model_id": MODEL_ID,
            "dataset": {"source": "sql", "query": "SELECT nope FROM ml_features.customer_churn"},
            "output_table": "never_written",
        },
        headers=tenant_headers(),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "dataset.query"
    response = client.post(
        f"{SERVING}/batch",
        json={
            "model_id": MODEL_ID,
            "dataset": {"source": "sql", "query": "SELECT * FROM ml_features.customer_churn"},
            "output_table": "churn_scores",
            "chunk_rows": 1000,
        },
        headers=tenant_headers(),
    )
    assert response.status_code == 202, response.text
    batch_id = response.json()["batch_id"]
    deadline = time.monotonic() + 60
    while True:
        job = client.get(f"{SERVING}/batch/{batch_id}", headers=tenant_headers()).json()
        if job["status"] not in ("queued", "running") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert job["status"] == "completed", job
    assert job["rows_done"] == job["rows_total"] == 5000
    assert job["output_table"] == "predictions.churn_scores"
    generic = client.get(f"/api/v1/jobs/{batch_id}", headers=tenant_headers()).json()
    assert (generic["kind"], generic["status"]) == ("batch_prediction", "completed")
    assert generic["progress"] == {"rows_total": 5000, "rows_done": 5000}
    tables = client.get("/api/v1/datasets/tables", headers=tenant_headers()).json()
    assert any(t.get("name") == "churn_scores" or "churn_scores" in str(t) for t in tables)
    assert (
        client.get(f"{SERVING}/batch/{batch_id}", headers=tenant_headers(OTHER_TENANT)).status_code
        == 404
    )
    # The tenant can remove what a batch wrote, as it can its uploads.
    deleted = client.delete(
        "/api/v1/datasets/tables/predictions.churn_scores", headers=tenant_headers()
    )
    assert deleted.status_code == 200, deleted.text
    tables = client.get("/api/v1/datasets/tables", headers=tenant_headers()).json()
    assert all(table["name"] != "churn_scores" for table in tables)


def test_a_batch_is_idempotent_and_a_cancelled_one_writes_no_table(
    client: TestClient, deployment: dict
) -> None:
    body = {
        "model_id": MODEL_ID,
        # 200,000 rows in 200 chunks: long enough to be cancelled while it runs
        "dataset": {
            "source": "sql",
            "query": "SELECT c.* FROM ml_features.customer_churn c, range(40)",
        },
        "output_table": "churn_scores_cancelled",
        "chunk_rows": 1000,
    }
    headers = tenant_headers(**{"Idempotency-Key": "cancelled-batch"})
    first = client.post(f"{SERVING}/batch", json=body, headers=headers)
    again = client.post(f"{SERVING}/batch", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200), first.text
    batch_id = first.json()["batch_id"]
    assert again.json()["batch_id"] == batch_id
    cancelled = client.delete(f"{SERVING}/batch/{batch_id}", headers=tenant_headers())
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert client.delete(f"{SERVING}/batch/{batch_id}", headers=tenant_headers()).status_code == 409
    tables = client.get("/api/v1/datasets/tables", headers=tenant_headers()).json()
    assert "churn_scores_cancelled" not in str(tables)


def test_prometheus_metrics_count_predictions_per_model(
    client: TestClient, deployment: dict
) -> None:
    client.post(
        f"{SERVING}/{MODEL_ID}/predict", json=full_record(deployment), headers=tenant_headers()
    )
    text = client.get("/metrics").text
    assert (
        f'mls_predictions_total{{model_id="{MODEL_ID}",outcome="ok",tenant_id="acme-corp"' in text
    )
    assert 'route="/api/v1/serving/{model_id}/predict"' in text


def test_a_restarted_service_redeploys_its_stored_deployments(
    client: TestClient, deployment: dict, settings
) -> None:
    from ray import serve

    from app.main import create_app
    from app.serving.service import app_name

    version = deployment["variants"][0]["version"]
    serve.delete(app_name("acme-corp", MODEL_ID, version))
    # the demo warehouse is already seeded (and open read-only in this process)
    with TestClient(
        create_app(settings.model_copy(update={"seed_demo_data": False})), headers=AUTHORIZATION
    ) as restarted:
        body = wait_healthy(restarted)
        assert body["status"] == "healthy", body
        response = restarted.post(
            f"{SERVING}/{MODEL_ID}/predict", json=full_record(deployment), headers=tenant_headers()
        )
        assert response.status_code == 200, response.text


def test_with_serving_timing_a_predict_says_where_its_time_went(
    client: TestClient, deployment: dict, settings
) -> None:
    """MLS_SERVING_TIMING on: each predict answers a Server-Timing header with every hop (issue
    17's breakdown, read by bench/serving), in ms, adding up to the ML Service's own time; off
    (the default, `client`), no header."""
    from app.main import create_app

    record = full_record(deployment)
    plain = client.post(f"{SERVING}/{MODEL_ID}/predict", json=record, headers=tenant_headers())
    assert plain.status_code == 200, plain.text
    assert "Server-Timing" not in plain.headers

    timed_settings = settings.model_copy(update={"seed_demo_data": False, "serving_timing": True})
    with TestClient(create_app(timed_settings), headers=AUTHORIZATION) as timed:
        assert wait_healthy(timed)["status"] == "healthy"
        response = timed.post(
            f"{SERVING}/{MODEL_ID}/predict", json=record, headers=tenant_headers()
        )
        assert response.status_code == 200, response.text
        hops = {}
        for entry in response.headers["Server-Timing"].split(","):
            name, _, duration = entry.strip().partition(";dur=")
            hops[name] = float(duration)
        assert list(hops) == [
            "ingress", "check", "to_replica", "compute", "from_replica", "respond", "ml"
        ]  # fmt: skip
        assert all(value >= 0 for value in hops.values()), hops
        assert 0 < hops["compute"] < hops["ml"]
        # the hops are consecutive: together they are the ML Service's time (rounding aside)
        assert sum(value for name, value in hops.items() if name != "ml") == pytest.approx(
            hops["ml"], abs=0.05
        )


def test_an_embedded_deployment_answers_like_the_ray_serve_one(
    client: TestClient, deployment: dict, versions: list[str]
) -> None:
    """runtime embedded loads the same version in the ML Service's process: same predictions,
    same monitoring, no replicas; and it refuses replica settings, naming the field."""
    records = [
        full_record(deployment),
        full_record(deployment, tenure=60, contract_type="two-year"),
        full_record(deployment, contract_type="never-seen", monthly_charges=None),
    ]
    served = client.post(
        f"{SERVING}/{MODEL_ID}/predict", json={"instances": records}, headers=tenant_headers()
    )
    assert served.status_code == 200, served.text
    version = int(served.json()["version"])  # earlier tests may have released another one

    refused = client.post(
        f"{SERVING}/deployments",
        json={"model_name": MODEL, "version": version, "model_id": "churn-embedded",
              "runtime": "embedded", "replicas": 2},
        headers=tenant_headers(),
    )  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "runtime"

    created = client.post(
        f"{SERVING}/deployments",
        json={"model_name": MODEL, "version": version, "model_id": "churn-embedded",
              "runtime": "embedded"},
        headers=tenant_headers(),
    )  # fmt: skip
    assert created.status_code == 202, created.text
    try:
        body = wait_healthy(client, "churn-embedded", timeout=60)
        assert body["status"] == "healthy", body
        assert body["runtime"] == "embedded"
        embedded = client.post(
            f"{SERVING}/churn-embedded/predict", json={"instances": records},
            headers=tenant_headers(),
        )  # fmt: skip
        assert embedded.status_code == 200, embedded.text
        pairs = zip(served.json()["predictions"], embedded.json()["predictions"], strict=True)
        for by_serve, by_embedded in pairs:
            assert by_embedded["class"] == by_serve["class"]
            assert by_embedded["score"] == pytest.approx(by_serve["score"], abs=1e-6)
        bad = client.post(
            f"{SERVING}/churn-embedded/predict", json={"tenure": "long"}, headers=tenant_headers()
        )
        assert bad.status_code == 422
        deadline = time.monotonic() + 10  # the prediction log is written off the request path
        while True:
            metrics = client.get(f"{SERVING}/churn-embedded/metrics", headers=tenant_headers())
            logged = metrics.json()["variants"][0]["requests"]
            if logged >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert logged >= 3
    finally:
        client.delete(f"{SERVING}/deployments/churn-embedded", headers=tenant_headers())
