"""Tenant warehouses: one DuckDB file per tenant, queried read-only from this process only.

DuckDB refuses a second connection to a file with a different configuration inside one process,
and Ray workers are other processes; so every DuckDB call happens here, behind one lock per
tenant, and training receives the loaded rows instead of a path.

A tenant's SQL is arbitrary work, so it is bounded four ways (`WarehouseLimits`): it runs on a
thread pool of its own (`WarehouseManager.offload`), never on the default one that health,
registry and tracking calls share; each statement has a time limit after which a timer calls
DuckDB's `interrupt()`; a tenant has a bounded number of calls in flight (more are refused with
429 at once instead of queueing); and every connection has a memory limit and a thread count.
"""

import asyncio
import contextvars
import ctypes
import ctypes.util
import functools
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, ParamSpec, TypeVar

import duckdb
import pandas as pd

from app.datasets import reading, sql
from app.datasets.reading import CsvOptions, ReadReport
from app.datasets.schemas import (
    ColumnKind,
    ColumnSchema,
    DatasetSchema,
    DatasetSource,
    TableColumn,
    TableDetail,
    TableInfo,
    UploadedTable,
)
from app.errors import (
    ConflictError,
    ErrorResponse,
    ForbiddenError,
    InvalidFieldError,
    NotFoundError,
    QueryTimeoutError,
    WarehouseBusyError,
)

T = TypeVar("T")
P = ParamSpec("P")

# No file reads or writes, no ATTACH, no extension downloads, and no SET to undo any of it.
QUERY_CONNECTION_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
# Uploaded tables live in their own schema: they can never overwrite the demo tables
# (ml_features) or anything a later feature writes, and DELETE can only ever reach them.
UPLOAD_SCHEMA = "uploads"
# Batch prediction writes its output tables here (never over a source table).
PREDICTIONS_SCHEMA = "predictions"
# What a tenant may drop: its uploads and its batch outputs, never the demo or other tables.
DELETABLE_SCHEMAS = (UPLOAD_SCHEMA, PREDICTIONS_SCHEMA)
UploadFormat = Literal["csv", "parquet"]
_NUMERIC_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "REAL", "DOUBLE",
}  # fmt: skip
_INTEGER_TYPES = _NUMERIC_TYPES - {"FLOAT", "REAL", "DOUBLE"}
# A string column with more distinct values than this is free text, not a category.
MAX_CATEGORY_COUNT = 1000
# Bytes per value of DuckDB's fixed-width types (their in-memory width); other types (VARCHAR,
# BLOB, nested) are measured.
_FIXED_WIDTHS = {
    "BOOLEAN": 1, "TINYINT": 1, "UTINYINT": 1, "SMALLINT": 2, "USMALLINT": 2,
    "INTEGER": 4, "UINTEGER": 4, "FLOAT": 4, "REAL": 4, "DATE": 4,
    "BIGINT": 8, "UBIGINT": 8, "DOUBLE": 8, "TIME": 8, "TIMESTAMP": 8,
    "TIMESTAMP WITH TIME ZONE": 8, "TIMESTAMP_S": 8, "TIMESTAMP_MS": 8, "TIMESTAMP_NS": 8,
    "HUGEINT": 16, "UHUGEINT": 16, "UUID": 16, "INTERVAL": 16,
}  # fmt: skip


# Documented on the routes that run a tenant's SQL.
WAREHOUSE_RESPONSES: dict[int | str, dict] = {
    429: {
        "model": ErrorResponse,
        "description": "the tenant already has its limit of warehouse calls in flight",
    },
    504: {
        "model": ErrorResponse,
        "description": "a statement ran past its time limit and was stopped; not worth retrying",
    },
}


def _host_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # not POSIX: assume a small host
        return 4 * 1024**3


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None)


def _trim_heap() -> None:
    """Return the C heap's free pages to the OS (glibc's `malloc_trim(0)`; elsewhere nothing).

    glibc keeps freed memory in its arenas, so a process that built large results once stays
    that large; Dask's workers call `malloc_trim` after tasks for the same reason
    (distributed.worker_memory). No library wraps this one call."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


@dataclass(frozen=True)
class WarehouseLimits:
    """Bounds on warehouse work (settings `MLS_QUERY_TIMEOUT_SECONDS` and the others in
    app/config.py). Defaults are sized to the host: a quarter of its memory per connection, so
    a few tenants' statements together stay below it (DuckDB spills or fails past the limit
    instead of growing), and half its cores per statement so two tenants run side by side."""

    # Interactive statements (describe, list, estimate): below the AI Service's 30 s per call,
    # so the caller gets the ML Service's 504 naming the query, not its own timeout.
    query_timeout_seconds: float = 20.0
    # Loading rows for a training or batch job, and writes: bigger, and off the request path.
    load_timeout_seconds: float = 600.0
    tenant_concurrency: int = 3
    pool_workers: int = 8
    memory_limit_bytes: int = field(
        default_factory=lambda: max(256 * 1024**2, _host_memory_bytes() // 4)
    )
    threads: int = field(default_factory=lambda: max(1, (os.cpu_count() or 1) // 2))

    def connection_config(self) -> dict[str, str | int]:
        return {
            "memory_limit": f"{self.memory_limit_bytes // 1024**2}MB",
            "threads": self.threads,
        }


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
    def __init__(self, directory: Path, limits: WarehouseLimits | None = None) -> None:
        self._directory = directory
        self._limits = limits or WarehouseLimits()
        self._connections: dict[str, duckdb.DuckDBPyConnection] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._in_flight: dict[str, int] = {}
        self._registry_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max_workers=self._limits.pool_workers, thread_name_prefix="warehouse"
        )

    @property
    def limits(self) -> WarehouseLimits:
        return self._limits

    async def offload(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Await `function(*args)` on the warehouse pool (with the caller's context variables,
        so log lines keep the request id), never on the event loop's default pool."""
        context = contextvars.copy_context()
        call = functools.partial(context.run, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    @contextmanager
    def _admitted(self, tenant_id: str) -> Iterator[None]:
        """Count the call against the tenant's bound, or refuse it with 429 at once: a tenant
        over its bound must not fill the pool that other tenants' calls need."""
        bound = self._limits.tenant_concurrency
        with self._registry_lock:
            in_flight = self._in_flight.get(tenant_id, 0)
            if in_flight >= bound:
                raise WarehouseBusyError(
                    f"tenant {tenant_id} already has {in_flight} warehouse calls running or "
                    f"waiting (limit MLS_WAREHOUSE_TENANT_CONCURRENCY={bound}); "
                    "try again when one has ended"
                )
            self._in_flight[tenant_id] = in_flight + 1
        try:
            yield
        finally:
            with self._registry_lock:
                self._in_flight[tenant_id] -= 1

    def _time_limit(self, load: bool) -> tuple[float, str]:
        """The time limit of a call (seconds) and the setting that sets it."""
        if load:
            return self._limits.load_timeout_seconds, "MLS_LOAD_TIMEOUT_SECONDS"
        return self._limits.query_timeout_seconds, "MLS_QUERY_TIMEOUT_SECONDS"

    @contextmanager
    def _turn(self, lock: threading.Lock, what: str, load: bool) -> Iterator[float]:
        """Wait for the tenant's connection within the call's time limit; yield the call's
        deadline (time.monotonic()). A tenant's statements run one at a time on its connection,
        so a call admitted behind two never-ending ones would otherwise answer only after three
        limits (the AI Service's deadline long past). Waiting the whole limit is a 504 saying so.
        """
        seconds, variable = self._time_limit(load)
        deadline = time.monotonic() + seconds
        if not lock.acquire(timeout=seconds):
            raise QueryTimeoutError(what, seconds, variable, queued=True)
        try:
            yield deadline
        finally:
            lock.release()

    def _timed(
        self,
        connection: duckdb.DuckDBPyConnection,
        what: str,
        load: bool,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        deadline: float | None = None,
    ) -> T:
        """Run `work`, interrupting DuckDB once the call's deadline (time.monotonic(); its whole
        time limit from now when None) has passed, until `work` has returned.

        `interrupt()` is DuckDB's own way to stop a running statement from another thread; the
        statement then raises, and the error is replaced by one naming `what` and the limit.
        DuckDB drops an interrupt that arrives before a statement has started (each statement
        starts uninterrupted), so one interrupt can miss: it is repeated every 0.1 s until
        `work` returns, and a call whose time is already spent does not start at all.
        """
        seconds, variable = self._time_limit(load)
        if deadline is None:
            deadline = time.monotonic() + seconds
        if deadline - time.monotonic() <= 0:
            raise QueryTimeoutError(what, seconds, variable, queued=True)
        fired = threading.Event()
        finished = threading.Event()

        def watch() -> None:
            if finished.wait(max(0.0, deadline - time.monotonic())):
                return
            fired.set()
            while True:
                connection.interrupt()
                if finished.wait(0.1):
                    return

        watcher = threading.Thread(target=watch, name="warehouse-deadline", daemon=True)
        watcher.start()
        try:
            return work(connection)
        except Exception:
            if fired.is_set():
                raise QueryTimeoutError(what, seconds, variable) from None
            raise
        finally:
            finished.set()
            # Joined before the connection goes to the tenant's next call: no interrupt of this
            # call can land in the next one's statement.
            watcher.join()

    def path_for(self, tenant_id: str) -> Path:
        # tenant ids are validated against ^[a-z0-9][a-z0-9_-]{0,62}$, so this cannot escape
        return self._directory / f"{tenant_id}.duckdb"

    def writable_connection(self, tenant_id: str) -> duckdb.DuckDBPyConnection:
        """For seeding at start-up only, before any read-only connection to the file exists."""
        self._directory.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(self.path_for(tenant_id)))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
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

    def release(self, tenant_id: str) -> bool:
        """Close the tenant's cached read-only connection and hand freed heap back to the OS;
        True when it was closed, False when a call of the tenant holds it (that call's own
        reads keep the cache warm, and the next release frees it).

        After a scan of a whole table (a profile), DuckDB's buffer pool keeps the table's
        blocks and glibc keeps the freed result buffers: measured on bench/eda's 1M x 20
        table, the process held 222 MB more than before the profiles, 42 MB after closing the
        connection and trimming. Reopening the file costs milliseconds."""
        with self._registry_lock:
            lock = self._locks.setdefault(tenant_id, threading.Lock())
        if not lock.acquire(blocking=False):
            return False
        try:
            with self._registry_lock:
                cached = self._connections.pop(tenant_id, None)
            if cached is not None:
                cached.close()
        finally:
            lock.release()
        _trim_heap()
        return True

    def _run(
        self,
        tenant_id: str,
        what: str,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        load: bool = False,
    ) -> T:
        """Run read-only `work` as the tenant's next statement, within the limits; `what` names
        the query in a time-out error (a field such as `dataset.query`)."""
        with self._registry_lock:
            lock = self._locks.setdefault(tenant_id, threading.Lock())
        config = QUERY_CONNECTION_CONFIG | self._limits.connection_config()
        with self._admitted(tenant_id), self._turn(lock, what, load) as deadline:
            connection = self._connections.get(tenant_id)
            if connection is None:
                path = self.path_for(tenant_id)
                if not path.exists():
                    # A tenant without a warehouse sees an empty one; nothing is created on disk.
                    with duckdb.connect(":memory:", config=config) as empty:
                        return self._timed(empty, what, load, work, deadline)
                connection = duckdb.connect(str(path), read_only=True, config=config)
                self._connections[tenant_id] = connection
            return self._timed(connection, what, load, work, deadline)

    def _run_writable(
        self,
        tenant_id: str,
        readable_directory: Path | None,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        what: str = "the write",
    ) -> T:
        """Run `work` on a read-write connection; the cached read-only one is closed first.

        DuckDB allows one configuration per file and process, so writes take the tenant's lock,
        close the read-only connection and open a writable one that reads files only from
        `readable_directory`; the next read reopens the file read-only.
        """
        with self._registry_lock:
            lock = self._locks.setdefault(tenant_id, threading.Lock())
        with self._admitted(tenant_id), lock:
            cached = self._connections.pop(tenant_id, None)
            if cached is not None:
                cached.close()
            self._directory.mkdir(parents=True, exist_ok=True)
            with duckdb.connect(
                str(self.path_for(tenant_id)),
                config={
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                    **self._limits.connection_config(),
                },
            ) as connection:
                if readable_directory is not None:
                    connection.execute(
                        "SET allowed_directories = ?", [[f"{readable_directory.resolve()}/"]]
                    )
                connection.execute("SET enable_external_access = false")
                connection.execute("SET lock_configuration = true")
                return self._timed(connection, what, True, work)

    def import_file(
        self,
        tenant_id: str,
        path: Path,
        display_name: str,
        table: str,
        file_format: UploadFormat,
        replace: bool,
        csv_options: CsvOptions,
    ) -> UploadedTable:
        """Load a CSV or Parquet file as `uploads.<table>`, all or nothing, and say how it was
        read (app/datasets/reading.py decides what may change type, and reports it).

        The rows go into a staging table inside one transaction that renames it (replacing the
        old table when asked) and commits only when the whole file was read; a malformed file
        rolls back and leaves the warehouse as it was.
        """

        def work(connection: duckdb.DuckDBPyConnection) -> UploadedTable:
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {UPLOAD_SCHEMA}")
            if self._table_exists(connection, UPLOAD_SCHEMA, table) and not replace:
                raise ConflictError(
                    f"table {UPLOAD_SCHEMA}.{table} already exists; send if_exists=replace "
                    "to replace it"
                )
            raw = f"{UPLOAD_SCHEMA}.{sql.quote(f'__upload_raw_{uuid.uuid4().hex}')}"
            staging = sql.quote(f"__upload_{uuid.uuid4().hex}")
            target = f"{UPLOAD_SCHEMA}.{sql.quote(table)}"
            report = ReadReport()
            types: dict[str, str] = {}
            connection.execute("BEGIN TRANSACTION")
            try:
                if file_format == "parquet":
                    reader, parameters = "read_parquet(?)", [str(path)]
                else:
                    columns, chosen = reading.sniffed_columns(connection, str(path), csv_options)
                    report.delimiter = chosen.delimiter
                    reading.check_not_misread(columns, chosen.delimiter, display_name)
                    types = reading.explicit_types(chosen, columns)
                    reader, parameters = reading.read_csv_call(str(path), chosen, types)
                connection.execute(f"CREATE TABLE {raw} AS SELECT * FROM {reader}", parameters)
                counted = connection.execute(f"SELECT count(*) FROM {raw}").fetchone()
                if not counted or counted[0] == 0:
                    raise InvalidFieldError("file", "the file holds no rows")
                read = [
                    (row[0], row[1]) for row in connection.execute(f"DESCRIBE {raw}").fetchall()
                ]
                selected = [sql.quote(name) for name, _ in read]
                if file_format == "csv":
                    report.coerced += reading.typed_reads(read, types, csv_options)
                    selected = reading.settle_text_columns(
                        connection, raw, read, csv_options, report
                    )
                connection.execute(
                    f"CREATE TABLE {UPLOAD_SCHEMA}.{staging} AS "
                    f"SELECT {', '.join(selected)} FROM {raw}"
                )
                connection.execute(f"DROP TABLE {raw}")
                if replace:
                    connection.execute(f"DROP TABLE IF EXISTS {target}")
                connection.execute(
                    f"ALTER TABLE {UPLOAD_SCHEMA}.{staging} RENAME TO {sql.quote(table)}"
                )
                connection.execute("COMMIT")
            except duckdb.Error as error:
                connection.execute("ROLLBACK")
                reason = _load_message(error).replace(str(path), display_name)
                if file_format == "csv" and "sniffing" in reason:
                    # DuckDB's sniffer says what failed, not why; this is nearly always why.
                    reason += (
                        "; check that every quote is closed and every row has as many fields "
                        "as the header"
                    ) + (
                        f", separated by the delimiter {csv_options.delimiter!r}"
                        if csv_options.delimiter
                        else " (send `delimiter` if it is not , ; | or a tab)"
                    )
                if "unicode" in reason.lower() or "encoding" in reason.lower():
                    reason += "; send `encoding` (latin-1 or utf-16) if the file is not UTF-8"
                raise InvalidFieldError(
                    "file", f"{display_name} could not be read as {file_format}: {reason}"
                ) from None
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            detail = self._describe_table(connection, UPLOAD_SCHEMA, table)
            return UploadedTable(
                **detail.model_dump(),
                delimiter=report.delimiter,
                preview=reading.preview_rows(connection, target),
                coerced=report.coerced,
                kept_as_text=report.kept_as_text,
            )

        return self._run_writable(tenant_id, path.parent, work, "file")

    def delete_upload(self, tenant_id: str, schema_name: str, table: str) -> None:
        if schema_name not in DELETABLE_SCHEMAS:
            raise ForbiddenError(
                f"only uploaded tables and batch outputs (schemas {', '.join(DELETABLE_SCHEMAS)}) "
                f"can be deleted, not {schema_name}.{table}"
            )
        if not self.path_for(tenant_id).exists():
            raise NotFoundError(f"table {schema_name}.{table} does not exist")

        def work(connection: duckdb.DuckDBPyConnection) -> None:
            if not self._table_exists(connection, schema_name, table):
                raise NotFoundError(f"table {schema_name}.{table} does not exist")
            connection.execute(f"DROP TABLE {sql.quote(schema_name)}.{sql.quote(table)}")

        self._run_writable(tenant_id, None, work, "table")

    def describe_table(self, tenant_id: str, schema_name: str, table: str) -> TableDetail:
        def work(connection: duckdb.DuckDBPyConnection) -> TableDetail:
            if not self._table_exists(connection, schema_name, table):
                raise NotFoundError(f"table {schema_name}.{table} does not exist")
            return self._describe_table(connection, schema_name, table)

        return self._run(tenant_id, "table", work)

    @staticmethod
    def _table_exists(connection: duckdb.DuckDBPyConnection, schema_name: str, table: str) -> bool:
        row = connection.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
            [schema_name, table],
        ).fetchone()
        return bool(row and row[0])

    def _describe_table(
        self, connection: duckdb.DuckDBPyConnection, schema_name: str, table: str
    ) -> TableDetail:
        select = f"SELECT * FROM {sql.quote(schema_name)}.{sql.quote(table)}"
        schema = _describe_select(connection, select)
        return TableDetail(
            schema_name=schema_name,
            name=table,
            qualified_name=f"{schema_name}.{table}",
            uploaded=schema_name == UPLOAD_SCHEMA,
            row_count=schema.row_count,
            columns=schema.columns,
        )

    def write(self, tenant_id: str, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `work` on a writable connection (batch prediction output); the tenant's queries
        wait on its lock meanwhile."""
        return self._run_writable(tenant_id, None, work, "output_table")

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

        return self._run(tenant_id, "the table listing", work)

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
                return _describe_select(connection, select)
            except duckdb.Error as error:
                raise InvalidFieldError(
                    self._query_field(source, field_prefix), _message(error)
                ) from None

        return self._run(tenant_id, self._query_field(source, field_prefix), work)

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

        return self._run(tenant_id, self._query_field(source, field_prefix), work)

    def aggregate(
        self, tenant_id: str, source: DatasetSource, field_prefix: str, expressions: list[str]
    ) -> tuple:
        """One row of aggregates (SQL expressions built by the caller from quoted column names)
        over the source, computed inside DuckDB without loading the rows."""

        def work(connection: duckdb.DuckDBPyConnection) -> tuple:
            select = self._checked_source(connection, source, field_prefix)
            try:
                row = connection.execute(
                    f"SELECT {', '.join(expressions)} FROM {sql.wrap(select)}"
                ).fetchone()
            except duckdb.Error as error:
                raise InvalidFieldError(
                    self._query_field(source, field_prefix), _message(error)
                ) from None
            assert row is not None
            return row

        return self._run(tenant_id, self._query_field(source, field_prefix), work)

    def estimate_bytes(
        self,
        tenant_id: str,
        source: DatasetSource,
        field_prefix: str,
        columns: list[tuple[str, str]],
    ) -> int:
        """Bytes the given (name, DuckDB type) columns would take once loaded, without loading.

        Rows times width: fixed-width types count their width, variable ones (strings) their summed
        byte length, computed by one aggregate inside DuckDB. Storage figures (duckdb_tables'
        estimated_size, compressed blocks) would not do: a source may be a query, they count
        every column rather than the ones training loads, and compression hides the real size.
        """

        def work(connection: duckdb.DuckDBPyConnection) -> int:
            select = self._checked_source(connection, source, field_prefix)
            fixed_width = 0
            measured = []
            for name, duckdb_type in columns:
                base = duckdb_type.upper()
                width = 16 if base.startswith("DECIMAL") else _FIXED_WIDTHS.get(base)
                if width is None:
                    measured.append(f"coalesce(sum(strlen(CAST({sql.quote(name)} AS VARCHAR))), 0)")
                else:
                    fixed_width += width
            try:
                row = connection.execute(
                    f"SELECT {', '.join(['count(*)', *measured])} FROM {sql.wrap(select)}"
                ).fetchone()
            except duckdb.Error as error:
                raise InvalidFieldError(
                    self._query_field(source, field_prefix), _message(error)
                ) from None
            assert row is not None
            return int(row[0]) * fixed_width + sum(int(value) for value in row[1:])

        return self._run(tenant_id, self._query_field(source, field_prefix), work)

    def read(
        self,
        tenant_id: str,
        source: DatasetSource,
        field_prefix: str,
        work: Callable[[duckdb.DuckDBPyConnection, str], T],
    ) -> T:
        """Run `work(connection, select)` on the tenant's read-only connection, where `select` is
        the source's checked SELECT (to be used through `sql.wrap`). A DuckDB error inside `work`
        (a bad query, a missing column) becomes a 422 naming the source's field.

        For work that stays in DuckDB (aggregates, profiles): the rows are never fetched here
        unless `work` fetches them."""
        return self.read_sources(
            tenant_id, {field_prefix: source}, lambda connection, selects: work(
                connection, selects[field_prefix]
            )
        )  # fmt: skip

    def read_sources(
        self,
        tenant_id: str,
        sources: dict[str, DatasetSource],
        work: Callable[[duckdb.DuckDBPyConnection, dict[str, str]], T],
    ) -> T:
        """`read` over several sources at once (e.g. two tables to compare), keyed by the field
        prefix that names each in errors. Each source is checked and planned first, so a bad one
        is named; a DuckDB error inside `work` names the first source's field."""

        def checked(connection: duckdb.DuckDBPyConnection) -> T:
            selects = {}
            for prefix, source in sources.items():
                select = self._checked_source(connection, source, prefix)
                try:
                    # fetched, so `work` may start a relation (`connection.sql`): DuckDB 2
                    # refuses one while a result of execute() is unfinished
                    connection.execute(f"DESCRIBE SELECT * FROM {sql.wrap(select)}").fetchall()
                except duckdb.Error as error:
                    raise InvalidFieldError(
                        self._query_field(source, prefix), _message(error)
                    ) from None
                selects[prefix] = select
            try:
                return work(connection, selects)
            except duckdb.Error as error:
                prefix, source = next(iter(sources.items()))
                raise InvalidFieldError(
                    self._query_field(source, prefix), _message(error)
                ) from None

        # Scans whole sources like a load does: the longer limit applies; a time-out names the
        # first source, as a DuckDB error does.
        first_prefix, first_source = next(iter(sources.items()))
        what = self._query_field(first_source, first_prefix)
        return self._run(tenant_id, what, checked, load=True)

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

        return self._run(tenant_id, self._query_field(source, field_prefix), work, load=True)


def _message(error: duckdb.Error) -> str:
    """DuckDB's message without the caret diagram under it."""
    return str(error).strip().split("\n\n")[0].replace("\n", " ")


def _describe_select(connection: duckdb.DuckDBPyConnection, select: str) -> DatasetSchema:
    described = connection.execute(f"DESCRIBE SELECT * FROM {sql.wrap(select)}")
    columns = [(row[0], row[1]) for row in described.fetchall()]
    aggregates = ["count(*)"]
    for name, _ in columns:
        quoted = sql.quote(name)
        # HyperLogLog's estimate (one pass, no per-value memory), never above the count of values
        # it estimates: a 48-row column reported 49 distinct values without the bound.
        aggregates += [
            f"least(approx_count_distinct({quoted}), count({quoted}))",
            f"count({quoted})",
        ]
    stats = connection.execute(f"SELECT {', '.join(aggregates)} FROM {sql.wrap(select)}").fetchone()
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


# Where DuckDB's loader messages stop saying what is wrong and start listing options to try.
_LOAD_MESSAGE_ENDS = ("Possible fixes", "The search space used was", "LINE ")


def _load_message(error: duckdb.Error) -> str:
    """The lines of a read_csv/read_parquet error that say what is wrong, on one line."""
    kept = []
    for line in str(error).strip().splitlines():
        if line.startswith(_LOAD_MESSAGE_ENDS) or not line.strip():
            break
        kept.append(line.strip())
    return " ".join(kept) or str(error).strip().splitlines()[0]
