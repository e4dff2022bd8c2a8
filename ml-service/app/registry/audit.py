"""The registry's audit trail: table `registry_audit` in the job store's SQLite file.

MLflow keeps no history of alias or tag changes, so every registry write is recorded here,
durably, next to the jobs it refers to.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.storage.sqlite import SqliteDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS registry_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    model TEXT NOT NULL,
    version TEXT,
    from_stage TEXT,
    to_stage TEXT,
    alias TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS registry_audit_by_model ON registry_audit (tenant_id, model, id);
"""


@dataclass(frozen=True)
class AuditEvent:
    action: str
    version: str | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    alias: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    actor: str
    event: AuditEvent


class AuditLog:
    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, _SCHEMA)

    def record(self, tenant_id: str, actor: str, model: str, *events: AuditEvent) -> None:
        """Append events in order, in one transaction."""
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._db.write_transaction() as connection:
            connection.executemany(
                "INSERT INTO registry_audit (at, tenant_id, actor, action, model, version,"
                " from_stage, to_stage, alias, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        at,
                        tenant_id,
                        actor,
                        event.action,
                        model,
                        event.version,
                        event.from_stage,
                        event.to_stage,
                        event.alias,
                        event.reason,
                    )
                    for event in events
                ],
            )

    def events(self, tenant_id: str, model: str) -> list[AuditRecord]:
        with self._db.connect() as connection:
            rows = connection.execute(
                "SELECT * FROM registry_audit WHERE tenant_id = ? AND model = ? ORDER BY id",
                (tenant_id, model),
            ).fetchall()
        return [
            AuditRecord(
                at=datetime.fromisoformat(row["at"]),
                actor=row["actor"],
                event=AuditEvent(
                    action=row["action"],
                    version=row["version"],
                    from_stage=row["from_stage"],
                    to_stage=row["to_stage"],
                    alias=row["alias"],
                    reason=row["reason"],
                ),
            )
            for row in rows
        ]
