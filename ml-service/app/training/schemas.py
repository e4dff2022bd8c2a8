"""Wire shapes of training: seed 001's TrainingConfig and result, plus the job envelope."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.datasets.schemas import DatasetSource
from app.features.schemas import FEATURE_SET_NAME_PATTERN
from app.jobs.store import JobStatus
from app.naming import Name

TaskType = Literal["classification", "regression", "forecasting"]


class TrainingDataset(DatasetSource):
    """A table or read-only query of the tenant's warehouse, or (`feature_set`) the
    point-in-time training frame of a feature set version over the given entity rows."""

    source: Literal["sql", "table", "feature_set"] = Field(  # type: ignore[assignment]
        description="`sql` uses `query`, `table` uses `table`, `feature_set` builds the frame of "
        "`name` version `version` for `entities` (app/features)"
    )
    tenant_id: str | None = Field(
        None, description="optional; when present it must equal the X-Tenant-ID header"
    )
    name: str | None = Field(
        None, pattern=FEATURE_SET_NAME_PATTERN, description="feature_set: the feature set"
    )
    version: int | None = Field(None, ge=1, description="feature_set: its version")
    entities: DatasetSource | None = Field(
        None,
        description="feature_set: the entity rows (join keys, event timestamp, target and any "
        "other columns, carried through as read)",
    )
    event_timestamp_column: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="feature_set: the entity rows' column each feature is taken as of",
    )


class FeatureSetRef(BaseModel):
    """The feature set version a job trained on."""

    name: str
    version: int


class SplitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: Literal["random", "stratified", "time"] = Field(
        "random",
        description="random: shuffled; stratified: keeps the class shares (classification); "
        "time: the earliest rows train, the latest test (by `time_column`, ties by row order)",
    )
    test_size: float = Field(0.2, gt=0, lt=1, description="share of rows held out for testing")
    time_column: str | None = Field(
        None,
        min_length=1,
        description="strategy time only (required there): the date, timestamp or number column "
        "that orders the rows",
    )
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


class TrainingScaling(BaseModel):
    """How a job trains: one worker in a warm, reused Ray worker (the default), or data-parallel
    on Ray Train V2. Ray Train's start-up (controller, worker group, dataset shards) costs tens of
    seconds per job; it pays for itself only when the data needs more than one worker."""

    model_config = ConfigDict(extra="forbid")

    num_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="training workers, each with `resources`; more than one: data-parallel on "
        "Ray Train (XGBoost, LightGBM, neural network)",
    )
    ray_train: bool = Field(
        False, description="train on Ray Train even with one worker (to compare the two paths)"
    )


class TrainingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(min_length=1, max_length=200)
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
    scaling: TrainingScaling = Field(default_factory=TrainingScaling)
    # Forecasting only (required there, refused elsewhere): the series is target_column per
    # period of `frequency` along time_column; the last `horizon` periods are held out.
    time_column: str | None = Field(
        None, min_length=1, description="forecasting: the timestamp (or date) column"
    )
    horizon: int | None = Field(
        None,
        ge=1,
        le=10000,
        description="forecasting: periods held out for evaluation and forecast past the data",
    )
    frequency: str | None = Field(
        None,
        min_length=1,
        description='forecasting: pandas offset alias of one period ("D", "W", "h", "MS"); rows '
        "in the same period are summed",
    )


class ValidatedTrainingConfig(BaseModel):
    """What a submission of this configuration would train: the catalog's algorithm name, every
    hyperparameter with its default filled in, and the features chosen."""

    algorithm: str = Field(description="the catalog name (an alias such as logistic resolved)")
    task_type: TaskType
    target_column: str
    feature_columns: list[str] = Field(description="empty for forecasting")
    categorical_columns: list[str] = Field(description="the features encoded as categories")
    hyperparameters: dict[str, Any]
    split: SplitConfig
    row_count: int = Field(description="rows of the dataset now")


class HyperparameterInfo(BaseModel):
    name: str
    type: Literal["integer", "number", "string", "boolean", "integer_list"] = Field(
        description="integer_list: a JSON array of integers; minimum/maximum bound each item"
    )
    minimum: float | None
    maximum: float | None
    exclusive_minimum: bool
    choices: list[Any] | None
    default: Any
    description: str
    min_items: int | None = Field(None, description="integer_list: fewest items allowed")
    max_items: int | None = Field(None, description="integer_list: most items allowed")
    nullable: bool = Field(False, description="null is allowed (and means: not used)")


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
    stage: str | None = Field(
        None, description="what the job is doing now, for algorithms that fit in one step"
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


class ForecastMetrics(BaseModel):
    """On the held-out tail (the last `horizon` periods), from a model fitted on the rest."""

    mape: float = Field(description="mean absolute percentage error, as a share (0.1 = 10 %)")
    smape: float = Field(description="symmetric MAPE, as a share between 0 and 2")
    rmse: float
    mae: float


class ForecastPoint(BaseModel):
    timestamp: datetime = Field(description="start of the period")
    value: float = Field(description="point forecast")
    lower: float = Field(description="lower bound of the prediction interval")
    upper: float = Field(description="upper bound of the prediction interval")
    actual: float | None = Field(
        description="the observed value (held-out tail); null for the future or a missing period"
    )


class Forecast(BaseModel):
    frequency: str
    interval_width: float = Field(description="coverage of lower..upper, e.g. 0.8")
    holdout: list[ForecastPoint] = Field(
        description="the held-out tail: forecast of the model fitted without it, with actuals"
    )
    future: list[ForecastPoint] = Field(
        description="`horizon` periods after the data, from the model refitted on all of it"
    )


class DataSummary(BaseModel):
    total_samples: int
    train_samples: int
    test_samples: int


class TunedBy(BaseModel):
    """The sweep and trial whose configuration a train-best job trains."""

    sweep_id: str
    trial_id: str


class RegisteredVersionRef(BaseModel):
    model_name: str
    version: str


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
    metrics: ClassificationMetrics | RegressionMetrics | ForecastMetrics | None
    feature_importance: dict[str, float] | None = Field(
        description="share of total gain per feature (permutation importance for models without "
        "their own), summing to 1, largest first; null for forecasting"
    )
    forecast: Forecast | None = Field(None, description="forecasting jobs, once completed")
    model_artifact_id: str | None = Field(description="the MLflow LoggedModel id")
    training_duration_seconds: float | None
    data_summary: DataSummary | None
    mlflow_run_id: str | None
    feature_set: FeatureSetRef | None = Field(
        None, description="the feature set version the job trained on (dataset.source feature_set)"
    )
    tuned_by: TunedBy | None = Field(
        None, description="train-best jobs (POST /api/v1/tuning/{id}/train-best): the source"
    )
    registered_version: RegisteredVersionRef | None = Field(
        None, description="train-best with register: the version registered from this model"
    )


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
