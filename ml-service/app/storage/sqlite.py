"""One SQLite database file of the ML Service (jobs, audit trail, profiles, feature sets).

Every store opens a connection per operation, which keeps it safe to call from any thread
(FastAPI's pool, `asyncio.to_thread`, the job runner) without a lock of ours; WAL mode lets
readers go on while one writer commits. Connections are in autocommit mode
(`isolation_level=None`), so a transaction is exactly the `BEGIN IMMEDIATE … COMMIT` of
`write_transaction` and never one the `sqlite3` module opens implicitly.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Seconds a connection waits for another writer's lock before `database is locked`.
_BUSY_TIMEOUT_SECONDS = 10


class SqliteDatabase:
    """The file at `path`, created with its parent folder and `schema` (idempotent DDL, run on
    every start) if missing. Rows read through it are `sqlite3.Row` (by name or position)."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(schema)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh autocommit connection, closed on exit."""
        connection = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def write_transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside `BEGIN IMMEDIATE` (the write lock taken up front, so two writers
        never deadlock upgrading a read), committed on exit and rolled back on any exception."""
        with self.connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
