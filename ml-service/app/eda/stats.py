"""Column and dataset statistics computed inside DuckDB, in a few wide aggregate queries.

Nothing here fetches rows: every query aggregates (one pass for the per-column statistics, one for
histograms and value counts, one for duplicates, one per correlation family), and only the
aggregates reach Python. Definitions follow pandas so the numbers can be checked against it:
sample std/variance (ddof 1) and the other moments over finite values (±inf would make them
infinite or undefined), `quantile_cont` = pandas' linear interpolation, DuckDB's
`skewness`/`kurtosis` = pandas' bias-corrected `skew`/`kurt` (adjusted Fisher-Pearson, excess
kurtosis). NaN is missing, as in pandas.
"""

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np
from scipy import stats as scipy_stats

from app.datasets import sql
from app.eda.schemas import (
    CategoryStats,
    ColumnProfile,
    CorrelationMatrix,
    Correlations,
    DatasetStats,
    DatetimeStats,
    Histogram,
    MissingBlocks,
    NumericStats,
    ProfileKind,
    TextStats,
    TimeHistogram,
    ValueCount,
)

_INTEGER_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
_FLOAT_TYPES = {"FLOAT", "REAL", "DOUBLE"}
_FIXED_WIDTHS = {
    "BOOLEAN": 1, "TINYINT": 1, "UTINYINT": 1, "SMALLINT": 2, "USMALLINT": 2,
    "INTEGER": 4, "UINTEGER": 4, "FLOAT": 4, "REAL": 4, "DATE": 4,
    "BIGINT": 8, "UBIGINT": 8, "DOUBLE": 8, "TIME": 8, "TIMESTAMP": 8,
    "TIMESTAMP WITH TIME ZONE": 8, "TIMESTAMP_S": 8, "TIMESTAMP_MS": 8, "TIMESTAMP_NS": 8,
    "HUGEINT": 16, "UHUGEINT": 16, "UUID": 16, "INTERVAL": 16,
}  # fmt: skip
# ydata-profiling's vars.num.low_categorical_threshold: a number column with this few distinct
# values is a category (0/1 flags, ratings), though its numeric statistics are kept too.
LOW_CATEGORICAL_THRESHOLD = 5
# A text column with more distinct values than this is free text, not a category (as datasets/).
MAX_CATEGORY_COUNT = 1000
# Categorical columns with more categories than this stay out of Cramér's V and the correlation
# ratio: their contingency tables grow with the product of cardinalities (ydata's
# categorical_maximum_correlation_distinct is 100).
MAX_ASSOCIATION_CATEGORIES = 100
# Column names that say "identifier"; an all-distinct integer column is one only when named so.
_IDENTIFIER_NAME = re.compile(r"(^|_|\b)(id|key|uuid|guid)$|[a-z]Id$|ID$", re.IGNORECASE)
# An all-distinct string this short is a code/identifier rather than free text.
MAX_IDENTIFIER_LENGTH = 64
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MISSING_BLOCKS = 100


@dataclass
class _Column:
    name: str
    type: str
    base: str = field(init=False)

    def __post_init__(self) -> None:
        self.base = self.type.upper()

    @property
    def is_number(self) -> bool:
        return (
            self.base in _INTEGER_TYPES
            or self.base in _FLOAT_TYPES
            or self.base.startswith("DECIMAL")
        )

    @property
    def is_datetime(self) -> bool:
        return self.base in {"DATE"} or self.base.startswith("TIMESTAMP")

    @property
    def is_text(self) -> bool:
        return self.base == "VARCHAR" or self.base.startswith("ENUM")

    @property
    def supported(self) -> bool:
        return self.is_number or self.is_datetime or self.is_text or self.base == "BOOLEAN"

    @property
    def value(self) -> str:
        """The column as an expression where NaN is NULL (pandas' missing) and numbers are
        DOUBLE (no overflow in sums of BIGINTs)."""
        quoted = sql.quote(self.name)
        if self.base in _FLOAT_TYPES:
            return f"nullif(CAST({quoted} AS DOUBLE), 'NaN'::DOUBLE)"
        if self.is_number:
            return f"CAST({quoted} AS DOUBLE)"
        return quoted


@dataclass
class TableStats:
    """Everything the profile says about a table, before alerts."""

    rows: int
    columns: list[ColumnProfile]
    table: DatasetStats
    correlations: Correlations
    missing_blocks: MissingBlocks | None
    # Full value counts of categorical/boolean columns (for target balance and compare).
    value_counts: dict[str, list[tuple[Any, int]]]
    uniform_p_values: dict[str, float]


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _json_value(value: Any) -> str | float | bool | None:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def imbalance_score(counts: Sequence[int]) -> float | None:
    """1 - H(p) / log(k) over the category shares: 0 for a uniform spread, 1 for one category.

    ydata-profiling's `column_imbalance_score` (model/pandas/imbalance_pandas.py); it returns 0
    for a single category, which this keeps."""
    total = sum(counts)
    if total == 0:
        return None
    if len(counts) <= 1:
        return 0.0
    shares = np.asarray(counts, dtype=float) / total
    entropy = float(scipy_stats.entropy(shares, base=2))
    return max(0.0, 1.0 - entropy / math.log2(len(counts)))


def cramers_v(table: np.ndarray) -> float | None:
    """Bias-corrected Cramér's V of a contingency table (Bergsma 2013, "A bias-correction for
    Cramér's V and Tschuprow's T", J. Korean Stat. Soc. 42(3)); the estimator ydata-profiling
    uses (`cramers_corrected_stat`), with the chi-square statistic uncorrected for continuity.
    None when a side has fewer than two categories."""
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    rows, columns = table.shape
    n = table.sum()
    if rows < 2 or columns < 2 or n < 2:
        return None
    chi2 = scipy_stats.chi2_contingency(table, correction=False)[0]
    phi2 = chi2 / n
    phi2_corrected = max(0.0, phi2 - (columns - 1) * (rows - 1) / (n - 1))
    rows_corrected = rows - (rows - 1) ** 2 / (n - 1)
    columns_corrected = columns - (columns - 1) ** 2 / (n - 1)
    denominator = min(columns_corrected - 1, rows_corrected - 1)
    if denominator <= 0:
        return None
    return float(min(1.0, math.sqrt(phi2_corrected / denominator)))


def _identifier_like(
    column: _Column, distinct: int, count: int, rows: int, max_length: Any
) -> bool:
    """All values present and distinct, and either named like an identifier or a short string
    (a code). Integers need the name: an all-distinct integer measure is common in small data."""
    if rows < 2 or count != rows or distinct != rows:
        return False
    if _IDENTIFIER_NAME.search(column.name):
        return column.base in _INTEGER_TYPES or column.is_text
    return column.is_text and max_length is not None and max_length <= MAX_IDENTIFIER_LENGTH


def _kind(column: _Column, distinct: int, count: int, rows: int, max_length: Any) -> ProfileKind:
    if not column.supported:
        return "unsupported"
    if column.base == "BOOLEAN":
        return "boolean"
    if column.is_datetime:
        return "datetime"
    if _identifier_like(column, distinct, count, rows, max_length):
        return "identifier"
    if column.is_number:
        return "categorical" if 0 < distinct <= LOW_CATEGORICAL_THRESHOLD else "numeric"
    if distinct <= MAX_CATEGORY_COUNT and distinct <= max(1, count // 2):
        return "categorical"
    return "text"


class _Query:
    """Collects aggregate expressions and hands back each one's value by key after one query."""

    def __init__(self) -> None:
        self.expressions: list[str] = []
        self.keys: list[tuple[str, str]] = []

    def add(self, column: str, key: str, expression: str) -> None:
        self.keys.append((column, key))
        self.expressions.append(expression)

    def run(self, connection: duckdb.DuckDBPyConnection, source: str) -> dict[tuple[str, str], Any]:
        if not self.expressions:
            return {}
        row = connection.execute(f"SELECT {', '.join(self.expressions)} FROM {source}").fetchone()
        assert row is not None
        return dict(zip(self.keys, row, strict=True))


def describe_columns(connection: duckdb.DuckDBPyConnection, source: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of `source` (a FROM item)."""
    return [
        (row[0], row[1])
        for row in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    ]


# The passes of `table_stats`, in order: a profiling job reports them as its progress stages.
TABLE_STAGES = (
    "column statistics",
    "value counts and histograms",
    "duplicate rows",
    "correlations",
    "missing values",
)


def _no_stages(stage: str) -> None:
    """`table_stats` called without a progress callback."""


def table_stats(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    bins: int,
    top_values: int,
    on_stage: Callable[[str], None] = _no_stages,
) -> TableStats:
    """Profile `source` (a FROM item: `(SELECT …) AS dataset` or a temp table).

    `on_stage(name)` is called before each pass of `TABLE_STAGES`; it may raise to stop the
    profile between passes (a cancelled job)."""
    columns = [_Column(name, type_) for name, type_ in describe_columns(connection, source)]
    on_stage(TABLE_STAGES[0])

    # Pass 1: counts, distinct counts, moments, quantiles, lengths, ranges, in one scan.
    first = _Query()
    first.add("", "rows", "count(*)")
    quantile_list = ", ".join(str(q) for q in QUANTILES)
    for column in columns:
        value, name = column.value, column.name
        first.add(name, "count", f"count({value})")
        if not column.supported:
            first.add(
                name, "bytes", f"coalesce(sum(strlen(CAST({sql.quote(name)} AS VARCHAR))), 0)"
            )
            continue
        first.add(name, "distinct", f"count(DISTINCT {value})")
        if column.is_number:
            finite = f"CASE WHEN isfinite({value}) THEN {value} END"
            first.add(name, "min", f"min({value})")
            first.add(name, "max", f"max({value})")
            first.add(name, "mean", f"avg({finite})")
            first.add(name, "std", f"stddev_samp({finite})")
            first.add(name, "variance", f"var_samp({finite})")
            first.add(name, "quantiles", f"quantile_cont({value}, [{quantile_list}])")
            first.add(name, "skewness", f"skewness({finite})")
            first.add(name, "kurtosis", f"kurtosis({finite})")
            first.add(name, "sum", f"sum({finite})")
            first.add(name, "zeros", f"count_if({value} = 0)")
            first.add(name, "negatives", f"count_if({value} < 0)")
            first.add(name, "infinite", f"count_if(isinf({value}))")
            first.add(name, "finite_min", f"min({finite})")
            first.add(name, "finite_max", f"max({finite})")
        elif column.is_datetime:
            first.add(name, "min", f"min({value})")
            first.add(name, "max", f"max({value})")
            first.add(name, "epoch_min", f"min(epoch({value}))")
            first.add(name, "epoch_max", f"max(epoch({value}))")
        elif column.is_text:
            length = f"length(CAST({value} AS VARCHAR))"
            first.add(name, "min_length", f"min({length})")
            first.add(name, "max_length", f"max({length})")
            first.add(name, "mean_length", f"avg({length})")
            first.add(name, "bytes", f"coalesce(sum(strlen(CAST({value} AS VARCHAR))), 0)")
            first.add(
                name,
                "dates",
                f"count(coalesce(try_cast(CAST({value} AS VARCHAR) AS TIMESTAMP), "
                f"try_cast(CAST({value} AS VARCHAR) AS DATE)))",
            )
    one = first.run(connection, source)
    rows = int(one[("", "rows")])

    kinds: dict[str, ProfileKind] = {}
    for column in columns:
        count = int(one[(column.name, "count")])
        distinct = int(one.get((column.name, "distinct"), 0) or 0)
        kinds[column.name] = _kind(
            column, distinct, count, rows, one.get((column.name, "max_length"))
        )

    # Pass 2: histograms and full value counts, one scan.
    second = _Query()
    for column in columns:
        name, value, kind = column.name, column.value, kinds[column.name]
        if column.is_number and kind in {"numeric", "categorical"}:
            low, high = one[(name, "finite_min")], one[(name, "finite_max")]
            if low is not None and high is not None and high > low:
                width = (high - low) / bins
                second.add(
                    name,
                    "histogram",
                    f"histogram(CASE WHEN isfinite({value}) THEN least(CAST(floor(({value} - "
                    f"{low!r}) / {width!r}) AS INTEGER), {bins - 1}) END)",
                )
        if column.is_datetime:
            low, high = one[(name, "epoch_min")], one[(name, "epoch_max")]
            if low is not None and high is not None and high > low:
                width = (high - low) / bins
                second.add(
                    name,
                    "histogram",
                    f"histogram(least(CAST(floor((epoch({value}) - {low!r}) / {width!r}) AS "
                    f"INTEGER), {bins - 1}))",
                )
        if kind in {"categorical", "boolean"}:
            second.add(name, "values", f"histogram({value})")
    on_stage(TABLE_STAGES[1])
    two = second.run(connection, source)

    value_counts: dict[str, list[tuple[Any, int]]] = {}
    for column in columns:
        counted = two.get((column.name, "values"))
        if counted is not None:
            pairs = [(key, int(count)) for key, count in counted.items() if key is not None]
            pairs.sort(key=lambda pair: (-pair[1], str(pair[0])))
            value_counts[column.name] = pairs
    # Free text: its most frequent values, one small GROUP BY each.
    for column in columns:
        if kinds[column.name] == "text":
            quoted = sql.quote(column.name)
            value_counts[column.name] = [
                (key, int(count))
                for key, count in connection.execute(
                    f"SELECT {quoted}, count(*) AS n FROM {source} WHERE {quoted} IS NOT NULL "
                    f"GROUP BY {quoted} ORDER BY n DESC, {quoted} LIMIT {int(top_values)}"
                ).fetchall()
            ]

    on_stage(TABLE_STAGES[2])
    duplicates = _duplicate_rows(connection, source, columns, rows)
    profiles: list[ColumnProfile] = []
    uniform_p_values: dict[str, float] = {}
    missing_cells = 0
    size_bytes = 0
    for column in columns:
        name = column.name
        kind = kinds[name]
        count = int(one[(name, "count")])
        missing = rows - count
        missing_cells += missing
        width = 16 if column.base.startswith("DECIMAL") else _FIXED_WIDTHS.get(column.base)
        size_bytes += rows * width if width else int(one.get((name, "bytes"), 0) or 0)
        distinct = int(one[(name, "distinct")]) if (name, "distinct") in one else None
        profile = ColumnProfile(
            name=name,
            type=column.type,
            kind=kind,
            count=count,
            missing=missing,
            missing_percent=_percent(missing, rows),
            distinct=distinct,
            distinct_percent=_percent(distinct, count) if distinct is not None else None,
        )
        if column.is_number and kind in {"numeric", "categorical"}:
            profile.numeric = _numeric_stats(one, two, name, count, bins)
            if profile.numeric.histogram is not None and kind == "numeric":
                uniform_p_values[name] = _uniform_p_value(profile.numeric.histogram.counts)
        if column.is_datetime:
            profile.datetime = _datetime_stats(one, two, name, bins)
        if column.is_text:
            profile.text = TextStats(
                min_length=one[(name, "min_length")],
                max_length=one[(name, "max_length")],
                mean_length=_finite(one[(name, "mean_length")]),
                parses_as_date=count > 0 and int(one[(name, "dates")]) == count,
            )
        if name in value_counts:
            pairs = value_counts[name]
            top = pairs[:top_values]
            shown = sum(n for _, n in top)
            profile.categories = CategoryStats(
                top=[
                    ValueCount(value=_json_value(key), count=n, percent=_percent(n, count))
                    for key, n in top
                ],
                other_count=count - shown,
                imbalance=imbalance_score([n for _, n in pairs]) if kind != "text" else None,
            )
            if kind == "categorical" and len(pairs) > 1:
                uniform_p_values[name] = float(scipy_stats.chisquare([n for _, n in pairs]).pvalue)
        profiles.append(profile)

    cells = rows * len(columns)
    table = DatasetStats(
        rows=rows,
        columns=len(columns),
        duplicate_rows=duplicates,
        duplicate_rows_percent=_percent(duplicates, rows),
        missing_cells=missing_cells,
        missing_cells_percent=_percent(missing_cells, cells),
        size_bytes=size_bytes,
    )
    on_stage(TABLE_STAGES[3])
    correlations = _correlations(connection, source, columns, kinds, one, value_counts)
    on_stage(TABLE_STAGES[4])
    blocks = _missing_blocks(connection, source, columns, rows) if rows else None
    return TableStats(
        rows=rows,
        columns=profiles,
        table=table,
        correlations=correlations,
        missing_blocks=blocks,
        value_counts=value_counts,
        uniform_p_values=uniform_p_values,
    )


def _uniform_p_value(counts: Sequence[int]) -> float:
    """p-value of the chi-square test of the histogram counts against equal counts, as
    ydata-profiling's `chi_square` does for numeric columns (over its histogram)."""
    if sum(counts) == 0:
        return 0.0
    return float(scipy_stats.chisquare(counts).pvalue)


def _numeric_stats(
    one: dict[tuple[str, str], Any],
    two: dict[tuple[str, str], Any],
    name: str,
    count: int,
    bins: int,
) -> NumericStats:
    quantiles = one[(name, "quantiles")] or [None] * len(QUANTILES)
    p5, p25, median, p75, p95 = (_finite(value) for value in quantiles)
    histogram = None
    counted = two.get((name, "histogram"))
    if counted is not None:
        low, high = float(one[(name, "finite_min")]), float(one[(name, "finite_max")])
        counts = [0] * bins
        for index, n in counted.items():
            if index is not None:
                counts[int(index)] += int(n)
        edges = [low + (high - low) * i / bins for i in range(bins)] + [high]
        histogram = Histogram(edges=edges, counts=counts)
    zeros, negatives, infinite = (
        int(one[(name, key)] or 0) for key in ("zeros", "negatives", "infinite")
    )
    return NumericStats(
        min=_finite(one[(name, "min")]),
        max=_finite(one[(name, "max")]),
        mean=_finite(one[(name, "mean")]),
        std=_finite(one[(name, "std")]),
        variance=_finite(one[(name, "variance")]),
        p5=p5,
        p25=p25,
        median=median,
        p75=p75,
        p95=p95,
        iqr=p75 - p25 if p75 is not None and p25 is not None else None,
        skewness=_finite(one[(name, "skewness")]),
        kurtosis=_finite(one[(name, "kurtosis")]),
        sum=_finite(one[(name, "sum")]),
        zeros=zeros,
        zeros_percent=_percent(zeros, count),
        negatives=negatives,
        negatives_percent=_percent(negatives, count),
        infinite=infinite,
        infinite_percent=_percent(infinite, count),
        histogram=histogram,
    )


def _datetime_stats(
    one: dict[tuple[str, str], Any], two: dict[tuple[str, str], Any], name: str, bins: int
) -> DatetimeStats:
    histogram = None
    counted = two.get((name, "histogram"))
    if counted is not None:
        low, high = float(one[(name, "epoch_min")]), float(one[(name, "epoch_max")])
        counts = [0] * bins
        for index, n in counted.items():
            if index is not None:
                counts[int(index)] += int(n)
        edges = [
            datetime.fromtimestamp(low + (high - low) * i / bins, UTC).isoformat()
            for i in range(bins + 1)
        ]
        histogram = TimeHistogram(edges=edges, counts=counts)
    return DatetimeStats(
        min=_iso(one[(name, "min")]), max=_iso(one[(name, "max")]), histogram=histogram
    )


def _duplicate_rows(
    connection: duckdb.DuckDBPyConnection, source: str, columns: list[_Column], rows: int
) -> int:
    """Rows equal to an earlier row: rows minus distinct rows (pandas' `duplicated().sum()`).
    NaN and NULL compare equal here, as they do in pandas' `duplicated`."""
    if not columns or rows == 0:
        return 0
    row = connection.execute(f"SELECT count(*) FROM (SELECT DISTINCT * FROM {source})").fetchone()
    assert row is not None
    return rows - int(row[0])


def _missing_blocks(
    connection: duckdb.DuckDBPyConnection, source: str, columns: list[_Column], rows: int
) -> MissingBlocks:
    """Missing values per column in up to MISSING_BLOCKS consecutive row blocks, in the order
    the source returns its rows (ydata's missing-values matrix, aggregated)."""
    block_rows = max(1, math.ceil(rows / MISSING_BLOCKS))
    counts = ", ".join(f"count_if({column.value} IS NULL)" for column in columns)
    result = connection.execute(
        f"SELECT block, {counts} FROM (SELECT *, (row_number() OVER () - 1) // {block_rows} AS "
        f"block FROM {source}) GROUP BY block ORDER BY block"
    ).fetchall()
    return MissingBlocks(
        block_rows=block_rows,
        columns=[column.name for column in columns],
        missing=[[int(n) for n in row[1:]] for row in result],
    )


def _matrix(names: Sequence[str], values: dict[tuple[str, str], float | None]) -> CorrelationMatrix:
    grid = [
        [1.0 if a == b else values.get((a, b), values.get((b, a))) for b in names] for a in names
    ]
    return CorrelationMatrix(rows=list(names), columns=list(names), values=grid)


def _correlations(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    columns: list[_Column],
    kinds: dict[str, ProfileKind],
    one: dict[tuple[str, str], Any],
    value_counts: dict[str, list[tuple[Any, int]]],
) -> Correlations:
    by_name = {column.name: column for column in columns}
    numeric = [c.name for c in columns if kinds[c.name] == "numeric"]
    categorical = [
        c.name
        for c in columns
        if kinds[c.name] in {"categorical", "boolean"}
        and 1 < len(value_counts.get(c.name, [])) <= MAX_ASSOCIATION_CATEGORIES
    ]
    pearson = spearman = cramers = ratio = None
    if len(numeric) >= 2:
        pairs = [(a, b) for i, a in enumerate(numeric) for b in numeric[i + 1 :]]
        # Pearson over pairwise-complete rows, as pandas' DataFrame.corr().
        query = ", ".join(f"corr({by_name[a].value}, {by_name[b].value})" for a, b in pairs)
        row = connection.execute(f"SELECT {query} FROM {source}").fetchone()
        assert row is not None
        pearson = _matrix(numeric, {pair: _finite(r) for pair, r in zip(pairs, row, strict=True)})
        # Spearman = Pearson on average ranks (ties share the mean of their ranks). Ranks are
        # taken per column over its non-missing values; pandas ranks each pair's complete rows,
        # which is the same whenever the two columns have no missing values.
        ranks = ", ".join(
            f"CASE WHEN {by_name[n].value} IS NOT NULL THEN rank() OVER (ORDER BY "
            f"{by_name[n].value}) + (count(*) OVER (PARTITION BY {by_name[n].value}) - 1) / 2.0 "
            f"END AS r{i}"
            for i, n in enumerate(numeric)
        )
        index = {n: i for i, n in enumerate(numeric)}
        query = ", ".join(f"corr(r{index[a]}, r{index[b]})" for a, b in pairs)
        row = connection.execute(f"SELECT {query} FROM (SELECT {ranks} FROM {source})").fetchone()
        assert row is not None
        spearman = _matrix(numeric, {pair: _finite(r) for pair, r in zip(pairs, row, strict=True)})
    if len(categorical) >= 2:
        cramers = _matrix(categorical, _cramers_v(connection, source, categorical, by_name))
    if categorical and numeric:
        ratio = _correlation_ratios(connection, source, categorical, numeric, by_name, one)
    return Correlations(
        pearson=pearson, spearman=spearman, cramers_v=cramers, correlation_ratio=ratio
    )


def _cramers_v(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    names: list[str],
    by_name: dict[str, _Column],
) -> dict[tuple[str, str], float | None]:
    """All pairs' contingency tables from one GROUPING SETS scan, then V per pair."""
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    aliases = {name: f"c{i}" for i, name in enumerate(names)}
    select = ", ".join(f"{by_name[n].value} AS {aliases[n]}" for n in names)
    sets = ", ".join(f"({aliases[a]}, {aliases[b]})" for a, b in pairs)
    grouping = ", ".join(f"GROUPING({aliases[n]})" for n in names)
    rows = connection.execute(
        f"SELECT {', '.join(aliases[n] for n in names)}, [{grouping}], count(*) "
        f"FROM (SELECT {select} FROM {source}) GROUP BY GROUPING SETS ({sets})"
    ).fetchall()
    tables: dict[tuple[int, int], dict[tuple[Any, Any], int]] = {}
    for row in rows:
        flags, count = row[len(names)], row[len(names) + 1]
        grouped = [i for i, flag in enumerate(flags) if flag == 0]
        a, b = grouped
        if row[a] is None or row[b] is None:
            continue  # pairwise-complete rows only
        tables.setdefault((a, b), {})[(row[a], row[b])] = int(count)
    result: dict[tuple[str, str], float | None] = {}
    for (a, b), cells in tables.items():
        left = sorted({key[0] for key in cells}, key=str)
        right = sorted({key[1] for key in cells}, key=str)
        matrix = np.zeros((len(left), len(right)))
        li, ri = {v: i for i, v in enumerate(left)}, {v: i for i, v in enumerate(right)}
        for (x, y), n in cells.items():
            matrix[li[x], ri[y]] = n
        result[(names[a], names[b])] = cramers_v(matrix)
    return result


def _correlation_ratios(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    categorical: list[str],
    numeric: list[str],
    by_name: dict[str, _Column],
    one: dict[tuple[str, str], Any],
) -> CorrelationMatrix:
    """η (Pearson's correlation ratio) of each numeric column given each categorical one:
    sqrt(between-group sum of squares / total sum of squares) over rows where both are present.
    Sums are taken around the column's mean (from pass 1) to keep them well conditioned."""
    aliases = {name: f"c{i}" for i, name in enumerate(categorical)}
    select = ", ".join(
        [f"{by_name[n].value} AS {aliases[n]}" for n in categorical]
        + [
            f"CASE WHEN isfinite({by_name[n].value}) THEN {by_name[n].value} - "
            f"{float(_finite(one[(n, 'mean')]) or 0.0)!r} END AS x{j}"
            for j, n in enumerate(numeric)
        ]
    )
    sums = ", ".join(f"count(x{j}), sum(x{j}), sum(x{j} * x{j})" for j in range(len(numeric)))
    grouping = ", ".join(f"GROUPING({aliases[n]})" for n in categorical)
    sets = ", ".join(f"({aliases[n]})" for n in categorical)
    rows = connection.execute(
        f"SELECT {', '.join(aliases[n] for n in categorical)}, [{grouping}], {sums} "
        f"FROM (SELECT {select} FROM {source}) GROUP BY GROUPING SETS ({sets})"
    ).fetchall()
    k = len(categorical)
    # per (categorical, numeric): [n, sum, sum of squares, sum over groups of sum²/n]
    totals = np.zeros((k, len(numeric), 4))
    for row in rows:
        flags = row[k]
        i = next(index for index, flag in enumerate(flags) if flag == 0)
        if row[i] is None:
            continue
        for j in range(len(numeric)):
            n, s, q = row[k + 1 + 3 * j : k + 4 + 3 * j]
            if not n:
                continue
            totals[i, j] += (n, s, q, s * s / n)
    values: list[list[float | None]] = []
    for i in range(k):
        line: list[float | None] = []
        for j in range(len(numeric)):
            n, s, q, between = totals[i, j]
            total_ss = q - s * s / n if n else 0.0
            between_ss = between - s * s / n if n else 0.0
            line.append(
                float(math.sqrt(min(1.0, max(0.0, between_ss / total_ss))))
                if total_ss > 0
                else None
            )
        values.append(line)
    return CorrelationMatrix(rows=categorical, columns=numeric, values=values)
