"""Wire shapes of the dataset endpoints."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.naming import Name

ColumnKind = Literal["numeric", "categorical", "boolean", "datetime", "text"]


class DatasetSource(BaseModel):
    """Where rows come from: a read-only SELECT or a table of the tenant's warehouse."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["sql", "table"] = Field(description="`sql` uses `query`, `table` uses `table`")
    query: str | None = Field(
        None, description="one read-only SELECT over the tenant's warehouse", max_length=100_000
    )
    table: Name | None = Field(None, description="`schema.name` or `name`", max_length=200)


class ColumnSchema(BaseModel):
    name: str
    type: str = Field(description="DuckDB type, e.g. BIGINT, DOUBLE, VARCHAR")
    kind: ColumnKind
    distinct_count: int = Field(description="approximate number of distinct non-null values")
    null_count: int


class DatasetSchema(BaseModel):
    row_count: int
    columns: list[ColumnSchema]


class TableColumn(BaseModel):
    name: str
    type: str


class TableInfo(BaseModel):
    schema_name: str
    name: str
    qualified_name: str = Field(description="`schema.name`, usable as a dataset `table`")
    columns: list[TableColumn]


class TableDetail(BaseModel):
    """One table of the tenant's warehouse with its row count and column statistics."""

    schema_name: str
    name: str
    qualified_name: str = Field(description="`schema.name`, usable as a dataset `table`")
    uploaded: bool = Field(description="true for tables uploaded by the tenant (schema `uploads`)")
    row_count: int
    columns: list[ColumnSchema]


class Coercion(BaseModel):
    """A column whose text was stored as another type, and why."""

    column: str
    from_type: str = Field(description="what the file holds: `text` for a CSV")
    to_type: str = Field(description="the DuckDB type stored")
    reason: str


class TextNote(BaseModel):
    """A column kept as text although it looks typed (e.g. dates in an ambiguous order)."""

    column: str
    reason: str


class UploadedTable(TableDetail):
    """The table as read: its schema (name, type, null count per column), the first rows, and
    every value the reading changed from the file's text, with the reason."""

    delimiter: str | None = Field(
        description="the CSV field separator used (detected unless given); null for Parquet"
    )
    preview: list[dict[str, Any]] = Field(
        description="the first rows as stored (dates as ISO text, ±inf and NaN as text)"
    )
    coerced: list[Coercion] = Field(
        description="columns stored as another type than text (BOOLEAN from true/false, dates, "
        "numbers read with a decimal or thousands separator, column_types)"
    )
    kept_as_text: list[TextNote] = Field(
        description="columns that look typed but were kept as the file's text, with why"
    )


class TableDeletion(BaseModel):
    deleted: str = Field(description="qualified name of the table that was dropped")
