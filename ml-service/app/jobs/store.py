"""Durable job store: one `jobs` table for every kind of long task, SQLite in WAL mode at
`<data>/jobs.sqlite`.

A row is one job: its `kind` (`training`, `batch_prediction`, ...), the tenant, the caller's
idempotency key, the kind's `spec` (JSON, whatever its handler needs to run it), `status`, the
latest `progress` snapshot, the `result` or `error`, and the MLflow run ids it logged to. The
store knows nothing of what a kind does: `app.jobs.runner` runs jobs through a handler per kind.

The per-tenant count of active jobs that use compute, taken inside `BEGIN IMMEDIATE` together
with the idempotency look-up, is THE quota: SQLite serialises writers, so two submissions (from
any number of AI Service replicas) can never both see room for one more job, and a retried
submission can never create a second job.

Every status transition is conditional on the current status, so a late writer (a job finishing
just as it is cancelled) can never overwrite an ended job.
"""

import hashlib
import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from app.storage.sqlite import SqliteDatabase

JobStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
ACTIVE_STATUSES: tuple[JobStatus, ...] = ("queued", "running")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    uses_compute INTEGER NOT NULL,
    status TEXT NOT NULL,
    progress TEXT,
    result TEXT,
    error TEXT,
    mlflow_run_ids TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    UNIQUE (tenant_id, kind, idempotency_key)
);
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant_id, kind, status, created_at);
"""

# Before `jobs` there was one table for training only; its rows move over unchanged (same ids,
# times and results) the first time this version opens a data folder, so no job is lost.
_MIGRATE_TRAINING_JOBS = """
INSERT OR IGNORE INTO jobs (job_id, kind, tenant_id, idempotency_key, name, spec, uses_compute,
    status, progress, result, error, mlflow_run_ids, created_at, started_at, finished_at)
SELECT job_id, 'training', tenant_id, idempotency_key, name,
    json_set(config, '$.algorithm', algorithm, '$.task_type', task_type), 1,
    status, progress, result, error,
    CASE WHEN mlflow_run_id IS NULL THEN '[]' ELSE json_array(mlflow_run_id) END,
    created_at, started_at, finished_at
FROM training_jobs ORDER BY rowid;
DROP TABLE training_jobs;
"""


class TenantQuotaExceededError(Exception):
    def __init__(self, tenant_id: str, limit: int) -> None:
        super().__init__(f"tenant {tenant_id} already has {limit} active jobs")
        self.tenant_id = tenant_id
        self.limit = limit


@dataclass(frozen=True)
class NewJob:
    """What a submission stores. `id_prefix` starts the job id (`train` → `train-1a2b…`);
    `uses_compute` jobs count against the tenant's quota of active jobs; `request_hash`
    (`request_hash()` of the request body) tells a replay of an idempotency key from a reuse."""

    kind: str
    id_prefix: str
    name: str
    spec: dict[str, Any]
    uses_compute: bool = True
    request_hash: str | None = None


class IdempotencyKeyReusedError(Exception):
    """The tenant's job with this key was submitted with another request body."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


def request_hash(body: dict[str, Any]) -> str:
    """SHA-256 of the body's canonical JSON (sorted keys), as the IETF Idempotency-Key draft
    suggests a payload fingerprint; key order and whitespace of the caller's JSON do not count."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_same_request(existing: "JobRecord", job_request_hash: str | None) -> None:
    """IdempotencyKeyReusedError when `existing` (found by its key) was another body. Jobs stored
    before bodies were fingerprinted (no hash) are taken as replays."""
    if (
        job_request_hash is not None
        and existing.request_hash is not None
        and existing.request_hash != job_request_hash
    ):
        raise IdempotencyKeyReusedError(existing.job_id)


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    kind: str
    tenant_id: str
    idempotency_key: str | None
    request_hash: str | None
    name: str
    spec: dict[str, Any]
    uses_compute: bool
    status: JobStatus
    progress: dict[str, Any] | None
    result: dict[str, Any] | None
    error: str | None
    mlflow_run_ids: list[str]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def mlflow_run_id(self) -> str | None:
        """The job's first (for training: its only) MLflow run."""
        return self.mlflow_run_ids[0] if self.mlflow_run_ids else None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _json(value: str | None) -> Any:
    return json.loads(value) if value else None


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        job_id=row["job_id"],
        kind=row["kind"],
        tenant_id=row["tenant_id"],
        idempotency_key=row["idempotency_key"],
        request_hash=row["request_hash"],
        name=row["name"],
        spec=json.loads(row["spec"]),
        uses_compute=bool(row["uses_compute"]),
        status=row["status"],
        progress=_json(row["progress"]),
        result=_json(row["result"]),
        error=row["error"],
        mlflow_run_ids=json.loads(row["mlflow_run_ids"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        started_at=_time(row["started_at"]),
        finished_at=_time(row["finished_at"]),
    )


def new_job_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


class JobStore:
    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, _SCHEMA)
        with self._db.write_transaction() as connection:
            legacy = connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'training_jobs'"
            ).fetchone()
            if legacy is not None:
                for statement in _MIGRATE_TRAINING_JOBS.split(";"):
                    if statement.strip():
                        connection.execute(statement)
            columns = {row["name"] for row in connection.execute("PRAGMA table_info(jobs)")}
            if "request_hash" not in columns:  # a data folder from before the fingerprint
                connection.execute("ALTER TABLE jobs ADD COLUMN request_hash TEXT")

    def ping(self) -> None:
        with self._db.connect() as connection:
            connection.execute("SELECT count(*) FROM jobs").fetchone()

    def submit(
        self, tenant_id: str, idempotency_key: str | None, job: NewJob, max_active_jobs: int
    ) -> tuple[JobRecord, bool]:
        """Insert a queued job, or return the tenant's job of this kind with this key; True
        when inserted. TenantQuotaExceededError when the tenant already has `max_active_jobs`
        queued or running jobs that use compute (of any kind) and this one uses compute too."""
        with self._db.write_transaction() as connection:
            if idempotency_key is not None:
                existing = connection.execute(
                    "SELECT * FROM jobs WHERE tenant_id = ? AND kind = ? AND idempotency_key = ?",
                    (tenant_id, job.kind, idempotency_key),
                ).fetchone()
                if existing is not None:
                    record = _record(existing)
                    check_same_request(record, job.request_hash)
                    return record, False
            if job.uses_compute:
                (active,) = connection.execute(
                    "SELECT count(*) FROM jobs WHERE tenant_id = ? AND uses_compute = 1 "
                    "AND status IN (?, ?)",
                    (tenant_id, *ACTIVE_STATUSES),
                ).fetchone()
                if active >= max_active_jobs:
                    raise TenantQuotaExceededError(tenant_id, max_active_jobs)
            job_id = new_job_id(job.id_prefix)
            connection.execute(
                "INSERT INTO jobs (job_id, kind, tenant_id, idempotency_key, request_hash, name,"
                " spec, uses_compute, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
                (
                    job_id,
                    job.kind,
                    tenant_id,
                    idempotency_key,
                    job.request_hash,
                    job.name,
                    json.dumps(job.spec),
                    int(job.uses_compute),
                    _now(),
                ),
            )
            row = connection.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            return _record(row), True

    def find_by_idempotency_key(
        self, tenant_id: str, kind: str, idempotency_key: str
    ) -> JobRecord | None:
        with self._db.connect() as connection:
            row = connection.execute(
                "SELECT * FROM jobs WHERE tenant_id = ? AND kind = ? AND idempotency_key = ?",
                (tenant_id, kind, idempotency_key),
            ).fetchone()
        return _record(row) if row else None

    def get(self, tenant_id: str, job_id: str, kind: str | None = None) -> JobRecord | None:
        """The tenant's job; None when it does not exist, is another tenant's, or (given
        `kind`) is of another kind."""
        with self._db.connect() as connection:
            row = connection.execute(
                "SELECT * FROM jobs WHERE tenant_id = ? AND job_id = ?", (tenant_id, job_id)
            ).fetchone()
        if row is None or (kind is not None and row["kind"] != kind):
            return None
        return _record(row)

    def list_jobs(
        self, tenant_id: str, kind: str, status: JobStatus | None, limit: int
    ) -> list[JobRecord]:
        query = "SELECT * FROM jobs WHERE tenant_id = ? AND kind = ?"
        parameters: list[Any] = [tenant_id, kind]
        if status is not None:
            query += " AND status = ?"
            parameters.append(status)
        query += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        parameters.append(limit)
        with self._db.connect() as connection:
            rows = connection.execute(query, parameters).fetchall()
        return [_record(row) for row in rows]

    def mark_running(self, job_id: str) -> bool:
        return self._update(
            "UPDATE jobs SET status = 'running', started_at = ? "
            "WHERE job_id = ? AND status = 'queued'",
            (_now(), job_id),
        )

    def set_progress(self, job_id: str, progress: dict[str, Any]) -> bool:
        return self._update(
            "UPDATE jobs SET progress = ? WHERE job_id = ? AND status = 'running'",
            (json.dumps(progress), job_id),
        )

    def add_mlflow_run_id(self, job_id: str, run_id: str) -> bool:
        return self._update(
            "UPDATE jobs SET mlflow_run_ids = json_insert(mlflow_run_ids, '$[#]', ?) "
            "WHERE job_id = ?",
            (run_id, job_id),
        )

    def complete(
        self, job_id: str, result: dict[str, Any], progress: dict[str, Any] | None
    ) -> bool:
        return self._update(
            "UPDATE jobs SET status = 'completed', result = ?, "
            "progress = coalesce(?, progress), finished_at = ? "
            "WHERE job_id = ? AND status = 'running'",
            (json.dumps(result), json.dumps(progress) if progress else None, _now(), job_id),
        )

    def fail(self, job_id: str, error: str) -> bool:
        return self._update(
            "UPDATE jobs SET status = 'failed', error = ?, finished_at = ? "
            "WHERE job_id = ? AND status IN ('queued', 'running')",
            (error, _now(), job_id),
        )

    def cancel(self, tenant_id: str, job_id: str) -> bool:
        return self._update(
            "UPDATE jobs SET status = 'cancelled', finished_at = ? "
            "WHERE tenant_id = ? AND job_id = ? AND status IN ('queued', 'running')",
            (_now(), tenant_id, job_id),
        )

    def fail_all_active(self, error: str) -> list[str]:
        """Mark every queued/running job failed (used at start-up); returns their ids."""
        with self._db.write_transaction() as connection:
            rows = connection.execute(
                "SELECT job_id FROM jobs WHERE status IN ('queued', 'running')"
            ).fetchall()
            connection.execute(
                "UPDATE jobs SET status = 'failed', error = ?, finished_at = ? "
                "WHERE status IN ('queued', 'running')",
                (error, _now()),
            )
        return [row["job_id"] for row in rows]

    def _update(self, statement: str, parameters: tuple) -> bool:
        with self._db.write_transaction() as connection:
            return connection.execute(statement, parameters).rowcount > 0
