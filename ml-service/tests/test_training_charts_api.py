"""Charts of real jobs: logged with the run, listed and served by Accept, tenant-scoped."""

import json

import pytest
from fastapi.testclient import TestClient

from app.charts.core import VEGA_LITE_MEDIA_TYPE
from app.jobs.store import JobStore, NewJob
from tests.conftest import churn_config, tenant_headers, wait_for_status

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def charts_path(job_id: str, name: str | None = None) -> str:
    path = f"/api/v1/training/jobs/{job_id}/charts"
    return path if name is None else f"{path}/{name}"


@pytest.fixture(scope="module")
def chart_jobs(client: TestClient) -> dict[str, dict]:
    """A small classification and a small regression job, submitted together."""
    submissions = {
        "churn": churn_config(name="churn-charts", hyperparameters={"n_estimators": 20}),
        "value": {
            "name": "value-charts",
            "algorithm": "xgboost",
            "task_type": "regression",
            "dataset": {"source": "table", "table": "ml_features.customer_value"},
            "target_column": "lifetime_value",
            "hyperparameters": {"n_estimators": 20},
        },
    }
    job_ids = {}
    for label, config in submissions.items():
        response = client.post("/api/v1/training/submit", json=config, headers=tenant_headers())
        assert response.status_code == 202, response.text
        job_ids[label] = response.json()["job_id"]
    jobs = {
        label: wait_for_status(client, job_id, {"completed", "failed", "cancelled"})
        for label, job_id in job_ids.items()
    }
    for job in jobs.values():
        assert job["status"] == "completed", job["error"]
    return jobs


def test_a_completed_job_lists_its_charts(client: TestClient, chart_jobs: dict[str, dict]) -> None:
    churn = client.get(charts_path(chart_jobs["churn"]["job_id"]), headers=tenant_headers())
    assert churn.status_code == 200, churn.text
    listed = churn.json()
    assert listed["job_id"] == chart_jobs["churn"]["job_id"]
    assert [chart["name"] for chart in listed["charts"]] == [
        "confusion_matrix", "roc_curve", "precision_recall", "feature_importance",
        "training_curve",
    ]  # fmt: skip
    roc = listed["charts"][1]
    assert roc["title"].startswith("ROC curve (AUC = ")
    assert roc["media_types"] == ["image/png", VEGA_LITE_MEDIA_TYPE]
    value = client.get(charts_path(chart_jobs["value"]["job_id"]), headers=tenant_headers())
    assert [chart["name"] for chart in value.json()["charts"]] == [
        "residuals", "predicted_vs_actual", "feature_importance", "training_curve",
    ]  # fmt: skip


def test_a_chart_comes_as_png_or_vega_lite_by_accept(
    client: TestClient, chart_jobs: dict[str, dict]
) -> None:
    path = charts_path(chart_jobs["churn"]["job_id"], "confusion_matrix")
    png = client.get(path, headers=tenant_headers(Accept="image/png"))
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG_MAGIC)
    for accept, content_type in [
        (None, "application/json"),
        ("application/json", "application/json"),
        (VEGA_LITE_MEDIA_TYPE, VEGA_LITE_MEDIA_TYPE),
    ]:
        headers = tenant_headers() if accept is None else tenant_headers(Accept=accept)
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == content_type
        spec = json.loads(answer.content)
        assert spec["title"]["text"] == "Confusion matrix"
        total = sum(cell["count"] for cell in spec["data"]["values"])
        assert total == chart_jobs["churn"]["data_summary"]["test_samples"]
    refused = client.get(path, headers=tenant_headers(Accept="text/html"))
    assert refused.status_code == 406
    assert "image/png" in refused.json()["detail"]


def test_unknown_and_malformed_chart_names(client: TestClient, chart_jobs: dict[str, dict]) -> None:
    job_id = chart_jobs["value"]["job_id"]
    unknown = client.get(charts_path(job_id, "roc_curve"), headers=tenant_headers())
    assert unknown.status_code == 404
    assert "'roc_curve'" in unknown.json()["detail"]
    for name in ("..%2Fconfig", "index.json", "Residuals", "residuals.png"):
        answer = client.get(charts_path(job_id, name), headers=tenant_headers())
        assert answer.status_code in (400, 404), (name, answer.status_code)
        assert answer.headers["content-type"] == "application/json"
        assert "detail" in answer.json()


def test_another_tenant_gets_404_for_the_charts(
    client: TestClient, chart_jobs: dict[str, dict]
) -> None:
    job_id = chart_jobs["churn"]["job_id"]
    for path in (charts_path(job_id), charts_path(job_id, "confusion_matrix")):
        foreign = client.get(path, headers=tenant_headers("intruder-co", Accept="image/png"))
        assert foreign.status_code == 404
        assert foreign.json() == {"detail": f"training job {job_id} does not exist"}


def test_a_job_not_completed_is_409(client: TestClient) -> None:
    store: JobStore = client.app.state.job_store
    record, _ = store.submit(
        "queue-co",
        None,
        NewJob(
            kind="training",
            id_prefix="train",
            name="waiting",
            spec={"algorithm": "xgboost", "task_type": "classification"},
        ),
        max_active_jobs=5,
    )
    for path in (charts_path(record.job_id), charts_path(record.job_id, "confusion_matrix")):
        answer = client.get(path, headers=tenant_headers("queue-co"))
        assert answer.status_code == 409
        assert answer.json()["detail"] == (
            f"training job {record.job_id} is queued; charts exist once it completes"
        )
