"""Tenant warehouses: one DuckDB file per tenant, queried read-only from this process only.

DuckDB refuses a second connection to a file with a different configuration inside one process,
and Ray workers are other processes; so every DuckDB call happens here, behind one lock per
tenant, and training receives the loaded rows instead of a path.
"""

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from app.datasets import sql
from app.datasets.schemas import (
    ColumnKind,
    ColumnSchema,
    DatasetSchema,
    DatasetSource,
    TableColumn,
    TableInfo,
)
from app.errors import InvalidFieldError

T = TypeVar("T")

# No file reads or writes, no ATTACH, no extension downloads, and no SET to undo any of it.
QUERY_CONNECTION_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
_NUMERIC_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "REAL", "DOUBLE",
}  # fmt: skip
_INTEGER_TYPES = _NUMERIC_TYPES - {"FLOAT", "REAL", "DOUBLE"}
# A string column with more distinct values than this is free text, not a category.
MAX_CATEGORY_COUNT = 1000


def column_kind(duckdb_type: str, distinct_count: int, non_null_count: int) -> ColumnKind:
    base = duckdb_type.upper()
    if base == "BOOLEAN":
        return "boolean"
    if base in _NUMERIC_TYPES or base.startswith("DECIMAL"):
        return "numeric"
    if base in {"DATE", "TIME"} or base.startswith("TIMESTAMP"):
        return "datetime"
    if (base == "VARCHAR" or base.startswith("ENUM")) and (
        distinct_count <= MAX_CATEGORY_COUNT and distinct_count <= max(1, non_null_count // 2)
    ):
        return "categorical"
    return "text"


def is_integer_type(duckdb_type: str) -> bool:
    return duckdb_type.upper() in _INTEGER_TYPES


class WarehouseManager:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._connections: dict[str, duckdb.DuckDBPyConnection] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._registry_lock = threading.Lock()

    def path_for(self, tenant_id: str) -> Path:
        # tenant ids are validated against ^[a-z0-9][a-z0-9_-]{0,62}$, so this cannot escape
        return self._directory / f"{tenant_id}.duckdb"

    def writable_connection(self, tenant_id: str) -> duckdb.DuckDBPyConnection:
        """For seeding at start-up only, before any read-only connection to the file exists."""
        self._directory.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(self.path_for(tenant_id)))

    def close(self) -> None:
        with self._registry_lock:
            for connection in self._connections.values():
                connection.close()
            self._connections.clear()

    def ping(self) -> None:
        """Raise when the warehouse folder cannot be used."""
        if not self._directory.is_dir():
            raise RuntimeError(f"{self._directory} is not a folder")
        with duckdb.connect(":memory:", config=QUERY_CONNECTION_CONFIG) as connection:
            connection.execute("SELECT 1").fetchall()

    def _run(self, tenant_id: str, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with self._registry_lock:
            lock = self._locks.setdefault(tenant_id, threading.Lock())
        with lock:
            connection = self._connections.get(tenant_id)
            if connection is None:
                path = self.path_for(tenant_id)
                if not path.exists():
                    # A tenant without a warehouse sees an empty one; nothing is created on disk.
                    with duckdb.connect(":memory:", config=QUERY_CONNECTION_CONFIG) as empty:
                        return work(empty)
                connection = duckdb.connect(
                    str(path), read_only=True, config=QUERY_CONNECTION_CONFIG
                )
                self._connections[tenant_id] = connection
            return work(connection)

    def write(self, tenant_id: str, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `work` on a writable connection (batch prediction output).

        DuckDB lets a process hold a file either read-only or writable, so the tenant's cached
        read-only connection is closed first; the tenant's queries wait on its lock meanwhile.
        `work` gets the locked-down configuration too: no file access, no extensions.
        """
        with self._registry_lock:
            lock = self._locks.setdefault(tenant_id, threading.Lock())
        with lock:
            cached = self._connections.pop(tenant_id, None)
            if cached is not None:
                cached.close()
            self._directory.mkdir(parents=True, exist_ok=True)
            with duckdb.connect(
                str(self.path_for(tenant_id)), config=QUERY_CONNECTION_CONFIG
            ) as connection:
                return work(connection)

    def list_tables(self, tenant_id: str) -> list[TableInfo]:
        def work(connection: duckdb.DuckDBPyConnection) -> list[TableInfo]:
            rows = connection.execute(
                "SELECT table_schema, table_name, column_name, data_type "
                "FROM information_schema.columns WHERE table_catalog = current_database() "
                "ORDER BY table_schema, table_name, ordinal_position"
            ).fetchall()
            tables: dict[tuple[str, str], TableInfo] = {}
            for schema_name, table_name, column_name, data_type in rows:
                table = tables.setdefault(
                    (schema_name, table_name),
                    TableInfo(
                        schema_name=schema_name,
                        name=table_name,
                        qualified_name=f"{schema_name}.{table_name}",
                        columns=[],
                    ),
                )
                table.columns.append(TableColumn(name=column_name, type=data_type))
            return list(tables.values())

        return self._run(tenant_id, work)

    def _checked_source(
        self, connection: duckdb.DuckDBPyConnection, source: DatasetSource, field_prefix: str
    ) -> str:
        select = sql.source_select(source, field_prefix)
        if source.source == "table":
            schema_name, table_name = sql.table_parts(source.table or "", "table")
            exists = connection.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
                [schema_name, table_name],
            ).fetchone()
            if not exists or exists[0] == 0:
                field = f"{field_prefix}.table" if field_prefix else "table"
                raise InvalidFieldError(
                    field, f"table {schema_name}.{table_name} does not exist in the warehouse"
                )
        return select

    @staticmethod
    def _query_field(source: DatasetSource, field_prefix: str) -> str:
        name = "query" if source.source == "sql" else "table"
        return f"{field_prefix}.{name}" if field_prefix else name

    def describe(self, tenant_id: str, source: DatasetSource, field_prefix: str) -> DatasetSchema:
        def work(connection: duckdb.DuckDBPyConnection) -> DatasetSchema:
            select = self._checked_source(connection, source, field_prefix)
            try:
                described = connection.execute(f"DESCRIBE SELECT * FROM {sql.wrap(select)}")
                columns = [(row[0], row[1]) for row in described.fetchall()]
                aggregates = ["count(*)"]
                for name, _ in columns:
                    quoted = sql.quote(name)
                    aggregates += [f"approx_count_distinct({quoted})", f"count({quoted})"]
                stats = connection.execute(
                    f"SELECT {', '.join(aggregates)} FROM {sql.wrap(select)}"
                ).fetchone()
            except duckdb.Error as error:
                raise InvalidFieldError(
                    self._query_field(source, field_prefix), _message(error)
                ) from None
            assert stats is not None
            row_count = int(stats[0])
            described_columns = []
            for index, (name, duckdb_type) in enumerate(columns):
                distinct_count = int(stats[1 + 2 * index])
                non_null_count = int(stats[2 + 2 * index])
                described_columns.append(
                    ColumnSchema(
                        name=name,
                        type=duckdb_type,
                        kind=column_kind(duckdb_type, distinct_count, non_null_count),
                        distinct_count=distinct_count,
                        null_count=row_count - non_null_count,
                    )
                )
            return DatasetSchema(row_count=row_count, columns=described_columns)

        return self._run(tenant_id, work)

    def count_non_integer_values(
        self, tenant_id: str, source: DatasetSource, field_prefix: str, column: str
    ) -> int:
        def work(connection: duckdb.DuckDBPyConnection) -> int:
            select = self._checked_source(connection, source, field_prefix)
            quoted = sql.quote(column)
            row = connection.execute(
                f"SELECT count(*) FROM {sql.wrap(select)} WHERE {quoted} <> floor({quoted})"
            ).fetchone()
            return int(row[0]) if row else 0

        return self._run(tenant_id, work)

    def load_frame(
        self, tenant_id: str, source: DatasetSource, field_prefix: str, columns: list[str]
    ) -> pd.DataFrame:
        def work(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
            select = self._checked_source(connection, source, field_prefix)
            projection = ", ".join(sql.quote(column) for column in columns)
            try:
                return connection.execute(f"SELECT {projection} FROM {sql.wrap(select)}").fetch_df()
            except duckdb.Error as error:
                raise InvalidFieldError(
                    self._query_field(source, field_prefix), _message(error)
                ) from None

        return self._run(tenant_id, work)


def _message(error: duckdb.Error) -> str:
    """DuckDB's message without the caret diagram under it."""
    return str(error).strip().split("\n\n")[0].replace("\n", " ")
