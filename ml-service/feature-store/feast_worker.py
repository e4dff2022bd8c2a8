"""The Feast worker: runs Feast for the ML Service in this folder's own environment.

Feast 0.67 needs pandas < 3 and prometheus-client < 0.25 while the ML Service pins pandas 3, so
Feast cannot be imported by the ML Service (docs/architecture.md, "Feature store"). The ML Service
starts this script once with `.venv/bin/python feast_worker.py` and talks to it over its standard
streams: one JSON request per line on stdin, one JSON answer per line on stdout
(`{"ok": true, ...}` or `{"ok": false, "error": "..."}`). Importing Feast takes ~10 s, so the
process stays up between requests. Feast's own output goes to stderr.

The online store is SQLite (a file per tenant's project) unless the ML Service passes Feast's
Redis connection string in `FEAST_REDIS_CONNECTION_STRING` (app/features/online_store.py; never
on a command line, in a file or in an answer: it may hold a password). A Redis that cannot be
reached is answered `{"ok": false, "unavailable": true, ...}`.

Requests (all paths are absolute and chosen by the ML Service; data never travels in the JSON):
- `apply`: register a feature view in the tenant's Feast project (`repo_dir` holds the SQLite
  registry and, without Redis, the SQLite online store) over a Parquet file.
  Fields: repo_dir, project, view, source_path, timestamp_column, join_keys, features.
- `historical`: Feast's point-in-time join (`get_historical_features`) of the entity rows in
  `entity_path` (join keys + `event_timestamp`) with `features` (`view:feature` references);
  the frame is written to `output_path` as Parquet. Answers `row_count`.
- `materialize`: load the feature views `views` from their sources into the online store, the
  latest row per entity with a timestamp in [`start`, `end`] (ISO 8601, UTC), or with
  `incremental` from the end of the view's previous materialisation on (Feast's
  `materialize_incremental`).
- `online`: Feast's `get_online_features` for `features` (`view:feature`) and `entities`
  (join key -> values), answered in Feast's feature-server JSON shape (`metadata.feature_names`,
  `results[].values/statuses/event_timestamps`).
"""

import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

# Answers go to the original stdout; everything Feast or its libraries print goes to stderr, so a
# stray print can never corrupt the protocol.
_answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

import pyarrow.parquet as pq  # noqa: E402
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, RepoConfig  # noqa: E402
from feast.type_map import pa_to_feast_value_type  # noqa: E402
from feast.types import from_value_type  # noqa: E402

REDIS = os.environ.get("FEAST_REDIS_CONNECTION_STRING")
# The errors of a Redis that cannot be reached (refused, timed out, a wrong password: redis-py's
# AuthenticationError is a ConnectionError). Imported only for Redis, so a SQLite setup runs on an
# environment synced before feast[redis] joined the lock.
UNREACHABLE: tuple[type[Exception], ...] = ()
if REDIS:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# What an answer must never show (redis-py's messages name host and port only, but an answer is
# scrubbed anyway): the password's value as Feast's connection string quotes it.
_SECRETS = [
    json.loads(part.split("=", 1)[1])
    for part in (REDIS or "").split(",")
    if part.startswith("password=")
]


def _online_store(repo_dir: Path) -> dict[str, Any]:
    if REDIS:
        return {"type": "redis", "connection_string": REDIS}
    return {"type": "sqlite", "path": str(repo_dir / "online.db")}


def _store(repo_dir: str, project: str) -> FeatureStore:
    # One Feast project per tenant: the registry is a SQLite file in the tenant's feature folder,
    # the offline store Feast's DuckDB store over Parquet files. The configuration is built here
    # rather than read from a feature_store.yaml: it may hold the Redis password.
    path = Path(repo_dir)
    path.mkdir(parents=True, exist_ok=True)
    config = RepoConfig(
        project=project,
        registry=str(path / "registry.db"),
        provider="local",
        offline_store={"type": "duckdb"},
        online_store=_online_store(path),
        entity_key_serialization_version=3,
        repo_path=path,
    )
    return FeatureStore(repo_path=str(path), config=config)


def apply(request: dict[str, Any]) -> dict[str, Any]:
    store = _store(request["repo_dir"], request["project"])
    arrow_schema = pq.read_schema(request["source_path"])

    def field(name: str) -> Field:
        value_type = pa_to_feast_value_type(str(arrow_schema.field(name).type))
        return Field(name=name, dtype=from_value_type(value_type))

    # Feast entities have one join key each; a composite key is several entities. Entities are
    # project-wide, so feature sets keyed on the same column share one (Feast's own model).
    entities = [
        Entity(name=key, join_keys=[key], value_type=pa_to_feast_value_type(
            str(arrow_schema.field(key).type)
        ))
        for key in request["join_keys"]
    ]  # fmt: skip
    source = FileSource(
        name=f"{request['view']}_source",
        path=request["source_path"],
        timestamp_field=request["timestamp_column"],
    )
    view = FeatureView(
        name=request["view"],
        entities=entities,
        # ttl 0: a value stays known until a newer one arrives (no look-back limit yet)
        ttl=timedelta(0),
        schema=[field(key) for key in request["join_keys"]]
        + [field(name) for name in request["features"]],
        source=source,
        online=True,
    )
    store.apply([*entities, source, view])
    return {}


def historical(request: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    store = _store(request["repo_dir"], request["project"])
    entity_frame = pd.read_parquet(request["entity_path"])
    job = store.get_historical_features(entity_df=entity_frame, features=request["features"])
    table = job.to_arrow()
    pq.write_table(table, request["output_path"])
    return {"row_count": table.num_rows}


def materialize(request: dict[str, Any]) -> dict[str, Any]:
    store = _store(request["repo_dir"], request["project"])
    end = datetime.fromisoformat(request["end"])
    if request.get("incremental"):
        store.materialize_incremental(end_date=end, feature_views=request["views"])
    else:
        start = datetime.fromisoformat(request["start"])
        store.materialize(start_date=start, end_date=end, feature_views=request["views"])
    return {}


def online(request: dict[str, Any]) -> dict[str, Any]:
    from feast.feature_server_utils import convert_response_to_dict

    store = _store(request["repo_dir"], request["project"])
    response = store.get_online_features(
        features=request["features"], entity_rows=request["entities"]
    ).proto
    if REDIS:
        names = {reference.split(":", 1)[1] for reference in request["features"]}
        _redis_not_found(response, names)
    return {"response": convert_response_to_dict(response)}


def _redis_not_found(response: Any, features: set[str]) -> None:
    """Feast 0.67's Redis store answers an entity it has no row for as PRESENT with an empty
    value and no event timestamp (RedisOnlineStore._get_features_for_entity returns the empty
    values where the SQLite store returns None), so a missing entity would look found. A
    feature value without an event timestamp was never written: it is marked NOT_FOUND, as the
    SQLite store answers it (the join keys' own columns, which have no timestamps, are left)."""
    from feast.protos.feast.serving.ServingService_pb2 import FieldStatus

    for name, vector in zip(response.metadata.feature_names.val, response.results, strict=True):
        if name not in features:
            continue
        for index, stamp in enumerate(vector.event_timestamps):
            if stamp.seconds == 0 and stamp.nanos == 0:
                vector.statuses[index] = FieldStatus.NOT_FOUND


OPERATIONS = {
    "apply": apply,
    "historical": historical,
    "materialize": materialize,
    "online": online,
}


def _scrubbed(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}"
    for secret in _SECRETS:
        text = text.replace(str(secret), "***")
    return text


def main() -> None:
    _answers.write(json.dumps({"ok": True, "ready": True}) + "\n")
    for line in sys.stdin:
        try:
            request = json.loads(line)
            answer = {"ok": True, **OPERATIONS[request["op"]](request)}
        except UNREACHABLE as error:
            answer = {"ok": False, "unavailable": True, "error": _scrubbed(error)}
        except Exception as error:  # every failure is answered; the worker keeps serving
            answer = {"ok": False, "error": _scrubbed(error)}
        _answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
