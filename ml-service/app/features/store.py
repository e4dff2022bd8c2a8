"""Stored feature set versions: SQLite in WAL mode at `<data>/features.sqlite`.

A version is written once and never updated (immutable definitions); every read is scoped by
tenant, so another tenant's feature set reads as missing.
"""

import sqlite3
from pathlib import Path

from app.storage.sqlite import SqliteDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feature_set_versions (
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);
CREATE TABLE IF NOT EXISTS feature_set_materializations (
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);
"""


class VersionTakenError(RuntimeError):
    """Another request stored this version first."""


class FeatureSetStore:
    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, _SCHEMA)

    def add(self, tenant_id: str, name: str, version: int, created_at: str, body: str) -> None:
        """Store a new version (`body` is the FeatureSetVersion as JSON)."""
        with self._db.connect() as connection:
            try:
                connection.execute(
                    "INSERT INTO feature_set_versions VALUES (?, ?, ?, ?, ?)",
                    (tenant_id, name, version, created_at, body),
                )
            except sqlite3.IntegrityError:
                raise VersionTakenError(f"{name} version {version}") from None

    def versions(self, tenant_id: str, name: str) -> list[str]:
        """The bodies of every version of one feature set, oldest first."""
        with self._db.connect() as connection:
            rows = connection.execute(
                "SELECT body FROM feature_set_versions WHERE tenant_id = ? AND name = ? "
                "ORDER BY version",
                (tenant_id, name),
            ).fetchall()
        return [row[0] for row in rows]

    def latest_versions(self, tenant_id: str) -> list[tuple[str, str]]:
        """(first version's created_at, latest version's body) of every feature set, by name."""
        with self._db.connect() as connection:
            rows = connection.execute(
                "SELECT min(created_at), "
                "(SELECT body FROM feature_set_versions AS latest WHERE latest.tenant_id = "
                "v.tenant_id AND latest.name = v.name ORDER BY version DESC LIMIT 1) "
                "FROM feature_set_versions AS v WHERE tenant_id = ? GROUP BY name ORDER BY name",
                (tenant_id,),
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def set_materialized(self, tenant_id: str, name: str, version: int, body: str) -> None:
        """Record a version's latest completed materialisation (`body`: Materialization JSON)."""
        with self._db.connect() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO feature_set_materializations VALUES (?, ?, ?, ?)",
                (tenant_id, name, version, body),
            )

    def materialized(self, tenant_id: str, name: str, version: int) -> str | None:
        """The version's latest completed materialisation, None if it was never materialised."""
        with self._db.connect() as connection:
            row = connection.execute(
                "SELECT body FROM feature_set_materializations WHERE tenant_id = ? AND name = ? "
                "AND version = ?",
                (tenant_id, name, version),
            ).fetchone()
        return row[0] if row else None
