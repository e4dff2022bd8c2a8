"""Feature set definitions, their stored versions and point-in-time training sets."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.datasets.schemas import DatasetSource

# A Feast feature view is named `<name>_v<version>`, and Feast names are letters, digits and `_`.
FEATURE_SET_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
# Lineage: the MLflow run and registered version of a model trained on a feature set carry these.
FEATURE_SET_TAG = "feature_set"
FEATURE_SET_VERSION_TAG = "feature_set_version"


class EntitySpec(BaseModel):
    """What a feature row describes (e.g. a customer) and the columns that identify it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=FEATURE_SET_NAME_PATTERN, description="e.g. `customer`")
    join_keys: list[str] = Field(
        min_length=1,
        max_length=8,
        description='columns of the source that identify the entity, e.g. `["customer_id"]`',
    )


class ScaleTransform(BaseModel):
    """`standard`: (x - mean) / std, population std (scikit-learn's StandardScaler); `min_max`:
    (x - min) / (max - min) (MinMaxScaler). Mean, std, min and max are fitted on the version's
    source when the version is made. Numeric columns; the result is DOUBLE."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["standard", "min_max"]


class CategoryTransform(BaseModel):
    """`one_hot`: one 0/1 INTEGER feature `<name>_<category>` per category of the source (at
    most 50; a NULL or unseen value is 0 in all); `frequency`: the category's share of the
    source's rows (target-free; unseen or NULL → 0.0, DOUBLE). Categories are the values as
    text, fitted when the version is made."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["one_hot", "frequency"]


class OrdinalTransform(BaseModel):
    """The category's position (0, 1, …) in `categories`, or in the source's categories sorted
    when not given; an unseen or NULL value is NULL. INTEGER."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["ordinal"]
    categories: list[str] | None = Field(
        None, min_length=1, max_length=1000, description="the order; default: sorted values"
    )


class BinTransform(BaseModel):
    """The bin index (0 … k-1) of a numeric value: how many inner edges are ≤ it (values
    outside the edges fall in the first or last bin, as scikit-learn's KBinsDiscretizer).
    `edges` as given, or `bins` fitted on the source (`quantile`: equal counts; `uniform`:
    equal widths). INTEGER."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["bin"]
    edges: list[float] | None = Field(
        None, min_length=2, max_length=101, description="increasing bin edges"
    )
    bins: int | None = Field(None, ge=2, le=100, description="number of bins to fit")
    strategy: Literal["quantile", "uniform"] = "quantile"


class DatePartTransform(BaseModel):
    """A part of a DATE or TIMESTAMP column (DuckDB's `date_part`; `dayofweek` is ISO: Monday
    1 … Sunday 7; `week` the ISO week). BIGINT."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["date_part"]
    part: Literal["year", "quarter", "month", "week", "day", "dayofweek", "dayofyear", "hour"]


class WindowTransform(BaseModel):
    """An aggregate of the entity's own source rows in the `days` before the time asked for:
    rows with timestamp in (t - days, t] (never after t). In a training set t is the entity
    row's event timestamp. `count` counts non-NULL values (BIGINT, 0 when none); `sum`, `mean`,
    `min`, `max` are DOUBLE (NULL when none)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["window"]
    aggregation: Literal["count", "sum", "mean", "min", "max"]
    days: int = Field(ge=1, le=3650)


class SqlTransform(BaseModel):
    """A DuckDB expression over the source row's columns, e.g. `monthly_charges / nullif(tenure,
    0)`; run in the read-only SQL sandbox of the tenant's warehouse. Needs `name`, no
    `column`."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["sql"]
    expression: str = Field(min_length=1, max_length=5000)


Transform = Annotated[
    ScaleTransform
    | CategoryTransform
    | OrdinalTransform
    | BinTransform
    | DatePartTransform
    | WindowTransform
    | SqlTransform,
    Field(discriminator="type"),
]


class FeatureSpec(BaseModel):
    """One feature: a column of the source as it is, or transformed. Its name defaults to the
    column (plain) or `<column>_<transform>` (e.g. `tenure_standard`, `amount_sum_30d`,
    `signup_month`)."""

    model_config = ConfigDict(extra="forbid")

    column: str | None = Field(None, min_length=1, max_length=200)
    name: str | None = Field(None, min_length=1, max_length=200, description="the feature's name")
    transform: Transform | None = None


class FittedFeature(BaseModel):
    """A feature of a version as computed: its output columns and what was fitted on the
    version's source when the version was made (kept, so the version always computes the same
    way)."""

    name: str
    columns: list[str] = Field(description="its output columns (several for `one_hot`)")
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None
    frequencies: list[float] | None = None
    edges: list[float] | None = None


class FeatureSetDefinition(BaseModel):
    """A feature set: features of an entity read from the tenant's warehouse, each value valid
    from its row's event timestamp on (what Feast calls a feature view over a batch source)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=FEATURE_SET_NAME_PATTERN)
    description: str = Field("", max_length=2000)
    entity: EntitySpec
    source: DatasetSource = Field(description="table or read-only query the features come from")
    timestamp_column: str = Field(
        min_length=1,
        max_length=200,
        description="column of the source saying when each row's values became known "
        "(TIMESTAMP or DATE)",
    )
    features: list[FeatureSpec] = Field(min_length=1, max_length=500)


class FeatureSetVersion(BaseModel):
    """One immutable version of a feature set; a changed definition makes the next version."""

    name: str
    version: int = Field(ge=1)
    created_at: datetime
    definition: FeatureSetDefinition
    feast_project: str = Field(description="the tenant's Feast project")
    feast_feature_view: str = Field(description="the Feast feature view of this version")
    fitted: list[FittedFeature] = Field(
        default_factory=list,
        description="per feature (in definition order): output columns and fitted statistics",
    )


class FeatureSetSummary(BaseModel):
    name: str
    latest_version: int
    description: str
    created_at: datetime = Field(description="when the first version was made")
    updated_at: datetime = Field(description="when the latest version was made")


class TrainingSetRequest(BaseModel):
    """Entity rows to build a training set for: the join keys, the time each row's features are
    wanted as of, and any other columns (the label) that are carried through unchanged."""

    model_config = ConfigDict(extra="forbid")

    entities: DatasetSource
    event_timestamp_column: str = Field(
        min_length=1, max_length=200, description="column of the entity rows (TIMESTAMP or DATE)"
    )
    output_table: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$",
        description="written as `training_sets.<output_table>` (replaced if it exists)",
    )


class TrainingSet(BaseModel):
    table: str = Field(description="`training_sets.<output_table>` of the tenant's warehouse")
    row_count: int
    columns: list[str] = Field(description="the entity rows' columns, then the features")
    feature_set: str
    version: int


class RegisteredVersionUse(BaseModel):
    model_name: str
    version: str


class TrainingJobUse(BaseModel):
    """A training job that trained on the feature set version, and what came of it."""

    job_id: str
    name: str
    status: str
    created_at: datetime
    mlflow_run_id: str | None
    registered_versions: list[RegisteredVersionUse] = Field(
        description="the tenant's registered model versions made from the job's run"
    )


class FeatureSetLineage(BaseModel):
    """Which jobs, runs and registered models used this feature set version (the other way,
    a training job, its MLflow run and a registered version name the feature set version)."""

    name: str
    version: int
    training_jobs: list[TrainingJobUse] = Field(description="newest first")


class MaterializationRequest(BaseModel):
    """Load a version's features into the tenant's online store (a `feature_materialization`
    job)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["full", "incremental"] = Field(
        "full",
        description="`full`: every source row up to now (the latest per entity); `incremental`: "
        "the rows since the version's previous materialisation (the first one is full). Window "
        "aggregates are computed again as of now either way",
    )


class Materialization(BaseModel):
    """A version's latest completed materialisation."""

    feature_set: str
    version: int
    mode: Literal["full", "incremental"]
    start: datetime | None = Field(description="earliest row time loaded (None: incremental)")
    end: datetime = Field(description="online values are as of this time (UTC)")
    job_id: str


# Feast's get-online-features request: `<feature view>:<feature>` references and the entities'
# join key values as columns.
ONLINE_MAX_ENTITIES = 1000
EntityValue = str | int | float | bool


class OnlineFeaturesRequest(BaseModel):
    """Feast's `get-online-features` request: feature references `<set>_v<version>:<feature>`
    (the version's Feast feature view and one of its output columns) and the entities' join key
    values as columns (`{"customer_id": ["C-1", "C-2"]}`)."""

    model_config = ConfigDict(extra="forbid")

    features: list[Annotated[str, Field(min_length=3, max_length=300)]] = Field(
        min_length=1, max_length=500, examples=[["customer_v1:monthly_charges"]]
    )
    entities: dict[str, list[EntityValue]] = Field(
        description=f"join key -> values, every list the same length (1…{ONLINE_MAX_ENTITIES})",
        examples=[{"customer_id": ["CUST-00001", "CUST-00002"]}],
    )


class OnlineFeatureNames(BaseModel):
    feature_names: list[str] = Field(description="the join keys, then the features asked for")


class OnlineFeatureVector(BaseModel):
    """One column of the answer: a value per entity, its status and when it became known."""

    values: list[EntityValue | None]
    statuses: list[str] = Field(
        description="per entity: PRESENT, NULL_VALUE, NOT_FOUND (no value for this entity) "
        "or OUTSIDE_MAX_AGE"
    )
    event_timestamps: list[str] = Field(
        default_factory=list, description="per entity: the value's event timestamp (UTC)"
    )


class OnlineFeaturesResponse(BaseModel):
    """Feast's feature-server answer: `metadata.feature_names[i]` names `results[i]`."""

    metadata: OnlineFeatureNames
    results: list[OnlineFeatureVector]
