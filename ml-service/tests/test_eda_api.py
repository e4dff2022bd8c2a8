"""The EDA endpoints end to end: the demo table's known traits, a public dataset against pandas,
storage and tenancy."""

import io
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_diabetes

from tests.conftest import DEMO_TENANT, tenant_headers

PROFILES = "/api/v1/eda/profiles"
CHURN = {"source": "table", "table": "ml_features.customer_churn"}


def _alerts(profile: dict, alert_type: str) -> list[list[str]]:
    return [alert["columns"] for alert in profile["alerts"] if alert["type"] == alert_type]


@pytest.fixture(scope="module")
def churn_profile(client: TestClient) -> dict:
    response = client.post(
        PROFILES,
        json={"dataset": CHURN, "target_column": "churned"},
        headers=tenant_headers(),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_profiles_the_demo_churn_table_with_its_known_traits(churn_profile: dict) -> None:
    assert churn_profile["table"]["rows"] == 5000
    assert churn_profile["sampled"] is False
    kinds = {column["name"]: column["kind"] for column in churn_profile["columns"]}
    assert kinds["customer_id"] == "identifier"
    assert kinds["tenure"] == "numeric" and kinds["contract_type"] == "categorical"
    assert ["customer_id"] in _alerts(churn_profile, "UNIQUE")
    assert ["customer_id"] in _alerts(churn_profile, "IDENTIFIER")
    correlated = _alerts(churn_profile, "HIGH_CORRELATION")
    assert any(columns[0] == "total_charges" and "tenure" in columns for columns in correlated), (
        correlated
    )
    target = churn_profile["target"]
    assert target["column"] == "churned"
    assert sum(entry["count"] for entry in target["class_balance"]) == 5000
    assert target["associations"][0]["column"] == "tenure"


def test_profiles_are_listed_read_back_and_private_to_their_tenant(
    client: TestClient, churn_profile: dict
) -> None:
    profile_id = churn_profile["profile_id"]
    listed = client.get(PROFILES, headers=tenant_headers()).json()["profiles"]
    assert profile_id in [entry["profile_id"] for entry in listed]
    read = client.get(f"{PROFILES}/{profile_id}", headers=tenant_headers())
    assert read.status_code == 200 and read.json() == churn_profile

    other = tenant_headers("eda-other-tenant")
    assert client.get(PROFILES, headers=other).json() == {"profiles": []}
    hidden = client.get(f"{PROFILES}/{profile_id}", headers=other)
    assert hidden.status_code == 404
    # The other tenant's warehouse has no demo table: its profile request names the field.
    refused = client.post(PROFILES, json={"dataset": CHURN}, headers=other)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "dataset.table"


def test_refuses_bad_requests_naming_the_field(client: TestClient) -> None:
    unknown = client.post(
        PROFILES, json={"dataset": CHURN, "target_column": "nope"}, headers=tenant_headers()
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "target_column"
    writes = client.post(
        PROFILES,
        json={"dataset": {"source": "sql", "query": "DROP TABLE ml_features.customer_churn"}},
        headers=tenant_headers(),
    )
    assert writes.status_code == 422
    assert writes.json()["errors"][0]["field"] == "dataset.query"
    sample = client.post(
        PROFILES, json={"dataset": CHURN, "sample": {"rows": 0}}, headers=tenant_headers()
    )
    assert sample.status_code == 422
    assert sample.json()["errors"][0]["field"] == "sample.rows"


def test_a_sample_says_it_is_one(client: TestClient) -> None:
    response = client.post(
        PROFILES,
        json={"dataset": CHURN, "sample": {"rows": 1000, "random_state": 7}},
        headers=tenant_headers(),
    )
    assert response.status_code == 201
    assert response.json()["sampled"] is True
    assert response.json()["table"]["rows"] == 1000


def test_an_uploaded_public_dataset_agrees_with_pandas(client: TestClient) -> None:
    frame = load_diabetes(as_frame=True).frame
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    tenant = tenant_headers("eda-diabetes")
    uploaded = client.post(
        "/api/v1/datasets/tables",
        headers=tenant,
        files={"file": ("diabetes.parquet", buffer.getvalue(), "application/octet-stream")},
        data={"table": "diabetes"},
    )
    assert uploaded.status_code == 201, uploaded.text
    response = client.post(
        PROFILES, json={"dataset": {"source": "table", "table": "uploads.diabetes"}}, headers=tenant
    )
    assert response.status_code == 201, response.text
    profile = response.json()
    columns = {column["name"]: column for column in profile["columns"]}
    described = frame.describe()
    numeric = [name for name, column in columns.items() if column["kind"] == "numeric"]
    assert len(numeric) == 10  # `sex` has two values: a category, as ydata-profiling has it
    for name in numeric:
        stats = columns[name]["numeric"]
        assert columns[name]["count"] == described.loc["count", name]
        for ours, theirs in [
            ("mean", "mean"),
            ("std", "std"),
            ("min", "min"),
            ("p25", "25%"),
            ("median", "50%"),
            ("p75", "75%"),
            ("max", "max"),
        ]:
            assert stats[ours] == pytest.approx(described.loc[theirs, name], rel=1e-9, abs=1e-12)
    pearson = profile["correlations"]["pearson"]
    expected = frame[pearson["columns"]].corr()
    np.testing.assert_allclose(pearson["values"], expected.to_numpy(), rtol=1e-9)
    assert profile["table"]["duplicate_rows"] == frame.duplicated().sum()
    assert pd.Series([c["distinct"] for c in columns.values()]).tolist() == [
        frame[name].nunique() for name in columns
    ]
    assert DEMO_TENANT not in str(profile)


def test_charts_come_as_png_or_vega_lite_and_the_report_stands_alone(
    client: TestClient, churn_profile: dict
) -> None:
    base = f"{PROFILES}/{churn_profile['profile_id']}"
    listed = client.get(f"{base}/charts", headers=tenant_headers()).json()["charts"]
    names = [chart["name"] for chart in listed]
    for expected in (
        "histogram_tenure",
        "top_values_contract_type",
        "correlation_pearson",
        "missing_values",
        "target_associations",
        "class_balance",
        "target_by_tenure",
    ):
        assert expected in names
    png = client.get(f"{base}/charts/histogram_tenure", headers=tenant_headers(Accept="image/png"))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    spec = client.get(f"{base}/charts/histogram_tenure", headers=tenant_headers()).json()
    assert sum(row["count"] for row in spec["data"]["values"]) == 5000
    refused = client.get(
        f"{base}/charts/histogram_tenure", headers=tenant_headers(Accept="text/csv")
    )
    assert refused.status_code == 406
    assert client.get(f"{base}/charts/nope", headers=tenant_headers()).status_code == 404
    assert client.get(f"{base}/charts", headers=tenant_headers("eda-other")).status_code == 404

    report = client.get(f"{base}/report", headers=tenant_headers())
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    html = report.text
    assert (
        "<script" not in html
        and "http://" not in html.replace("http://www.w3.org", "")
        and "https://" not in html
    )
    assert html.count("data:image/png;base64,") == len(names)
    assert "customer_id looks like an identifier" in html
    assert client.get(f"{base}/report", headers=tenant_headers("eda-other")).status_code == 404


def test_comparing_with_a_shifted_copy_flags_the_shifted_columns_only(client: TestClient) -> None:
    shifted = (
        "SELECT * REPLACE (tenure + 24 AS tenure, monthly_charges * 1.5 AS monthly_charges) "
        "FROM ml_features.customer_churn"
    )
    response = client.post(
        "/api/v1/eda/comparisons",
        json={"reference": CHURN, "current": {"source": "sql", "query": shifted}},
        headers=tenant_headers(),
    )
    assert response.status_code == 201, response.text
    comparison = response.json()
    assert comparison["drifted_columns"] == ["tenure", "monthly_charges"]
    # an identifier and a timestamp have no distribution to compare
    assert [s["column"] for s in comparison["skipped"]] == ["customer_id", "updated_at"]
    by_column = {c["column"]: c for c in comparison["columns"]}
    assert by_column["tenure"]["wasserstein"] == pytest.approx(24.0)
    assert by_column["contract_type"]["psi"] == 0 and by_column["contract_type"]["kind"] == (
        "categorical"
    )
    base = f"/api/v1/eda/comparisons/{comparison['comparison_id']}"
    assert client.get(base, headers=tenant_headers()).json() == comparison
    assert client.get(base, headers=tenant_headers("eda-other")).status_code == 404
    png = client.get(f"{base}/charts/drift", headers=tenant_headers(Accept="image/png"))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert "shift_tenure" in comparison["charts"]
    bad = client.post(
        "/api/v1/eda/comparisons",
        json={"reference": CHURN, "current": {"source": "sql", "query": "SELECT nope"}},
        headers=tenant_headers(),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "current.query"


def _wait_for_job(client: TestClient, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=tenant_headers()).json()
        if job["status"] in {"completed", "failed", "cancelled"}:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def test_a_profile_asked_for_with_respond_async_is_a_job_whose_result_is_the_profile(
    client: TestClient,
) -> None:
    response = client.post(
        PROFILES,
        json={"dataset": CHURN, "target_column": "churned"},
        headers=tenant_headers(Prefer="respond-async"),
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind"] == "profiling" and job["name"] == "ml_features.customer_churn"
    assert response.headers["Location"] == f"/api/v1/jobs/{job['job_id']}"
    assert response.headers["Preference-Applied"] == "respond-async"
    done = _wait_for_job(client, job["job_id"])
    assert done["status"] == "completed", done
    assert done["progress"] == {"stage": "done", "stages_done": 7, "stages_total": 7}
    profile = client.get(f"{PROFILES}/{done['result']['profile_id']}", headers=tenant_headers())
    assert profile.status_code == 200
    assert profile.json()["table"]["rows"] == 5000
    assert done["result"]["alerts"] == len(profile.json()["alerts"])
    # The job handed the table's blocks in DuckDB's buffer pool back (bench/eda's memory goal).
    assert DEMO_TENANT not in client.app.state.warehouses._connections
    # Another tenant sees neither the job nor its profile.
    other = tenant_headers("eda-other-tenant")
    assert client.get(f"/api/v1/jobs/{job['job_id']}", headers=other).status_code == 404


def test_a_profile_over_the_cell_limit_becomes_a_job_without_being_asked(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 5,000 rows x 11 columns = 55,000 cells: over a limit of 54,999, not over 55,000.
    monkeypatch.setattr(client.app.state.profile_jobs, "_sync_max_cells", 55_000)
    assert (
        client.post(PROFILES, json={"dataset": CHURN}, headers=tenant_headers()).status_code == 201
    )
    monkeypatch.setattr(client.app.state.profile_jobs, "_sync_max_cells", 54_999)
    response = client.post(PROFILES, json={"dataset": CHURN}, headers=tenant_headers())
    assert response.status_code == 202, response.text
    assert "Preference-Applied" not in response.headers
    assert _wait_for_job(client, response.json()["job_id"])["status"] == "completed"


def test_a_cancelled_profiling_job_stores_no_profile(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.eda import service as eda_service

    started, release = threading.Event(), threading.Event()
    real_stats = eda_service.table_stats

    def held_table_stats(*args, **kwargs):  # holds the first pass until the test cancels
        started.set()
        release.wait(30)
        return real_stats(*args, **kwargs)

    monkeypatch.setattr(eda_service, "table_stats", held_table_stats)
    before = {
        p["profile_id"] for p in client.get(PROFILES, headers=tenant_headers()).json()["profiles"]
    }
    response = client.post(
        PROFILES, json={"dataset": CHURN}, headers=tenant_headers(Prefer="respond-async")
    )
    job_id = response.json()["job_id"]
    assert started.wait(30)
    cancelling = threading.Thread(
        target=lambda: client.delete(f"/api/v1/jobs/{job_id}", headers=tenant_headers())
    )
    cancelling.start()
    time.sleep(0.5)  # the cancel is waiting for the passes to reach their next stage
    release.set()
    cancelling.join(30)
    assert _wait_for_job(client, job_id)["status"] == "cancelled"
    after = {
        p["profile_id"] for p in client.get(PROFILES, headers=tenant_headers()).json()["profiles"]
    }
    assert after == before
    ended = client.delete(f"/api/v1/jobs/{job_id}", headers=tenant_headers())
    assert ended.status_code == 409
