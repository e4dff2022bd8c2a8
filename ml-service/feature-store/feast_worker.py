"""The Feast worker: runs Feast for the ML Service in this folder's own environment.

Feast 0.67 needs pandas < 3 and prometheus-client < 0.25 while the ML Service pins pandas 3, so
Feast cannot be imported by the ML Service (docs/architecture.md, "Feature store"). The ML Service
starts this script once with `.venv/bin/python feast_worker.py` and talks to it over its standard
streams: one JSON request per line on stdin, one JSON answer per line on stdout
(`{"ok": true, ...}` or `{"ok": false, "error": "..."}`). Importing Feast takes ~10 s, so the
process stays up between requests. Feast's own output goes to stderr.

Requests (all paths are absolute and chosen by the ML Service; data never travels in the JSON):
- `apply`: register a feature view in the tenant's Feast project (`repo_dir` holds
  feature_store.yaml, the SQLite registry and the SQLite online store) over a Parquet file.
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
from feast import Entity, FeatureStore, FeatureView, Field, FileSource  # noqa: E402
from feast.type_map import pa_to_feast_value_type  # noqa: E402
from feast.types import from_value_type  # noqa: E402


def _repo_config(repo_dir: Path, project: str) -> str:
    # One Feast project per tenant: registry and online store are SQLite files in the tenant's
    # feature folder; the offline store is Feast's DuckDB store over Parquet files.
    return (
        f"project: {project}\n"
        f"registry: {json.dumps(str(repo_dir / 'registry.db'))}\n"
        "provider: local\n"
        "offline_store:\n  type: duckdb\n"
        f"online_store:\n  type: sqlite\n  path: {json.dumps(str(repo_dir / 'online.db'))}\n"
        "entity_key_serialization_version: 3\n"
    )


def _store(repo_dir: str, project: str) -> FeatureStore:
    path = Path(repo_dir)
    path.mkdir(parents=True, exist_ok=True)
    config = path / "feature_store.yaml"
    if not config.exists():
        config.write_text(_repo_config(path, project))
    return FeatureStore(repo_path=str(path))


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
    )
    return {"response": convert_response_to_dict(response.proto)}


OPERATIONS = {
    "apply": apply,
    "historical": historical,
    "materialize": materialize,
    "online": online,
}


def main() -> None:
    _answers.write(json.dumps({"ok": True, "ready": True}) + "\n")
    for line in sys.stdin:
        try:
            request = json.loads(line)
            answer = {"ok": True, **OPERATIONS[request["op"]](request)}
        except Exception as error:  # every failure is answered; the worker keeps serving
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        _answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
