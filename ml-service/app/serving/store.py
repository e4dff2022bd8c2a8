"""Deployment specs in SQLite (`<data>/serving.sqlite`), so they survive a restart.

One row per (tenant, model_id): the model, its traffic split (variants), the previous split for
rollback, and the last known status. The Serve applications themselves live in Ray and are
recreated from these rows at start-up.
(Batch predictions are jobs of `app.jobs`.)
"""

import json
import sqlite3
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS serving_deployments (
    tenant_id TEXT NOT NULL,
    model_id TEXT NOT NULL,
    model_name TEXT NOT NULL,
    spec TEXT NOT NULL,
    variants TEXT NOT NULL,
    previous_variants TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, model_id)
);
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class DeploymentRecord:
    tenant_id: str
    model_id: str
    model_name: str
    # replicas/autoscaling/resources/sampling as requested
    spec: dict[str, Any]
    # [{"version": "3", "weight": 80}, ...]
    variants: list[dict[str, Any]]
    previous_variants: list[dict[str, Any]] | None
    status: str
    reason: str | None
    created_at: str
    updated_at: str


def _connect(path: Path) -> sqlite3.Connection:
    """An autocommit connection shared by threads (callers hold a lock), with the tables."""
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.executescript(_SCHEMA)
    return connection


class DeploymentStore:
    def __init__(self, path: Path) -> None:
        self._connection = _connect(path)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._connection.close()

    @staticmethod
    def _record(row: tuple) -> DeploymentRecord:
        return DeploymentRecord(
            tenant_id=row[0],
            model_id=row[1],
            model_name=row[2],
            spec=json.loads(row[3]),
            variants=json.loads(row[4]),
            previous_variants=json.loads(row[5]) if row[5] else None,
            status=row[6],
            reason=row[7],
            created_at=row[8],
            updated_at=row[9],
        )

    def save(self, record: DeploymentRecord) -> DeploymentRecord:
        record = replace(record, updated_at=now())
        with self._lock:
            self._connection.execute(
                "INSERT OR REPLACE INTO serving_deployments VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    record.tenant_id,
                    record.model_id,
                    record.model_name,
                    json.dumps(record.spec),
                    json.dumps(record.variants),
                    json.dumps(record.previous_variants) if record.previous_variants else None,
                    record.status,
                    record.reason,
                    record.created_at,
                    record.updated_at,
                ),
            )
        return record

    def get(self, tenant_id: str, model_id: str) -> DeploymentRecord | None:
        with self._lock:
            row = self._connection.execute(
                "SELECT * FROM serving_deployments WHERE tenant_id = ? AND model_id = ?",
                (tenant_id, model_id),
            ).fetchone()
        return self._record(row) if row else None

    def list_all(self, tenant_id: str | None = None) -> list[DeploymentRecord]:
        query = "SELECT * FROM serving_deployments"
        arguments: tuple = ()
        if tenant_id is not None:
            query += " WHERE tenant_id = ?"
            arguments = (tenant_id,)
        with self._lock:
            rows = self._connection.execute(query + " ORDER BY created_at", arguments).fetchall()
        return [self._record(row) for row in rows]

    def delete(self, tenant_id: str, model_id: str) -> None:
        with self._lock:
            self._connection.execute(
                "DELETE FROM serving_deployments WHERE tenant_id = ? AND model_id = ?",
                (tenant_id, model_id),
            )

