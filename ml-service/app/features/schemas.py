"""Feature set definitions, their stored versions and point-in-time training sets."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.datasets.schemas import DatasetSource

# A Feast feature view is named `<name>_v<version>`, and Feast names are letters, digits and `_`.
FEATURE_SET_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"


class EntitySpec(BaseModel):
    """What a feature row describes (e.g. a customer) and the columns that identify it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=FEATURE_SET_NAME_PATTERN, description="e.g. `customer`")
    join_keys: list[str] = Field(
        min_length=1,
        max_length=8,
        description='columns of the source that identify the entity, e.g. `["customer_id"]`',
    )


class FeatureSpec(BaseModel):
    """One feature: a column of the source, served under the column's own name."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(min_length=1, max_length=200)


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
