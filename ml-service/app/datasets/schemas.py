"""Wire shapes of the dataset endpoints."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ColumnKind = Literal["numeric", "categorical", "boolean", "datetime", "text"]


class DatasetSource(BaseModel):
    """Where rows come from: a read-only SELECT or a table of the tenant's warehouse."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["sql", "table"] = Field(description="`sql` uses `query`, `table` uses `table`")
    query: str | None = Field(
        None, description="one read-only SELECT over the tenant's warehouse", max_length=100_000
    )
    table: str | None = Field(None, description="`schema.name` or `name`", max_length=200)


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


class TableDeletion(BaseModel):
    deleted: str = Field(description="qualified name of the table that was dropped")
