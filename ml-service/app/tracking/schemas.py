"""Request and response bodies of /api/v1/tracking (docs/contract.md, issue 4)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ExperimentCreate(BaseModel):
    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$",
        description="shown without the tenant prefix MLflow stores it under",
    )
    tags: dict[str, str] = Field(default_factory=dict)


class Experiment(BaseModel):
    experiment_id: str
    name: str
    tags: dict[str, str]
    lifecycle_stage: str
    created_at: datetime | None
    last_updated_at: datetime | None


class ExperimentList(BaseModel):
    experiments: list[Experiment]


class RunSearch(BaseModel):
    experiment_ids: list[str] | None = Field(
        None, description="default: all of the tenant's experiments"
    )
    filter: str | None = Field(
        None,
        max_length=4000,
        description="MLflow filter grammar, e.g. metrics.auc_roc > 0.8 and params.max_depth = '6'",
    )
    order_by: list[str] | None = Field(None, max_length=20, examples=[["metrics.auc_roc DESC"]])
    max_results: int = Field(100, ge=1, le=1000)
    page_token: str | None = Field(None, max_length=4000)


class RunDataset(BaseModel):
    query: str | None
    table: str | None
    content_hash: str | None
    rows: int | None


class Run(BaseModel):
    run_id: str
    experiment_id: str
    name: str | None
    status: str
    start_time: datetime | None
    end_time: datetime | None
    params: dict[str, str]
    metrics: dict[str, float | None] = Field(description="latest values; NaN/inf are null")
    tags: dict[str, str]
    job_id: str | None
    model_artifact_id: str | None
    dataset: RunDataset
    code_version: str | None


class RunPage(BaseModel):
    runs: list[Run]
    next_page_token: str | None


class MetricPoint(BaseModel):
    step: int
    value: float
    timestamp: datetime


class MetricHistory(BaseModel):
    key: str
    history: list[MetricPoint]


class ArtifactFile(BaseModel):
    path: str
    is_dir: bool
    file_size: int | None


class ArtifactList(BaseModel):
    root_uri: str
    files: list[ArtifactFile]


class RunCompareRequest(BaseModel):
    run_ids: list[str] = Field(min_length=2, max_length=10)


class RunName(BaseModel):
    run_id: str
    name: str | None


class ComparedParam(BaseModel):
    key: str
    values: dict[str, str | None]


class ComparedMetric(BaseModel):
    key: str
    values: dict[str, float | None]
    best_run_id: str | None = Field(
        description="highest value, or lowest for loss/error metrics (names with loss, error, "
        "rmse, mae, mse, mape)"
    )


class ChartPoint(BaseModel):
    step: int
    value: float


class ChartSeries(BaseModel):
    run_id: str
    points: list[ChartPoint]


class ChartMetric(BaseModel):
    key: str
    series: list[ChartSeries]


class CompareChart(BaseModel):
    metrics: list[ChartMetric] = Field(
        description="per-iteration metrics (`*_by_iteration`), one line per run"
    )


class RunComparison(BaseModel):
    runs: list[RunName]
    params: list[ComparedParam]
    metrics: list[ComparedMetric]
    chart: CompareChart


class RegisteredVersionRef(BaseModel):
    name: str
    version: str


class LoggedModelInfo(BaseModel):
    model_artifact_id: str
    run_id: str | None
    job_id: str | None
    name: str
    artifact_uri: str
    registered_versions: list[RegisteredVersionRef]


def as_json_safe(value: Any) -> Any:
    """Metric values of NaN/inf cannot travel as JSON numbers; they become null."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value
