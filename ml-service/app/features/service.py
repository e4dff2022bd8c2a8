"""Feature sets on Feast: definitions checked against the warehouse, immutable versions, and
point-in-time training sets built by Feast's `get_historical_features`.

Feast's DuckDB offline store reads files (Parquet, Delta, Iceberg), not tables of a DuckDB
database, and a DuckDB database file is open in this process (another process cannot open it
while it is), so the ML Service exports what Feast reads: a version's source columns to
`<data>/features/<tenant>/<name>/v<version>/source.parquet`, written again from the warehouse
before every training set so Feast always joins the current rows. The Feast project of a tenant
(feature_store.yaml, SQLite registry and online store) lives in `<data>/features/<tenant>/feast`.
"""

import shutil
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from app.datasets import sql
from app.datasets.schemas import DatasetSchema
from app.datasets.warehouse import WarehouseManager
from app.errors import ConflictError, InvalidFieldError, NotFoundError
from app.features import transforms
from app.features.feast_process import FeastProcess, FeastRequestError
from app.features.schemas import (
    FeatureSetDefinition,
    FeatureSetLineage,
    FeatureSetSummary,
    FeatureSetVersion,
    FeatureSpec,
    FittedFeature,
    RegisteredVersionUse,
    TrainingJobUse,
    TrainingSet,
    TrainingSetRequest,
)
from app.features.store import FeatureSetStore, VersionTakenError
from app.jobs.store import JobRecord

TRAINING_SET_SCHEMA = "training_sets"
# Feast's name for the entity rows' timestamp column (feast.infra.offline_stores.offline_utils.
# DEFAULT_ENTITY_DF_EVENT_TIMESTAMP_COL).
FEAST_EVENT_TIMESTAMP = "event_timestamp"
# Feast gets only the join keys, this row number (its join does not promise the rows' order)
# and the timestamp; the user's columns never pass through it and are written back as read.
_ROW_COLUMN = "__feature_set_entity_row"
_TIMESTAMP_COLUMN = "__feature_set_event_timestamp"
_TIME_TYPES = ("TIMESTAMP", "DATE")


def feast_project(tenant_id: str) -> str:
    """The tenant's Feast project: tenant ids allow `-`, Feast project names do not."""
    return tenant_id.replace("-", "_")


def _types(schema: DatasetSchema) -> dict[str, str]:
    return {item.name: item.type.upper() for item in schema.columns}


def _is_time(schema: DatasetSchema, column: str) -> bool:
    return _types(schema).get(column, "").startswith(_TIME_TYPES)


def _check_definition(definition: FeatureSetDefinition, schema: DatasetSchema) -> None:
    types = _types(schema)
    if definition.timestamp_column not in types:
        raise InvalidFieldError(
            "timestamp_column", f"the source has no column {definition.timestamp_column!r}"
        )
    if not _is_time(schema, definition.timestamp_column):
        raise InvalidFieldError("timestamp_column", "must be a TIMESTAMP or DATE column")
    keys = definition.entity.join_keys
    for index, key in enumerate(keys):
        if key not in types:
            raise InvalidFieldError(
                f"entity.join_keys[{index}]", f"the source has no column {key!r}"
            )
        if keys.index(key) != index:
            raise InvalidFieldError(f"entity.join_keys[{index}]", f"{key!r} is listed twice")
        if types[key] not in transforms.FEAST_TYPES | transforms.WIDENED_TO_INTEGER:
            raise InvalidFieldError(
                f"entity.join_keys[{index}]",
                f"{key!r} is {types[key]}, which Feast has no type for; use a `sql` source that "
                "casts it (e.g. to BIGINT or VARCHAR)",
            )
    for index, feature in enumerate(definition.features):
        transforms.check(index, feature, types)


def _check_names(definition: FeatureSetDefinition, fitted: list[FittedFeature]) -> None:
    """Every output column is new: not a join key, not the timestamp, not another feature's."""
    taken = {*definition.entity.join_keys, definition.timestamp_column}
    for index, feature in enumerate(fitted):
        for column in feature.columns:
            if column in taken:
                field = "name" if definition.features[index].name else "column"
                raise InvalidFieldError(
                    f"features[{index}].{field}",
                    f"makes the column {column!r}, which is a join key, the timestamp or "
                    "another feature's; name the feature",
                )
            taken.add(column)


def fitted_features(version: FeatureSetVersion) -> list[FittedFeature]:
    """The version's features as computed. Versions made before transformations existed store
    none: each of their features is a plain column."""
    if version.fitted:
        return version.fitted
    return [
        FittedFeature(name=str(item.column), columns=[str(item.column)])
        for item in version.definition.features
    ]


def _feast_columns(version: FeatureSetVersion) -> list[str]:
    """The output columns Feast serves: every feature's but the window aggregates', which are
    computed at the time asked for (transforms.window_select)."""
    return [
        column
        for feature, fitted in zip(
            version.definition.features, fitted_features(version), strict=True
        )
        if not transforms.is_window(feature)
        for column in fitted.columns
    ]


class FeatureSetService:
    def __init__(
        self,
        store: FeatureSetStore,
        warehouses: WarehouseManager,
        feast: FeastProcess,
        features_dir: Path,
    ) -> None:
        self._store = store
        self._warehouses = warehouses
        self._feast = feast
        self._dir = features_dir

    def _repo_dir(self, tenant_id: str) -> Path:
        return self._dir / tenant_id / "feast"

    def _source_path(self, tenant_id: str, name: str, version: int) -> Path:
        return self._dir / tenant_id / name / f"v{version}" / "source.parquet"

    def _versions(self, tenant_id: str, name: str) -> list[FeatureSetVersion]:
        return [
            FeatureSetVersion.model_validate_json(body)
            for body in self._store.versions(tenant_id, name)
        ]

    def summaries(self, tenant_id: str) -> list[FeatureSetSummary]:
        summaries = []
        for first_created, body in self._store.latest_versions(tenant_id):
            latest = FeatureSetVersion.model_validate_json(body)
            summaries.append(
                FeatureSetSummary(
                    name=latest.name,
                    latest_version=latest.version,
                    description=latest.definition.description,
                    created_at=datetime.fromisoformat(first_created),
                    updated_at=latest.created_at,
                )
            )
        return summaries

    def versions(self, tenant_id: str, name: str) -> list[FeatureSetVersion]:
        versions = self._versions(tenant_id, name)
        if not versions:
            raise NotFoundError(f"feature set {name!r} does not exist")
        return versions

    def version(self, tenant_id: str, name: str, version: int | None) -> FeatureSetVersion:
        """One version; the latest when `version` is None."""
        versions = self.versions(tenant_id, name)
        if version is None:
            return versions[-1]
        for item in versions:
            if item.version == version:
                return item
        raise NotFoundError(f"feature set {name!r} has no version {version}")

    def lineage(
        self,
        version: FeatureSetVersion,
        jobs: list[JobRecord],
        versions_of_run: Callable[[str], list[dict[str, str]]],
    ) -> FeatureSetLineage:
        """The training jobs among `jobs` (the tenant's, newest first) that trained on
        `version`, each with the registered versions made from its run."""
        used = [
            job
            for job in jobs
            if job.spec.get("feature_set") == {"name": version.name, "version": version.version}
        ]
        return FeatureSetLineage(
            name=version.name,
            version=version.version,
            training_jobs=[
                TrainingJobUse(
                    job_id=job.job_id,
                    name=job.name,
                    status=job.status,
                    created_at=job.created_at,
                    mlflow_run_id=job.mlflow_run_id,
                    registered_versions=[
                        RegisteredVersionUse(**found)
                        for found in (
                            versions_of_run(job.mlflow_run_id) if job.mlflow_run_id else []
                        )
                    ],
                )
                for job in used
            ],
        )

    def create(
        self, tenant_id: str, definition: FeatureSetDefinition
    ) -> tuple[FeatureSetVersion, bool]:
        """Store the definition as the feature set's next version and register it in the
        tenant's Feast project. An unchanged definition makes no version: the latest is
        answered with `False` (nothing created)."""
        versions = self._versions(tenant_id, definition.name)
        if versions and versions[-1].definition == definition:
            return versions[-1], False
        schema = self._warehouses.describe(tenant_id, definition.source, "source")
        _check_definition(definition, schema)
        fitted = self._fit(tenant_id, definition)
        _check_names(definition, fitted)
        number = versions[-1].version + 1 if versions else 1
        version = FeatureSetVersion(
            name=definition.name,
            version=number,
            created_at=datetime.now(UTC),
            definition=definition,
            feast_project=feast_project(tenant_id),
            feast_feature_view=f"{definition.name}_v{number}",
            fitted=fitted,
        )
        self._export_source(tenant_id, version, schema)
        try:
            self._apply(tenant_id, version)
            self._store.add(
                tenant_id, version.name, number, version.created_at.isoformat(),
                version.model_dump_json(),
            )  # fmt: skip
        except VersionTakenError:
            raise ConflictError(
                f"feature set {definition.name!r} version {number} was made by another request"
            ) from None
        return version, True

    def _fit(self, tenant_id: str, definition: FeatureSetDefinition) -> list[FittedFeature]:
        """Each feature's statistics, fitted once on the source as it is now (transforms.fit)."""

        def work(connection: duckdb.DuckDBPyConnection, select: str) -> list[FittedFeature]:
            return [
                transforms.fit(connection, select, index, feature)
                for index, feature in enumerate(definition.features)
            ]

        return self._warehouses.read(tenant_id, definition.source, "source", work)

    def _export_source(
        self, tenant_id: str, version: FeatureSetVersion, schema: DatasetSchema
    ) -> None:
        """The join keys, the timestamp and every feature Feast serves, computed in DuckDB with
        the version's fitted statistics, to the Parquet file Feast reads."""
        definition = version.definition
        types = _types(schema)
        keys = [
            transforms.columns(FeatureSpec(column=key), FittedFeature(name=key, columns=[key]),
                               types, "")[0]
            for key in definition.entity.join_keys
        ]  # fmt: skip
        timestamp = sql.quote(definition.timestamp_column)
        path = self._source_path(tenant_id, version.name, version.version)
        path.parent.mkdir(parents=True, exist_ok=True)

        def work(connection: duckdb.DuckDBPyConnection, select: str) -> None:
            outputs = list(keys)
            for index, (feature, fitted) in enumerate(
                zip(definition.features, fitted_features(version), strict=True)
            ):
                if not transforms.is_window(feature):
                    sql_type = transforms.expression_type(connection, select, index, feature)
                    outputs += transforms.columns(feature, fitted, types, sql_type)
            projection = ", ".join(
                f"{expression} AS {sql.quote(name)}" for name, expression in outputs
            )
            # A DATE is read as midnight of that day; Feast's timestamp field must be a timestamp.
            table = connection.sql(
                f"SELECT {projection}, CAST({timestamp} AS TIMESTAMP) AS {timestamp} "
                f"FROM {sql.wrap(select)}"
            ).to_arrow_table()
            # Replaced whole (write then rename): Feast may be reading the previous file.
            partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}.partial")
            pq.write_table(table, partial)
            partial.replace(path)

        self._warehouses.read(tenant_id, definition.source, "source", work)

    def _apply(self, tenant_id: str, version: FeatureSetVersion) -> None:
        definition = version.definition
        try:
            self._feast.call(
                "apply",
                repo_dir=str(self._repo_dir(tenant_id)),
                project=version.feast_project,
                view=version.feast_feature_view,
                source_path=str(self._source_path(tenant_id, version.name, version.version)),
                timestamp_column=definition.timestamp_column,
                join_keys=definition.entity.join_keys,
                features=_feast_columns(version),
            )
        except FeastRequestError as error:
            raise InvalidFieldError("features", f"Feast refused the definition: {error}") from None

    def training_set(
        self, tenant_id: str, name: str, version_number: int, request: TrainingSetRequest
    ) -> TrainingSet:
        """Feast's point-in-time join: each entity row gets every feature's value as it was at
        the row's event timestamp (the latest source row at or before it; none if there is
        none), written to `training_sets.<output_table>`. Entity columns are kept as given."""
        version = self.version(tenant_id, name, version_number)
        definition = version.definition
        fitted = fitted_features(version)
        outputs = [column for item in fitted for column in item.columns]
        feast_columns = _feast_columns(version)
        # The source's rows (and maybe its columns) changed since the version was made: it is
        # checked again and Feast's file written again from it, with the version's statistics.
        schema = self._warehouses.describe(tenant_id, definition.source, "source")
        _check_definition(definition, schema)
        self._export_source(tenant_id, version, schema)
        entities = self._entity_rows(tenant_id, request, definition.entity.join_keys, outputs)
        keyed = pa.table(
            {
                **{key: entities.column(key) for key in definition.entity.join_keys},
                _ROW_COLUMN: pa.array(range(entities.num_rows), pa.int64()),
                FEAST_EVENT_TIMESTAMP: entities.column(_TIMESTAMP_COLUMN),
            }
        )
        computed: dict[str, pa.ChunkedArray] = {}
        if feast_columns:
            joined = self._historical(tenant_id, version, keyed, feast_columns)
            computed.update({column: joined.column(column) for column in feast_columns})
        windows = [
            (item.name, feature)
            for feature, item in zip(definition.features, fitted, strict=True)
            if transforms.is_window(feature)
        ]
        if windows:
            aggregated = self._windows(tenant_id, version, keyed, windows)
            computed.update({output: aggregated.column(output) for output, _ in windows})
        frame = entities.drop_columns([_TIMESTAMP_COLUMN])
        for column in outputs:
            frame = frame.append_column(column, computed[column])
        table = f"{TRAINING_SET_SCHEMA}.{request.output_table}"

        def write(connection: duckdb.DuckDBPyConnection) -> None:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{TRAINING_SET_SCHEMA}"')
            connection.register("training_set", frame)
            try:
                connection.execute(
                    f'CREATE OR REPLACE TABLE "{TRAINING_SET_SCHEMA}"."{request.output_table}" '
                    "AS SELECT * FROM training_set"
                )
            finally:
                connection.unregister("training_set")

        self._warehouses.write(tenant_id, write)
        return TrainingSet(
            table=table,
            row_count=frame.num_rows,
            columns=frame.column_names,
            feature_set=name,
            version=version.version,
        )

    def _historical(
        self, tenant_id: str, version: FeatureSetVersion, keyed: pa.Table, columns: list[str]
    ) -> pa.Table:
        """Feast's `get_historical_features` for the entity rows `keyed` (join keys, row number,
        `event_timestamp`), in the rows' order."""
        self._dir.mkdir(parents=True, exist_ok=True)
        work_dir = Path(tempfile.mkdtemp(dir=self._dir))
        try:
            entity_path = work_dir / "entities.parquet"
            pq.write_table(keyed, entity_path)
            output_path = work_dir / "training_set.parquet"
            try:
                self._feast.call(
                    "historical",
                    repo_dir=str(self._repo_dir(tenant_id)),
                    project=version.feast_project,
                    entity_path=str(entity_path),
                    features=[f"{version.feast_feature_view}:{column}" for column in columns],
                    output_path=str(output_path),
                )
            except FeastRequestError as error:
                raise InvalidFieldError("entities", f"Feast could not join: {error}") from None
            joined = pq.read_table(output_path).sort_by(_ROW_COLUMN)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        if joined.num_rows != keyed.num_rows:
            raise RuntimeError(
                f"Feast answered {joined.num_rows} rows for {keyed.num_rows} entity rows"
            )
        return joined

    def _windows(
        self,
        tenant_id: str,
        version: FeatureSetVersion,
        keyed: pa.Table,
        windows: list[tuple[str, FeatureSpec]],
    ) -> pa.Table:
        """The window aggregates at each entity row's time, in DuckDB over the source (a range
        join of the entity rows with the source rows of the same keys in (t - days, t])."""
        definition = version.definition

        def work(connection: duckdb.DuckDBPyConnection, select: str) -> pa.Table:
            connection.register("feature_set_entity_rows", keyed)
            try:
                return connection.sql(
                    transforms.window_select(
                        "feature_set_entity_rows", _ROW_COLUMN, FEAST_EVENT_TIMESTAMP, select,
                        definition.entity.join_keys, definition.timestamp_column, windows,
                    )
                ).to_arrow_table()
            finally:
                connection.unregister("feature_set_entity_rows")

        aggregated = self._warehouses.read(tenant_id, definition.source, "source", work)
        if aggregated.num_rows != keyed.num_rows:
            raise RuntimeError(
                f"the window join answered {aggregated.num_rows} rows for {keyed.num_rows}"
            )
        return aggregated

    def _entity_rows(
        self, tenant_id: str, request: TrainingSetRequest, join_keys: list[str], features: list[str]
    ) -> pa.Table:
        """The entity rows as read, with their timestamp as a TIMESTAMP in one more column."""
        schema = self._warehouses.describe(tenant_id, request.entities, "entities")
        columns = [column.name for column in schema.columns]
        timestamp = request.event_timestamp_column
        if timestamp not in columns:
            raise InvalidFieldError(
                "event_timestamp_column", f"the entity rows have no column {timestamp!r}"
            )
        if not _is_time(schema, timestamp):
            raise InvalidFieldError("event_timestamp_column", "must be a TIMESTAMP or DATE column")
        for key in join_keys:
            if key not in columns:
                raise InvalidFieldError(
                    "entities", f"the entity rows have no join key column {key!r}"
                )
        for column in columns:
            if column in features:
                raise InvalidFieldError(
                    "entities", f"column {column!r} is also a feature of the set"
                )
            if column in (_ROW_COLUMN, _TIMESTAMP_COLUMN) or (
                column == FEAST_EVENT_TIMESTAMP and column in join_keys
            ):
                raise InvalidFieldError("entities", f"column name {column!r} is reserved")
        projection = ", ".join(sql.quote(column) for column in columns)

        def work(connection: duckdb.DuckDBPyConnection, select: str) -> pa.Table:
            return connection.sql(
                f"SELECT {projection}, CAST({sql.quote(timestamp)} AS TIMESTAMP) "
                f"AS {_TIMESTAMP_COLUMN} FROM {sql.wrap(select)}"
            ).to_arrow_table()

        return self._warehouses.read(tenant_id, request.entities, "entities", work)
