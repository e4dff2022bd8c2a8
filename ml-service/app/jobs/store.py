"""Durable job store: SQLite in WAL mode at `<data>/jobs.sqlite`.

The per-tenant count of active jobs taken inside `BEGIN IMMEDIATE` is THE quota: SQLite
serialises writers, so two submissions (from any number of AI Service replicas) can never both
see room for one more job.
"""

import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

JobStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
ACTIVE_STATUSES: tuple[JobStatus, ...] = ("queued", "running")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS training_jobs (
    job_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    idempotency_key TEXT,
    name TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    task_type TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    progress TEXT,
    result TEXT,
    error TEXT,
    mlflow_run_id TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS training_jobs_by_tenant
    ON training_jobs (tenant_id, status, created_at);
"""


class TenantQuotaExceededError(Exception):
    def __init__(self, tenant_id: str, limit: int) -> None:
        super().__init__(f"tenant {tenant_id} already has {limit} active training jobs")
        self.tenant_id = tenant_id
        self.limit = limit


@dataclass(frozen=True)
class NewJob:
    name: str
    algorithm: str
    task_type: str
    config: dict[str, Any]


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    tenant_id: str
    idempotency_key: str | None
    name: str
    algorithm: str
    task_type: str
    config: dict[str, Any]
    status: JobStatus
    progress: dict[str, Any] | None
    result: dict[str, Any] | None
    error: str | None
    mlflow_run_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _json(value: str | None) -> Any:
    return json.loads(value) if value else None


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        job_id=row["job_id"],
        tenant_id=row["tenant_id"],
        idempotency_key=row["idempotency_key"],
        name=row["name"],
        algorithm=row["algorithm"],
        task_type=row["task_type"],
        config=json.loads(row["config"]),
        status=row["status"],
        progress=_json(row["progress"]),
        result=_json(row["result"]),
        error=row["error"],
        mlflow_run_id=row["mlflow_run_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
        started_at=_time(row["started_at"]),
        finished_at=_time(row["finished_at"]),
    )


def new_job_id() -> str:
    return f"train-{secrets.token_hex(6)}"


class JobStore:
    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation keeps the store safe to call from any thread; with
        # isolation_level=None transactions are exactly the BEGIN/COMMIT written below.
        connection = sqlite3.connect(self._path, timeout=10, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def ping(self) -> None:
        with self._connection() as connection:
            connection.execute("SELECT count(*) FROM training_jobs").fetchone()

    def submit(
        self, tenant_id: str, idempotency_key: str | None, job: NewJob, max_active_jobs: int
    ) -> tuple[JobRecord, bool]:
        """Insert a queued job, or return the tenant's job with this key; True when inserted."""
        with self._write_transaction() as connection:
            if idempotency_key is not None:
                existing = connection.execute(
                    "SELECT * FROM training_jobs WHERE tenant_id = ? AND idempotency_key = ?",
                    (tenant_id, idempotency_key),
                ).fetchone()
                if existing is not None:
                    return _record(existing), False
            (active,) = connection.execute(
                "SELECT count(*) FROM training_jobs WHERE tenant_id = ? AND status IN (?, ?)",
                (tenant_id, *ACTIVE_STATUSES),
            ).fetchone()
            if active >= max_active_jobs:
                raise TenantQuotaExceededError(tenant_id, max_active_jobs)
            job_id = new_job_id()
            connection.execute(
                "INSERT INTO training_jobs (job_id, tenant_id, idempotency_key, name, algorithm,"
                " task_type, config, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    tenant_id,
                    idempotency_key,
                    job.name,
                    job.algorithm,
                    job.task_type,
                    json.dumps(job.config),
                    "queued",
                    _now(),
                ),
            )
            row = connection.execute(
                "SELECT * FROM training_jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
            return _record(row), True

    def find_by_idempotency_key(self, tenant_id: str, idempotency_key: str) -> JobRecord | None:
        with self._connection() as connection:
            row = connection.execute(
                "SELECT * FROM training_jobs WHERE tenant_id = ? AND idempotency_key = ?",
                (tenant_id, idempotency_key),
            ).fetchone()
        return _record(row) if row else None

    def get(self, tenant_id: str, job_id: str) -> JobRecord | None:
        with self._connection() as connection:
            row = connection.execute(
                "SELECT * FROM training_jobs WHERE tenant_id = ? AND job_id = ?",
                (tenant_id, job_id),
            ).fetchone()
        return _record(row) if row else None

    def list_jobs(self, tenant_id: str, status: JobStatus | None, limit: int) -> list[JobRecord]:
        query = "SELECT * FROM training_jobs WHERE tenant_id = ?"
        parameters: list[Any] = [tenant_id]
        if status is not None:
            query += " AND status = ?"
            parameters.append(status)
        query += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        parameters.append(limit)
        with self._connection() as connection:
            rows = connection.execute(query, parameters).fetchall()
        return [_record(row) for row in rows]

    # Every transition below is conditional on the current status, so a late writer (a job
    # finishing just as it is cancelled) can never overwrite an ended job.

    def mark_running(self, job_id: str) -> bool:
        return self._update(
            "UPDATE training_jobs SET status = 'running', started_at = ? "
            "WHERE job_id = ? AND status = 'queued'",
            (_now(), job_id),
        )

    def set_progress(self, job_id: str, progress: dict[str, Any]) -> bool:
        return self._update(
            "UPDATE training_jobs SET progress = ? WHERE job_id = ? AND status = 'running'",
            (json.dumps(progress), job_id),
        )

    def set_mlflow_run_id(self, job_id: str, run_id: str) -> bool:
        return self._update(
            "UPDATE training_jobs SET mlflow_run_id = ? WHERE job_id = ?", (run_id, job_id)
        )

    def complete(self, job_id: str, result: dict[str, Any], progress: dict[str, Any]) -> bool:
        return self._update(
            "UPDATE training_jobs SET status = 'completed', result = ?, progress = ?, "
            "finished_at = ? WHERE job_id = ? AND status = 'running'",
            (json.dumps(result), json.dumps(progress), _now(), job_id),
        )

    def fail(self, job_id: str, error: str) -> bool:
        return self._update(
            "UPDATE training_jobs SET status = 'failed', error = ?, finished_at = ? "
            "WHERE job_id = ? AND status IN ('queued', 'running')",
            (error, _now(), job_id),
        )

    def cancel(self, tenant_id: str, job_id: str) -> bool:
        return self._update(
            "UPDATE training_jobs SET status = 'cancelled', finished_at = ? "
            "WHERE tenant_id = ? AND job_id = ? AND status IN ('queued', 'running')",
            (_now(), tenant_id, job_id),
        )

    def fail_all_active(self, error: str) -> list[str]:
        """Mark every queued/running job failed (used at start-up); returns their ids."""
        with self._write_transaction() as connection:
            rows = connection.execute(
                "SELECT job_id FROM training_jobs WHERE status IN ('queued', 'running')"
            ).fetchall()
            connection.execute(
                "UPDATE training_jobs SET status = 'failed', error = ?, finished_at = ? "
                "WHERE status IN ('queued', 'running')",
                (error, _now()),
            )
        return [row["job_id"] for row in rows]

    def _update(self, statement: str, parameters: tuple) -> bool:
        with self._write_transaction() as connection:
            return connection.execute(statement, parameters).rowcount > 0
