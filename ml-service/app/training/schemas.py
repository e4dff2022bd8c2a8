"""Wire shapes of training: seed 001's TrainingConfig and result, plus the job envelope."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.datasets.schemas import DatasetSource
from app.jobs.store import JobStatus

TaskType = Literal["classification", "regression"]


class TrainingDataset(DatasetSource):
    tenant_id: str | None = Field(
        None, description="optional; when present it must equal the X-Tenant-ID header"
    )


class SplitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: Literal["random", "stratified"] = "random"
    test_size: float = Field(0.2, gt=0, lt=1, description="share of rows held out for testing")
    random_state: int = Field(
        42, ge=0, le=2**32 - 1, description="same value, same split and model"
    )


class TrainingResources(BaseModel):
    """What the job asks Ray for; its worker (or task) reserves exactly this."""

    model_config = ConfigDict(extra="forbid")

    cpus: int = Field(
        1, ge=1, le=1024, description="CPU cores of the job's worker; thread counts follow it"
    )
    memory_gb: float | None = Field(
        None, gt=0, le=65536, description="memory reserved for the worker; none: no reservation"
    )
    gpus: int = Field(0, ge=0, le=64, description="GPUs of the job's worker")


class TrainingLimits(BaseModel):
    """Per-tenant limits owned by the AI Service, counted and enforced here. Seed 001's defaults
    apply to the fields a submission leaves out."""

    model_config = ConfigDict(extra="forbid")

    max_concurrent_jobs: int = Field(ge=1, le=1000, description="active (queued+running) jobs")
    max_training_duration_seconds: int = Field(
        14400, ge=1, description="a running job is stopped (failed) after this long"
    )
    max_dataset_size_gb: float = Field(
        10, gt=0, description="estimated size of the loaded columns; larger is refused at submit"
    )
    max_cpus_per_job: int = Field(4, ge=1, description="largest resources.cpus accepted")
    max_memory_per_job_gb: float = Field(16, gt=0, description="largest resources.memory_gb")
    max_gpus_per_job: int = Field(0, ge=0, description="largest resources.gpus accepted")


class TrainingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    algorithm: str = Field(description="a name from GET /api/v1/training/algorithms")
    task_type: TaskType
    dataset: TrainingDataset
    target_column: str = Field(min_length=1)
    feature_columns: list[str] | None = Field(
        None,
        min_length=1,
        description="default: every usable column except the target and identifier-like ones",
    )
    split: SplitConfig = Field(default_factory=SplitConfig)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    resources: TrainingResources = Field(default_factory=TrainingResources)
    limits: TrainingLimits | None = None


class HyperparameterInfo(BaseModel):
    name: str
    type: Literal["integer", "number", "string", "boolean"]
    minimum: float | None
    maximum: float | None
    exclusive_minimum: bool
    choices: list[Any] | None
    default: Any
    description: str


class AlgorithmInfo(BaseModel):
    name: str
    task_types: list[TaskType]
    framework: str
    hyperparameters: list[HyperparameterInfo]


class TrainingProgress(BaseModel):
    iteration: int
    total_iterations: int
    metrics: dict[str, float] = Field(description="latest evaluation metrics on the test split")
    elapsed_seconds: float = Field(description="since the job started running")
    estimated_remaining_seconds: float | None = Field(
        description="from the pace of the iterations so far; null before the first one reports"
    )


class ClassPerformance(BaseModel):
    precision: float
    recall: float
    f1_score: float
    support: int = Field(description="rows of this class in the test split")


class ClassificationMetrics(BaseModel):
    """Binary: precision, recall and f1_score of the positive (second) class; multi-class: macro
    averages, auc_roc one-vs-rest."""

    accuracy: float
    precision: float
    recall: float
    f1_score: float
    auc_roc: float | None = Field(description="null when the test split holds a single class")
    confusion_matrix: list[list[int]] = Field(description="rows: true class, columns: predicted")
    log_loss: float = Field(description="cross-entropy of the predicted class probabilities")
    per_class: dict[str, ClassPerformance] = Field(
        description="one entry per class, keyed by the target's original value"
    )


class RegressionMetrics(BaseModel):
    rmse: float
    mae: float
    r2: float
    mape: float = Field(description="mean absolute percentage error, as a share (0.1 = 10 %)")


class DataSummary(BaseModel):
    total_samples: int
    train_samples: int
    test_samples: int


class TrainingJob(BaseModel):
    """A job; once completed it carries seed 001's result fields at the top level."""

    job_id: str
    tenant_id: str
    name: str
    algorithm: str
    task_type: TaskType
    status: JobStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: TrainingProgress | None
    error: str | None
    metrics: ClassificationMetrics | RegressionMetrics | None
    feature_importance: dict[str, float] | None = Field(
        description="share of total gain per feature, summing to 1, largest first"
    )
    model_artifact_id: str | None = Field(description="the MLflow LoggedModel id")
    training_duration_seconds: float | None
    data_summary: DataSummary | None
    mlflow_run_id: str | None


class ChartInfo(BaseModel):
    name: str = Field(description="the chart's name in GET .../charts/{name}")
    title: str
    media_types: list[str] = Field(
        description="representations to ask for with Accept: the PNG and the Vega-Lite spec"
    )


class ChartList(BaseModel):
    """The charts of a completed job, in display order."""

    job_id: str
    charts: list[ChartInfo]


class TrainingEvent(BaseModel):
    """One event of a job's stream (GET /api/v1/training/jobs/{job_id}/events): the SSE event
    name is `type`, the data this object."""

    type: Literal["status", "progress", "end"] = Field(
        description="status: the status changed; progress: a new progress snapshot; "
        "end: the job ended (last event), `job` holds it with its results or error"
    )
    job_id: str
    status: JobStatus
    progress: TrainingProgress | None
    job: TrainingJob | None = Field(None, description="only on `end`")
