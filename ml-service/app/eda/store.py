"""Stored profiles and comparisons: SQLite in WAL mode at `<data>/eda.sqlite`, one row each.

A profile is stored whole as JSON (its charts and report are drawn from it on request), with the
few fields a listing shows in columns of their own. Every read is scoped by tenant: a profile id
of another tenant reads as missing.
"""

from pathlib import Path
from typing import Literal

from app.storage.sqlite import SqliteDatabase

EdaRecordKind = Literal["profile", "comparison"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS eda_records (
    record_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS eda_records_by_tenant ON eda_records (tenant_id, kind, created_at);
"""


class EdaStore:
    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, _SCHEMA)

    def save(
        self,
        tenant_id: str,
        kind: EdaRecordKind,
        record_id: str,
        created_at: str,
        summary: str,
        body: str,
    ) -> None:
        """Store one record; `summary` and `body` are JSON documents."""
        with self._db.connect() as connection:
            connection.execute(
                "INSERT INTO eda_records VALUES (?, ?, ?, ?, ?, ?)",
                (record_id, tenant_id, kind, created_at, summary, body),
            )

    def get(self, tenant_id: str, kind: EdaRecordKind, record_id: str) -> str | None:
        """The JSON body of the tenant's record, or None."""
        with self._db.connect() as connection:
            row = connection.execute(
                "SELECT body FROM eda_records WHERE record_id = ? AND tenant_id = ? AND kind = ?",
                (record_id, tenant_id, kind),
            ).fetchone()
        return row[0] if row else None

    def list(self, tenant_id: str, kind: EdaRecordKind, limit: int) -> list[str]:
        """The JSON summaries of the tenant's records, newest first."""
        with self._db.connect() as connection:
            rows = connection.execute(
                "SELECT summary FROM eda_records WHERE tenant_id = ? AND kind = ? "
                "ORDER BY created_at DESC, record_id LIMIT ?",
                (tenant_id, kind, limit),
            ).fetchall()
        return [row[0] for row in rows]
