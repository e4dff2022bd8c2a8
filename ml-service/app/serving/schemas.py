"""Request and response bodies of the serving API (snake_case, as in the seeds)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from app.naming import Name
from app.training.schemas import FeatureSetRef

MODEL_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
DeploymentStatus = Literal["deploying", "healthy", "unhealthy"]


class Resources(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cpu: float = Field(0.25, ge=0, le=16, description="CPUs reserved per replica")
    memory_mb: int | None = Field(None, ge=64, le=65536, description="memory per replica")


class Autoscaling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_replicas: int = Field(1, ge=1, le=16)
    max_replicas: int = Field(2, ge=1, le=16)
    target_ongoing_requests: float = Field(8, gt=0, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> "Autoscaling":
        if self.max_replicas < self.min_replicas:
            raise ValueError("max_replicas must be at least min_replicas")
        return self


class ModelReference(BaseModel):
    """One registry version, named by number, stage or alias (exactly one)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, description="registry version number")
    stage: Literal["Staging", "Production"] | None = Field(
        None, description="the version currently in this stage"
    )
    alias: str | None = Field(None, max_length=64, description="the version under this alias")

    @model_validator(mode="after")
    def _exactly_one(self) -> "ModelReference":
        given = [name for name in ("version", "stage", "alias") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("name exactly one of version, stage or alias")
        return self


ServingRuntime = Literal["ray_serve", "embedded"]
RUNTIME_DESCRIPTION = (
    "ray_serve (default): replicas on Ray Serve, isolated from the service, with replicas, "
    "autoscaling and resources; while one version takes all traffic, the AI Service calls the "
    "replicas directly (Serve's direct ingress). embedded: the model loaded once inside the ML "
    "Service's own process: no replica hop where requests go through the ML Service (A/B "
    "splits, entity keys; about 1.5 ms of CPU per call on 2 cores, bench/serving), but one copy "
    "per ML Service process, no replicas, autoscaling or isolation; for small tabular models."
)


class DeploymentCreate(ModelReference):
    model_name: Name = Field(max_length=128, examples=["churn-predictor-v2"])
    model_id: str | None = Field(
        None,
        pattern=MODEL_ID_PATTERN,
        description="id used in predict paths; defaults to the model name in lower case",
        examples=["churn"],
    )
    replicas: int = Field(1, ge=1, le=16, description="fixed replica count (no autoscaling)")
    autoscaling: Autoscaling | None = None
    resources: Resources = Field(default_factory=Resources)
    sampling_rate: float | None = Field(
        None, ge=0, le=1, description="share of predictions logged; the service default if unset"
    )
    runtime: ServingRuntime = Field("ray_serve", description=RUNTIME_DESCRIPTION)

    @field_validator("runtime")
    @classmethod
    def _embedded_has_no_replicas(cls, runtime: str, info: ValidationInfo) -> str:
        # a field validator (runtime comes after replicas and autoscaling) so the 422 names a field
        if runtime == "embedded" and (
            info.data.get("replicas", 1) != 1 or info.data.get("autoscaling") is not None
        ):
            raise ValueError("embedded runs one copy in the ML Service: leave replicas and "
                             "autoscaling unset, or use ray_serve")  # fmt: skip
        return runtime

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"model_name": "churn-predictor-v2", "stage": "Production", "model_id": "churn"}
            ]
        },
    )


class Release(ModelReference):
    """Blue-green: deploy this version next to the current one and switch all traffic to it."""


class VariantWeight(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    weight: int = Field(ge=0, le=100)


class TrafficSplit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variants: list[VariantWeight] = Field(
        min_length=1,
        max_length=4,
        examples=[[{"version": 3, "weight": 80}, {"version": 4, "weight": 20}]],
    )

    @model_validator(mode="after")
    def _sums_to_100(self) -> "TrafficSplit":
        if sum(item.weight for item in self.variants) != 100:
            raise ValueError("weights must add up to 100")
        if len({item.version for item in self.variants}) != len(self.variants):
            raise ValueError("each version may appear once")
        return self


class SignatureField(BaseModel):
    name: str
    type: str


class Variant(BaseModel):
    version: str
    weight: int
    status: DeploymentStatus
    reason: str | None = None
    feature_set: FeatureSetRef | None = Field(
        None,
        description="the feature set version this model version was trained on and looks its "
        'features up in for `{"entities": …}` requests (pinned: later versions do not change it)',
    )


class Deployment(BaseModel):
    model_id: str
    model_name: str
    status: DeploymentStatus
    reason: str | None = Field(None, description="why the deployment is unhealthy")
    task_type: str
    variants: list[Variant]
    previous_variants: list[VariantWeight] | None = Field(
        None, description="the split `rollback` returns to"
    )
    replicas: int
    autoscaling: Autoscaling | None
    resources: Resources
    sampling_rate: float
    runtime: ServingRuntime
    inputs: list[SignatureField]
    created_at: str
    updated_at: str


class DeploymentList(BaseModel):
    deployments: list[Deployment]


class Prediction(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    prediction_id: str
    class_: Any = Field(None, alias="class", description="predicted class, original value")
    score: float | None = Field(None, description="probability of the predicted class")
    probabilities: dict[str, float] | None = None
    value: float | None = Field(None, description="regression prediction, or the forecast")
    timestamp: str | None = Field(None, description="forecast: the period (ISO 8601)")
    lower: float | None = Field(
        None, description="forecast: lower end of the interval (the trained interval_width)"
    )
    upper: float | None = Field(None, description="forecast: upper end of the interval")


class PredictResponse(BaseModel):
    model_id: str
    version: str = Field(description="the variant (registry version) that answered")
    predictions: list[Prediction]


class ReplicaTargets(BaseModel):
    """Where a deployment's replicas answer predictions themselves (Ray Serve's direct ingress
    target group): POST a predict body to `<url>/predict` with the service token and the tenant
    header. Offered only while one version takes all of the deployment's traffic."""

    version: str = Field(description="the version every prediction goes to")
    urls: list[str] = Field(
        description="one per running replica, e.g. http://127.0.0.1:30000/acme/churn/v1"
    )


class FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prediction_id: str = Field(max_length=64)
    actual: Any = Field(description="the true class or value")


class FeedbackResult(BaseModel):
    recorded: int
    unknown_prediction_ids: list[str]


class LatencyPercentiles(BaseModel):
    p50: float | None
    p95: float | None
    p99: float | None


class VariantMetrics(BaseModel):
    version: str
    requests: int
    errors: int
    error_rate: float
    throughput_per_second: float
    latency_ms: LatencyPercentiles
    feedback_count: int
    accuracy: float | None = None
    rmse: float | None = None
    mae: float | None = None


class ServingMetrics(BaseModel):
    model_id: str
    window: str
    task_type: str
    variants: list[VariantMetrics]


class FeatureDrift(BaseModel):
    feature: str
    kind: Literal["numeric", "categorical"]
    count: int
    psi: float
    ks_statistic: float | None
    ks_p_value: float | None
    drifted: bool


class DriftReport(BaseModel):
    model_id: str
    version: str
    window: str
    rows: int
    thresholds: dict[str, float]
    features: list[FeatureDrift]
    alerts: list[str]


class BatchDataset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["sql", "table"]
    query: str | None = Field(None, max_length=100_000)
    table: Name | None = Field(None, max_length=200)


class BatchPredictionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_id: str | None = Field(None, pattern=MODEL_ID_PATTERN, description="a deployment")
    model_name: Name | None = Field(None, max_length=128)
    version: int | None = Field(None, ge=1)
    dataset: BatchDataset
    output_table: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    chunk_rows: int = Field(50_000, ge=1000, le=1_000_000)

    @model_validator(mode="after")
    def _one_model(self) -> "BatchPredictionCreate":
        if (self.model_id is None) == (self.model_name is None or self.version is None):
            raise ValueError("give model_id, or model_name with version")
        return self


class BatchPrediction(BaseModel):
    batch_id: str
    status: Literal["queued", "running", "completed", "failed", "cancelled"]
    rows_total: int | None
    rows_done: int
    output_table: str
    rows_per_second: float | None = Field(description="whole job: read, predict and write")
    predict_rows_per_second: float | None = Field(description="the model's predict alone")
    error: str | None
    prediction_columns: list[str] | None = Field(
        None,
        description="the output table's prediction columns: predicted_class and score, or "
        "predicted_value; with a suffix (_1, _2...) where the source has a column of that name",
    )
