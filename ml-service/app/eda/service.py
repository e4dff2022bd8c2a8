"""Profiles of a tenant's tables and queries: computed in its warehouse, stored, listed.

The work runs on the tenant's read-only DuckDB connection through `WarehouseManager.read`, so the
SELECT is checked exactly as for training and the rows stay in DuckDB: only aggregates (and, with
`time_column`, one downsampled series per numeric column) reach this process.
"""

import asyncio
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import numpy as np

from app.charts.core import MEDIA_TYPES, PNG, chart_title, render_png
from app.datasets import sql
from app.datasets.schemas import DatasetSource
from app.datasets.warehouse import WarehouseManager
from app.eda.alerts import profile_alerts, series_alerts
from app.eda.charts import CHART_NAME, comparison_charts, profile_charts
from app.eda.compare import THRESHOLDS, compare_sources
from app.eda.report import render_report
from app.eda.schemas import (
    Alert,
    Association,
    AssociationMeasure,
    CompareRequest,
    Comparison,
    ComparisonList,
    ComparisonSummary,
    CorrelationMatrix,
    Profile,
    ProfileChart,
    ProfileChartList,
    ProfileList,
    ProfileRequest,
    ProfileSummary,
    TargetAnalysis,
    TargetByFeature,
    TargetPoint,
    ValueCount,
)
from app.eda.stats import (
    TABLE_STAGES,
    TableStats,
    describe_columns,
    imbalance_score,
    table_stats,
)
from app.eda.store import EdaStore
from app.errors import BadRequestError, InvalidFieldError, NotFoundError
from app.jobs.runner import JobContext, JobHandler, JobOutcome, JobRunner
from app.jobs.store import JobRecord
from app.training.limits import LimitsFor

logger = logging.getLogger(__name__)

PROFILE_ID_PREFIX = "prof-"
PROFILING_KIND = "profiling"
# A profile's progress stages: the passes over the data, then the checks drawn from them.
PROFILE_STAGES = (*TABLE_STAGES, "series and target checks", "alerts and storing")
COMPARISON_ID_PREFIX = "cmp-"
# The series tests see at most this many evenly spaced points of each column: ADF and the
# autocorrelation are about shape, and their cost grows with length.
MAX_SERIES_POINTS = 5000
# Target-by-feature views: for this many of the most associated features, in this many bins.
TARGET_BY_FEATURES = 5
TARGET_BINS = 10


def new_profile_id() -> str:
    return f"{PROFILE_ID_PREFIX}{secrets.token_hex(6)}"


def _lookup(matrix: CorrelationMatrix | None, a: str, b: str) -> float | None:
    if matrix is None:
        return None
    for rows, columns, x, y in (
        (matrix.rows, matrix.columns, a, b),
        (matrix.rows, matrix.columns, b, a),
    ):
        if x in rows and y in columns:
            return matrix.values[rows.index(x)][columns.index(y)]
    return None


def target_analysis(stats: TableStats, target: str) -> TargetAnalysis:
    """The target's class balance (categorical/boolean targets) and each feature's association
    with it: |Pearson r| between numbers, Cramér's V between categories, the correlation ratio η
    across the two; features of other kinds (text, identifiers, dates) have none."""
    column = next(c for c in stats.columns if c.name == target)
    correlations = stats.correlations
    associations = []
    for other in stats.columns:
        if other.name == target:
            continue
        measure: AssociationMeasure
        value = _lookup(correlations.pearson, target, other.name)
        measure = "pearson"
        if value is not None:
            value = abs(value)
        else:
            value, measure = _lookup(correlations.cramers_v, target, other.name), "cramers_v"
        if value is None:
            value = _lookup(correlations.correlation_ratio, target, other.name)
            measure = "correlation_ratio"
        if value is not None:
            associations.append(Association(column=other.name, measure=measure, value=value))
    associations.sort(key=lambda association: -(association.value or 0.0))
    balance = None
    imbalance = None
    if column.kind in {"categorical", "boolean"} and target in stats.value_counts:
        pairs = stats.value_counts[target]
        balance = [
            ValueCount(
                value=key if isinstance(key, bool | str) else float(key),
                count=n,
                percent=100.0 * n / column.count if column.count else 0.0,
            )
            for key, n in pairs
        ]
        imbalance = imbalance_score([n for _, n in pairs])
    return TargetAnalysis(
        column=target,
        kind=column.kind,
        class_balance=balance,
        imbalance=imbalance,
        associations=associations,
    )


def _target_by_feature(
    connection: duckdb.DuckDBPyConnection, source: str, stats: TableStats, target: TargetAnalysis
) -> list[TargetByFeature]:
    """The target per category or per bin of its TARGET_BY_FEATURES most associated features,
    one small GROUP BY each."""
    columns = {column.name: column for column in stats.columns}
    categorical_target = target.class_balance is not None
    target_quoted = sql.quote(target.column)
    views = []
    for association in target.associations[:TARGET_BY_FEATURES]:
        feature = columns[association.column]
        quoted = sql.quote(feature.name)
        histogram = feature.numeric.histogram if feature.numeric is not None else None
        if feature.kind == "numeric" and histogram is not None:
            low, high = histogram.edges[0], histogram.edges[-1]
            width = (high - low) / TARGET_BINS
            group = (
                f"{low!r} + {width!r} * least(CAST(floor((CAST({quoted} AS DOUBLE) - {low!r}) / "
                f"{width!r}) AS INTEGER), {TARGET_BINS - 1})"
            )
            where = f"isfinite(CAST({quoted} AS DOUBLE))"
            grouping = f"bins of {feature.name}"
        else:
            group, where, grouping = quoted, "true", f"values of {feature.name}"
        if categorical_target:
            rows = connection.execute(
                f"SELECT g, t, n, sum(n) OVER (PARTITION BY g) AS total FROM (SELECT {group} AS g, "
                f"{target_quoted} AS t, count(*) AS n FROM {source} WHERE {quoted} IS NOT NULL "
                f"AND {target_quoted} IS NOT NULL AND {where} GROUP BY ALL) "
                f"ORDER BY total DESC, g, t LIMIT 400"
            ).fetchall()
            points = [
                TargetPoint(
                    feature_value=_wire(g), target_value=_wire(t), value=100.0 * n / total,
                    rows=int(total),
                )
                for g, t, n, total in rows
            ]  # fmt: skip
            measure, what = "percent of group", f"share of each class of {target.column}"
        else:
            rows = connection.execute(
                f"SELECT {group} AS g, avg(CAST({target_quoted} AS DOUBLE)), count(*) AS n "
                f"FROM {source} WHERE {quoted} IS NOT NULL AND {target_quoted} IS NOT NULL AND "
                f"{where} GROUP BY ALL ORDER BY n DESC, g LIMIT 20"
            ).fetchall()
            points = [
                TargetPoint(feature_value=_wire(g), target_value=None, value=mean, rows=int(n))
                for g, mean, n in rows
            ]
            measure, what = "mean of target", f"mean of {target.column}"
        if feature.kind == "numeric":
            points.sort(key=lambda point: float(point.feature_value or 0))  # type: ignore[arg-type]
        views.append(
            TargetByFeature(
                column=feature.name,
                measure=measure,
                description=f"{what} in {grouping}",
                points=points,
            )
        )
    return views


def _wire(value: object) -> str | float | bool | None:
    if value is None or isinstance(value, bool | str | float):
        return value
    if isinstance(value, int):
        return float(value)
    return str(value)


def _series_alerts(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    stats: TableStats,
    time_column: str,
    request: ProfileRequest,
) -> list[Alert]:
    alerts: list[Alert] = []
    time_quoted = sql.quote(time_column)
    for column in stats.columns:
        if column.kind != "numeric" or column.name == time_column or column.count == 0:
            continue
        step = max(1, -(-column.count // MAX_SERIES_POINTS))
        quoted = sql.quote(column.name)
        rows = connection.execute(
            f"SELECT v FROM (SELECT CAST({quoted} AS DOUBLE) AS v, row_number() OVER "
            f"(ORDER BY {time_quoted}) AS position FROM {source} WHERE {quoted} IS NOT NULL AND "
            f"{time_quoted} IS NOT NULL) WHERE (position - 1) % {step} = 0 ORDER BY position"
        ).fetchnumpy()
        alerts.extend(
            series_alerts(column.name, np.asarray(rows["v"], dtype=float), request.thresholds)
        )
    return alerts


class EdaService:
    """Profiles (and their store) of every tenant."""

    def __init__(self, warehouses: WarehouseManager, store: EdaStore) -> None:
        self._warehouses = warehouses
        self._store = store

    def cells(self, tenant_id: str, request: ProfileRequest) -> int:
        """Rows x columns the profile would read (the sample's rows when one is asked for): one
        `count(*)` in DuckDB. 422 naming `dataset.query`/`dataset.table` for a bad source."""

        def count(connection: duckdb.DuckDBPyConnection, select: str) -> int:
            source = sql.wrap(select)
            row = connection.execute(f"SELECT count(*) FROM {source}").fetchone()
            rows = int(row[0]) if row else 0
            if request.sample is not None:
                rows = min(rows, request.sample.rows)
            return rows * len(describe_columns(connection, source))

        return self._warehouses.read(tenant_id, request.dataset, "dataset", count)

    def target_association(
        self, tenant_id: str, dataset: DatasetSource, target_column: str, columns: list[str]
    ) -> TargetAnalysis:
        """The profiler's target analysis (`target_analysis`: |Pearson r|, Cramér's V or η of
        each of `columns` with `target_column`) on `dataset`, read now and stored nowhere: a
        view for another concern (the feature importance answer), not a profile. 422 naming
        `target_column` or `columns` for a column the data does not have."""

        def work(connection: duckdb.DuckDBPyConnection, select: str) -> TargetAnalysis:
            source = sql.wrap(select)
            names = {name for name, _ in describe_columns(connection, source)}
            if target_column not in names:
                raise InvalidFieldError(
                    "target_column", f"the data has no column {target_column!r}"
                )
            missing = [column for column in columns if column not in names]
            if missing:
                raise InvalidFieldError("columns", f"the data has no column {missing[0]!r}")
            projection = ", ".join(sql.quote(column) for column in [*columns, target_column])
            # Materialised once, as a profile does: every pass reads the same rows in order.
            rows_table = sql.quote(f"eda_rows_{uuid.uuid4().hex}")
            connection.execute(
                f"CREATE TEMP TABLE {rows_table} AS SELECT {projection} FROM {source}"
            )
            try:
                stats = table_stats(connection, rows_table, 10, 10)
                return target_analysis(stats, target_column)
            finally:
                connection.execute(f"DROP TABLE IF EXISTS {rows_table}")

        return self._warehouses.read(tenant_id, dataset, "dataset", work)

    def profile(
        self,
        tenant_id: str,
        request: ProfileRequest,
        on_stage: Callable[[str], None] | None = None,
    ) -> Profile:
        """Profile the request's dataset now, store the profile and return it. `on_stage(name)`
        is called before each of `PROFILE_STAGES` and may raise to stop between them.

        422 naming `dataset.query`/`dataset.table` for a bad source, `target_column` or
        `time_column` for a column the data does not have."""
        stage = on_stage or (lambda name: None)
        started = time.monotonic()
        created_at = datetime.now(UTC)
        sampled = False

        def work(
            connection: duckdb.DuckDBPyConnection, select: str
        ) -> tuple[TableStats, TargetAnalysis | None, list[Alert]]:
            nonlocal sampled
            source = sql.wrap(select)
            names = [name for name, _ in describe_columns(connection, source)]
            for field, column in (
                ("target_column", request.target_column),
                ("time_column", request.time_column),
            ):
                if column is not None and column not in names:
                    raise InvalidFieldError(field, f"the data has no column {column!r}")
            rows_table = None
            sampling = ""
            if request.sample is not None:
                counted = connection.execute(f"SELECT count(*) FROM {source}").fetchone()
                if counted is not None and counted[0] > request.sample.rows:
                    repeatable = (
                        f" REPEATABLE ({request.sample.random_state})"
                        if request.sample.random_state is not None
                        else ""
                    )
                    sampling = f" USING SAMPLE reservoir({request.sample.rows} ROWS){repeatable}"
                    sampled = True
            if sampling or request.dataset.source == "sql":
                # Materialised once: every pass reads the same rows in the same order (the
                # profile lines columns up row by row), and the query runs once, not per pass.
                rows_table = sql.quote(f"eda_rows_{uuid.uuid4().hex}")
                connection.execute(
                    f"CREATE TEMP TABLE {rows_table} AS SELECT * FROM {source}{sampling}"
                )
                source = rows_table
            try:
                stats = table_stats(
                    connection,
                    source,
                    request.bins,
                    request.top_values,
                    stage,
                    request.correlations,
                )
                stage(PROFILE_STAGES[-2])
                extra: list[Alert] = []
                if request.time_column is not None:
                    extra = _series_alerts(connection, source, stats, request.time_column, request)
                target = None
                if request.target_column is not None:
                    target = target_analysis(stats, request.target_column)
                    target.by_feature = _target_by_feature(connection, source, stats, target)
                return stats, target, extra
            finally:
                if rows_table is not None:
                    connection.execute(f"DROP TABLE IF EXISTS {rows_table}")

        stats, target, extra = self._warehouses.read(tenant_id, request.dataset, "dataset", work)
        stage(PROFILE_STAGES[-1])
        alerts = [
            alert
            for alert in profile_alerts(stats, target, request.thresholds, extra)
            if not (alert.type == "IDENTIFIER" and alert.columns == [request.target_column])
        ]
        profile = Profile(
            profile_id=new_profile_id(),
            created_at=created_at,
            dataset=request.dataset,
            target_column=request.target_column,
            time_column=request.time_column,
            sampled=sampled,
            sample=request.sample,
            duration_seconds=round(time.monotonic() - started, 3),
            table=stats.table,
            columns=stats.columns,
            correlations=stats.correlations,
            target=target,
            alerts=alerts,
            thresholds=request.thresholds,
            missing_blocks=stats.missing_blocks,
        )
        summary = ProfileSummary(
            profile_id=profile.profile_id,
            created_at=created_at,
            dataset=request.dataset,
            target_column=request.target_column,
            sampled=sampled,
            rows=stats.table.rows,
            columns=stats.table.columns,
            alerts=len(alerts),
        )
        self._store.save(
            tenant_id,
            "profile",
            profile.profile_id,
            created_at.isoformat(),
            summary.model_dump_json(),
            profile.model_dump_json(),
        )
        return profile

    def get(self, tenant_id: str, profile_id: str) -> Profile:
        """The tenant's stored profile; 404 for an unknown id or another tenant's."""
        body = self._store.get(tenant_id, "profile", profile_id)
        if body is None:
            raise NotFoundError(f"profile {profile_id} does not exist")
        return Profile.model_validate_json(body)

    def charts(self, tenant_id: str, profile_id: str) -> ProfileChartList:
        """The charts of a stored profile: name, title and the media types each comes in."""
        specs = profile_charts(self.get(tenant_id, profile_id))
        return ProfileChartList(
            profile_id=profile_id,
            charts=[
                ProfileChart(name=name, title=chart_title(spec), media_types=MEDIA_TYPES)
                for name, spec in specs.items()
            ],
        )

    def chart(self, tenant_id: str, profile_id: str, name: str, media_type: str) -> bytes:
        """One chart of a stored profile as a PNG or its Vega-Lite spec (JSON)."""
        if not CHART_NAME.fullmatch(name):
            raise BadRequestError(f"name must match {CHART_NAME.pattern}")
        specs = profile_charts(self.get(tenant_id, profile_id))
        if name not in specs:
            raise NotFoundError(
                f"profile {profile_id} has no chart named {name!r}; it has: "
                f"{', '.join(specs) or 'none'}"
            )
        if media_type == PNG:
            return render_png(specs[name])
        return json.dumps(specs[name], separators=(",", ":")).encode()

    def report(self, tenant_id: str, profile_id: str) -> str:
        """The stored profile as one self-contained HTML page with its charts inline."""
        profile = self.get(tenant_id, profile_id)
        specs = profile_charts(profile)
        pngs = {}
        for name, spec in specs.items():
            try:
                pngs[name] = render_png(spec)
            except Exception:
                # A chart is a view of numbers the page also shows; it must not cost the page.
                logger.warning("rendering chart %s of %s failed", name, profile_id, exc_info=True)
        return render_report(profile, specs, pngs)

    def compare(self, tenant_id: str, request: CompareRequest) -> Comparison:
        """Compare two tables or queries column by column, store the comparison and return it.

        422 naming `reference.*` or `current.*` for a source DuckDB cannot read."""
        created_at = datetime.now(UTC)
        reference_rows, current_rows, columns, skipped = self._warehouses.read_sources(
            tenant_id,
            {"reference": request.reference, "current": request.current},
            lambda connection, selects: compare_sources(
                connection, selects["reference"], selects["current"], request.columns
            ),
        )
        comparison = Comparison(
            comparison_id=f"{COMPARISON_ID_PREFIX}{secrets.token_hex(6)}",
            created_at=created_at,
            reference=request.reference,
            current=request.current,
            reference_rows=reference_rows,
            current_rows=current_rows,
            thresholds=THRESHOLDS,
            drifted_columns=[column.column for column in columns if column.drifted],
            columns=columns,
            skipped=skipped,
            charts=[],
        )
        comparison.charts = list(comparison_charts(comparison))
        summary = ComparisonSummary(
            comparison_id=comparison.comparison_id,
            created_at=created_at,
            reference=request.reference,
            current=request.current,
            drifted_columns=comparison.drifted_columns,
        )
        self._store.save(
            tenant_id,
            "comparison",
            comparison.comparison_id,
            created_at.isoformat(),
            summary.model_dump_json(),
            comparison.model_dump_json(),
        )
        return comparison

    def get_comparison(self, tenant_id: str, comparison_id: str) -> Comparison:
        """The tenant's stored comparison; 404 for an unknown id or another tenant's."""
        body = self._store.get(tenant_id, "comparison", comparison_id)
        if body is None:
            raise NotFoundError(f"comparison {comparison_id} does not exist")
        return Comparison.model_validate_json(body)

    def list_comparisons(self, tenant_id: str, limit: int) -> ComparisonList:
        """The tenant's comparisons, newest first."""
        return ComparisonList(
            comparisons=[
                ComparisonSummary.model_validate(json.loads(summary))
                for summary in self._store.list(tenant_id, "comparison", limit)
            ]
        )

    def comparison_chart(
        self, tenant_id: str, comparison_id: str, name: str, media_type: str
    ) -> bytes:
        """One chart of a stored comparison as a PNG or its Vega-Lite spec (JSON)."""
        if not CHART_NAME.fullmatch(name):
            raise BadRequestError(f"name must match {CHART_NAME.pattern}")
        specs = comparison_charts(self.get_comparison(tenant_id, comparison_id))
        if name not in specs:
            raise NotFoundError(
                f"comparison {comparison_id} has no chart named {name!r}; it has: "
                f"{', '.join(specs) or 'none'}"
            )
        if media_type == PNG:
            return render_png(specs[name])
        return json.dumps(specs[name], separators=(",", ":")).encode()

    def list(self, tenant_id: str, limit: int) -> ProfileList:
        """The tenant's profiles, newest first."""
        return ProfileList(
            profiles=[
                ProfileSummary.model_validate(json.loads(summary))
                for summary in self._store.list(tenant_id, "profile", limit)
            ]
        )


def _dataset_name(request: ProfileRequest) -> str:
    """The job's name: the profiled table, or `query` for a SQL source."""
    return request.dataset.table or "query"


class ProfilingCancelledError(Exception):
    """The job was cancelled; raised between two passes of the profile."""


class ProfilingHandler(JobHandler):
    """A large profile as a job: the passes run on the warehouse's pool (its tenant bound and
    statement time limits apply), each reported as a progress stage."""

    kind = PROFILING_KIND
    id_prefix = "profile"
    uses_compute = True
    label = "profiling"
    # A profile fails on the user's data or query (a bad column, a time-out): shown as it is.
    readable_errors = (Exception,)

    def __init__(self, eda: "EdaService", warehouses: WarehouseManager) -> None:
        self._eda = eda
        self._warehouses = warehouses

    async def run(self, job: JobRecord, context: JobContext) -> JobOutcome:
        request = ProfileRequest.model_validate(job.spec)
        stop = threading.Event()
        total = len(PROFILE_STAGES)

        def on_stage(name: str) -> None:
            if stop.is_set():
                raise ProfilingCancelledError(job.job_id)
            context.report_progress_threadsafe(
                {"stage": name, "stages_done": PROFILE_STAGES.index(name), "stages_total": total}
            )

        work = asyncio.ensure_future(
            self._warehouses.offload(self._eda.profile, job.tenant_id, request, on_stage)
        )
        try:
            # Shielded: on cancel the passes stop at the next stage and are awaited, so a
            # cancelled job never stores a profile afterwards.
            profile = await asyncio.shield(work)
        except asyncio.CancelledError:
            stop.set()
            await asyncio.wait({work})
            if not work.cancelled():
                work.exception()  # the passes' ProfilingCancelledError, expected: retrieved
            raise
        finally:
            # A large profile has read every block of the table once: the memory it leaves in
            # DuckDB's buffer pool and the heap goes back (bench/eda measures it).
            if work.done():
                await self._warehouses.offload(self._warehouses.release, job.tenant_id)
        return JobOutcome(
            result={"profile_id": profile.profile_id, "alerts": len(profile.alerts)},
            progress={"stage": "done", "stages_done": total, "stages_total": total},
        )


class ProfileJobs:
    """Profiles too large for a request, as `profiling` jobs (ProfilingHandler runs them)."""

    def __init__(
        self,
        runner: JobRunner,
        eda: EdaService,
        warehouses: WarehouseManager,
        limits_for: LimitsFor,
        sync_max_cells: int,
    ) -> None:
        self.jobs = runner.of_kind(PROFILING_KIND)
        self._eda = eda
        self._warehouses = warehouses
        self._limits_for = limits_for
        self._sync_max_cells = sync_max_cells

    async def runs_as_job(
        self, tenant_id: str, request: ProfileRequest, respond_async: bool
    ) -> bool:
        """Whether this profile is a job rather than an answer in the request: when the caller
        asks (`Prefer: respond-async`, RFC 7240) or it reads more cells than
        MLS_EDA_SYNC_MAX_CELLS (such a request would outlive the AI Service's per-call
        timeout). Counting is skipped when the caller asked."""
        if respond_async:
            return True
        cells = await self._warehouses.offload(self._eda.cells, tenant_id, request)
        return cells > self._sync_max_cells

    async def submit(self, tenant_id: str, request: ProfileRequest) -> JobRecord:
        """Queue the profile: it counts in the tenant's active-job quota (429 over it), reports
        each of `PROFILE_STAGES` as progress, and its result holds the stored `profile_id`."""
        limits = self._limits_for(tenant_id)
        body = request.model_dump(mode="json")
        record, _ = await self.jobs.submit(
            tenant_id, _dataset_name(request), body, None, limits.max_concurrent_jobs, body
        )
        return record
