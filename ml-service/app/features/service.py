"""Feature sets on Feast: definitions checked against the warehouse, immutable versions, and
point-in-time training sets built by Feast's `get_historical_features`.

Feast's DuckDB offline store reads files (Parquet, Delta, Iceberg), not tables of a DuckDB
database, and a DuckDB database file is open in this process (another process cannot open it
while it is), so the ML Service exports what Feast reads: a version's source columns to
`<data>/features/<tenant>/<name>/v<version>/source.parquet`, written again from the warehouse
before every training set so Feast always joins the current rows. The Feast project of a tenant
(feature_store.yaml, SQLite registry and online store) lives in `<data>/features/<tenant>/feast`.
"""

import re
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
    ONLINE_MAX_ENTITIES,
    FeatureSetDefinition,
    FeatureSetLineage,
    FeatureSetSummary,
    FeatureSetVersion,
    FeatureSpec,
    FittedFeature,
    Materialization,
    OnlineFeaturesRequest,
    OnlineFeaturesResponse,
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
# A full materialisation loads every row from this time on (Feast needs a start).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The stages of a materialisation job, reported as its progress.
MATERIALIZATION_STAGES = ("export", "windows", "materialize")
# Feast's view of a version's window aggregates as of the last materialisation.
_WINDOWS_SUFFIX = "_windows"
_VERSION = re.compile(r"[1-9][0-9]{0,8}")


def feast_project(tenant_id: str) -> str:
    """The tenant's Feast project name, one per tenant and never another tenant's: in a shared
    Redis online store the project name is all that keeps two tenants' keys apart.

    Tenant ids are `[a-z0-9][a-z0-9_-]*`; Feast's SQLite store refuses `-` in a project name. So
    `-` becomes `_` (`acme-corp` -> `acme_corp`) and `_` becomes `U`, a letter no tenant id has:
    `a-b` -> `a_b`, `a_b` -> `aUb`, one-to-one."""
    return tenant_id.replace("_", "U").replace("-", "_")


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
    """Every output column is new: not a join key, not the timestamp, not another feature's;
    and has no `:`, which Feast's references (`<view>:<feature>`) split on."""
    taken = {*definition.entity.join_keys, definition.timestamp_column}
    for index, feature in enumerate(fitted):
        for column in feature.columns:
            field = "name" if definition.features[index].name else "column"
            if ":" in column:
                raise InvalidFieldError(
                    f"features[{index}].{field}",
                    f"makes the column {column!r}; Feast names a feature `<view>:<feature>` and "
                    "cannot serve a name with `:`; name the feature without one",
                )
            if column in taken:
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

    def _windows_path(self, tenant_id: str, name: str, version: int) -> Path:
        return self._dir / tenant_id / name / f"v{version}" / "windows.parquet"

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

    # --- online store ---------------------------------------------------------------------

    def materialize(
        self,
        tenant_id: str,
        name: str,
        version_number: int,
        mode: str,
        job_id: str,
        on_stage: Callable[[str], None],
    ) -> Materialization:
        """Load the version's features into the tenant's online store as of now: the source is
        exported again (the version's fitted statistics), the window aggregates are computed at
        now over each entity's rows in (now - days, now] (a Feast view `<view>_windows` of their
        own), and Feast materialises the latest row per entity. `on_stage` is called before each
        of MATERIALIZATION_STAGES (it raises to stop the job between stages)."""
        version = self.version(tenant_id, name, version_number)
        definition = version.definition
        end = datetime.now(UTC)
        previous = self._store.materialized(tenant_id, name, version_number)
        # Without an earlier one there is nothing to continue from: the first is full.
        incremental = mode == "incremental" and previous is not None
        on_stage("export")
        schema = self._warehouses.describe(tenant_id, definition.source, "source")
        _check_definition(definition, schema)
        self._export_source(tenant_id, version, schema)
        views = [version.feast_feature_view] if _feast_columns(version) else []
        windows = [
            (item.name, feature)
            for feature, item in zip(definition.features, fitted_features(version), strict=True)
            if transforms.is_window(feature)
        ]
        on_stage("windows")
        if windows:
            views.append(self._export_windows(tenant_id, version, windows, end))
        on_stage("materialize")
        try:
            self._feast.call(
                "materialize",
                repo_dir=str(self._repo_dir(tenant_id)),
                project=version.feast_project,
                views=views,
                start=_EPOCH.isoformat(),
                end=end.isoformat(),
                incremental=incremental,
            )
        except FeastRequestError as error:
            raise RuntimeError(f"Feast could not materialise: {error}") from None
        done = Materialization(
            feature_set=name,
            version=version_number,
            mode="incremental" if incremental else "full",
            start=None if incremental else _EPOCH,
            end=end,
            job_id=job_id,
        )
        self._store.set_materialized(tenant_id, name, version_number, done.model_dump_json())
        return done

    def _export_windows(
        self,
        tenant_id: str,
        version: FeatureSetVersion,
        windows: list[tuple[str, FeatureSpec]],
        at: datetime,
    ) -> str:
        """Every entity's window aggregates as of `at`, to the Parquet file of the version's
        windows view (registered in Feast here; its rows' timestamp is `at`). Returns the
        view's name."""
        definition = version.definition
        keys = definition.entity.join_keys
        projection = ", ".join(sql.quote(key) for key in keys)

        def distinct_keys(connection: duckdb.DuckDBPyConnection, select: str) -> pa.Table:
            return connection.sql(
                f"SELECT DISTINCT {projection} FROM {sql.wrap(select)} ORDER BY {projection}"
            ).to_arrow_table()

        entities = self._warehouses.read(tenant_id, definition.source, "source", distinct_keys)
        when = pa.array([at.replace(tzinfo=None)] * entities.num_rows, pa.timestamp("us"))
        keyed = pa.table(
            {
                **{key: entities.column(key) for key in keys},
                _ROW_COLUMN: pa.array(range(entities.num_rows), pa.int64()),
                FEAST_EVENT_TIMESTAMP: when,
            }
        )
        aggregated = self._windows(tenant_id, version, keyed, windows)
        table = keyed.drop_columns([_ROW_COLUMN])
        for output, _ in windows:
            table = table.append_column(output, aggregated.column(output))
        path = self._windows_path(tenant_id, version.name, version.version)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}.partial")
        pq.write_table(table, partial)
        partial.replace(path)
        view = f"{version.feast_feature_view}{_WINDOWS_SUFFIX}"
        try:
            self._feast.call(
                "apply",
                repo_dir=str(self._repo_dir(tenant_id)),
                project=version.feast_project,
                view=view,
                source_path=str(path),
                timestamp_column=FEAST_EVENT_TIMESTAMP,
                join_keys=keys,
                features=[output for output, _ in windows],
            )
        except FeastRequestError as error:
            raise RuntimeError(f"Feast refused the window aggregates' view: {error}") from None
        return view

    def materialization(
        self, tenant_id: str, name: str, version_number: int
    ) -> Materialization | None:
        """The version's latest completed materialisation (None: never materialised)."""
        body = self._store.materialized(tenant_id, name, version_number)
        return Materialization.model_validate_json(body) if body else None

    def online(self, tenant_id: str, request: OnlineFeaturesRequest) -> OnlineFeaturesResponse:
        """Feast's `get_online_features` in the tenant's project. Each reference must name a
        materialised version of one of the tenant's feature sets and one of its output columns
        (422 naming `features[i]`, 409 for a version never materialised); the entities must
        give every join key of those versions, and only those (422 naming `entities`)."""
        refs: list[str] = []
        join_keys: set[str] = set()
        names: dict[str, FeatureSetVersion] = {}
        for index, reference in enumerate(request.features):
            field = f"features[{index}]"
            version, column = self._reference(tenant_id, reference, field, names)
            if self.materialization(tenant_id, version.name, version.version) is None:
                raise ConflictError(
                    f"{field}: feature set {version.name!r} version {version.version} has not "
                    f"been materialised; POST /api/v1/features/sets/{version.name}/versions/"
                    f"{version.version}/materialize first"
                )
            windowed = column not in _feast_columns(version)
            view = version.feast_feature_view + (_WINDOWS_SUFFIX if windowed else "")
            refs.append(f"{view}:{column}")
            join_keys.update(version.definition.entity.join_keys)
        self._check_entities(request.entities, join_keys)
        answer = self._feast_online(
            tenant_id, next(iter(names.values())).feast_project, refs, request.entities
        )
        return OnlineFeaturesResponse.model_validate(answer)

    def _reference(
        self,
        tenant_id: str,
        reference: str,
        field: str,
        names: dict[str, FeatureSetVersion],
    ) -> tuple[FeatureSetVersion, str]:
        view, separator, column = reference.partition(":")
        set_name, marker, number = view.rpartition("_v")
        if not separator or not marker or not _VERSION.fullmatch(number) or not column:
            raise InvalidFieldError(
                field, "must read `<feature set>_v<version>:<feature>`, e.g. customer_v1:tenure"
            )
        if view not in names:
            try:
                names[view] = self.version(tenant_id, set_name, int(number))
            except NotFoundError as error:
                raise InvalidFieldError(field, error.detail) from None
        version = names[view]
        outputs = [output for item in fitted_features(version) for output in item.columns]
        if column not in outputs:
            raise InvalidFieldError(
                field,
                f"version {version.version} of {version.name!r} has no feature {column!r}; it "
                f"has: {', '.join(outputs)}",
            )
        return version, column

    @staticmethod
    def _check_entities(entities: dict[str, list], join_keys: set[str]) -> None:
        missing = sorted(join_keys - entities.keys())
        if missing:
            raise InvalidFieldError("entities", f"needs the join key(s) {', '.join(missing)}")
        extra = sorted(entities.keys() - join_keys)
        if extra:
            raise InvalidFieldError(
                f"entities.{extra[0]}", "is not a join key of the feature sets asked for"
            )
        lengths = {len(values) for values in entities.values()}
        if len(lengths) != 1 or not 1 <= lengths.pop() <= ONLINE_MAX_ENTITIES:
            raise InvalidFieldError(
                "entities",
                f"every join key needs the same number of values (1 to {ONLINE_MAX_ENTITIES})",
            )

    def _feast_online(
        self, tenant_id: str, project: str, refs: list[str], entities: dict[str, list]
    ) -> dict:
        """`project`: the versions' own (`FeatureSetVersion.feast_project`), as they were
        applied and materialised under it."""
        try:
            return self._feast.call(
                "online",
                repo_dir=str(self._repo_dir(tenant_id)),
                project=project,
                features=refs,
                entities=entities,
            )["response"]
        except FeastRequestError as error:
            raise InvalidFieldError("features", f"Feast could not look them up: {error}") from None

    def entity_records(
        self,
        tenant_id: str,
        name: str,
        version_number: int,
        columns: list[str],
        entities: dict[str, list],
    ) -> tuple[list[dict], list[int]]:
        """A model's input rows looked up online: for each entity, `columns` (the model's
        features, outputs of the version) from the version's online values. Returns the rows
        and the indexes of the entities the online store has no value for. 409 when the
        version was never materialised; 422 naming `entities` for wrong join keys."""
        version = self.version(tenant_id, name, version_number)
        if self.materialization(tenant_id, name, version_number) is None:
            raise ConflictError(
                f"the model's feature set {name!r} version {version_number} has not been "
                f"materialised; POST /api/v1/features/sets/{name}/versions/{version_number}/"
                "materialize first"
            )
        served = _feast_columns(version)
        outputs = [output for item in fitted_features(version) for output in item.columns]
        foreign = [column for column in columns if column not in outputs]
        if foreign:
            raise InvalidFieldError(
                "entities",
                f"the model also takes {', '.join(foreign)}, which feature set {name!r} version "
                f"{version_number} does not serve; send `instances` with every feature instead",
            )
        self._check_entities(entities, set(version.definition.entity.join_keys))
        view = version.feast_feature_view
        refs = [
            f"{view}{'' if column in served else _WINDOWS_SUFFIX}:{column}" for column in columns
        ]
        answer = self._feast_online(tenant_id, version.feast_project, refs, entities)
        vectors = dict(
            zip(answer["metadata"]["feature_names"], answer["results"], strict=True)
        )
        count = len(next(iter(entities.values())))
        rows = [{column: vectors[column]["values"][index] for column in columns}
                for index in range(count)]  # fmt: skip
        missing = [
            index
            for index in range(count)
            if all(vectors[column]["statuses"][index] == "NOT_FOUND" for column in columns)
        ]
        return rows, missing
