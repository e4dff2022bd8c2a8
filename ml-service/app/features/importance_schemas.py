"""The feature importance answer ("what matters for churn?"): the wire shapes of
GET /api/v1/features/importance (app.features.importance)."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.eda.schemas import AssociationMeasure
from app.training.schemas import ChartInfo, FeatureSetRef

# How the model was found, in the order they are tried when none is named.
ModelChoice = Literal["requested", "production", "latest_version", "training_job"]


class FeatureScore(BaseModel):
    feature: str = Field(description="the feature's column, as the user named it")
    importance: float = Field(
        description="its share of the model's total importance (0-1; the shares sum to 1; a "
        "negative permutation importance counts as 0)"
    )


class ModelImportance(BaseModel):
    """The model the answer is about, why it was chosen, and what it found important."""

    chosen_by: ModelChoice = Field(
        description="`requested` (model_name), `production` (the target's model in "
        "Production), `latest_version` (no Production version: the latest registered one), "
        "`training_job` (nothing registered: the latest completed training job)"
    )
    reason: str = Field(description="why this model, in one sentence")
    model_name: str | None = Field(description="the registered model; null for a job's model")
    model_version: str | None
    stage: str | None = Field(description="the registered version's stage")
    job_id: str | None = Field(description="the training job that made the model")
    algorithm: str
    task_type: str
    test_metrics: dict[str, Any] = Field(
        description="the job's metrics on its test split (seed 001's shape)"
    )
    importance_kind: str = Field(
        description="what the importance measures, by its standard name (e.g. XGBoost's total "
        "gain, impurity decrease, permutation importance)"
    )
    feature_importance: list[FeatureScore] = Field(description="largest first")
    feature_set: FeatureSetRef | None = Field(
        description="the feature set version the model trained on"
    )


class FeatureAssociation(BaseModel):
    feature: str
    measure: AssociationMeasure = Field(
        description="|Pearson r| (numbers), Cramér's V (categories) or the correlation ratio η"
    )
    value: float | None = Field(description="0 (none) to 1; null where undefined (a constant)")


class FeatureSetAssociation(BaseModel):
    """A feature set version's features and their association with the target, from the data
    profiler, on the version's point-in-time training frame."""

    name: str
    version: int
    frame: Literal["point_in_time"] = Field(
        description="the rows profiled: the point-in-time training frame a training job built "
        "from this version (each feature as known at its entity row's time, the target from the "
        "entity rows), not the source as it is now"
    )
    table: str = Field(description="the frame's table in the tenant's warehouse")
    job_id: str = Field(description="the training job the frame was built for")
    rows: int
    associations: list[FeatureAssociation] = Field(
        description="strongest first; a feature the profiler has no measure for (text, dates, "
        "identifiers) is left out"
    )


class FeatureImportance(BaseModel):
    target: str = Field(description="the column the model predicts")
    model: ModelImportance
    feature_set: FeatureSetAssociation | None = Field(
        description="asked with `feature_set`: its features' association with the target"
    )
    charts: list[ChartInfo] = Field(
        description="GET /api/v1/features/importance/charts/{name} with the same query"
    )
