"""Column and dataset statistics: wide aggregate queries in DuckDB, and one sort per number or
datetime column in NumPy.

DuckDB aggregates what it is fast at (counts, lengths and ranges of text, value counts and
histograms of categories, Pearson's r, contingency tables, missing-value blocks) and only the
aggregates reach Python. Number and datetime columns are fetched one at a time (8 bytes a row)
and sorted once: that sort gives exact distinct counts, quantiles, histograms and Spearman's
ranks far faster than DuckDB's count(DISTINCT), kurtosis and window functions (`_sorted_pass`
says by how much). Definitions follow pandas so the numbers can be checked against it: sample
std/variance (ddof 1) and the other moments over finite values (±inf would make them infinite
or undefined), quantiles by pandas' linear interpolation, bias-corrected `skew`/`kurt`
(adjusted Fisher-Pearson, excess kurtosis). NaN is missing, as in pandas.
"""

import bisect
import math
import re
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np
from scipy import stats as scipy_stats
from threadpoolctl import threadpool_limits

from app.datasets import sql
from app.eda.schemas import (
    CORRELATION_METHODS,
    CategoryStats,
    ColumnProfile,
    CorrelationMatrix,
    CorrelationMethod,
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


# Datetime types whose values are whole microseconds (epoch_us is exact for them).
_MICROSECOND_TYPES = {
    "DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP WITH TIME ZONE",
}  # fmt: skip
# Rows of the first values a text column is tried as dates on before the whole column is.
_DATE_PROBE_ROWS = 1000


def _sort_expression(column: _Column) -> str | None:
    """The column as a DOUBLE (numbers) or int64 epoch (datetimes) expression to sort in NumPy,
    or None where DuckDB's own count(DISTINCT) stays (text, booleans, nanosecond timestamps)."""
    if column.is_number:
        return column.value
    if column.base in _MICROSECOND_TYPES:
        return f"epoch_us({sql.quote(column.name)})"
    if column.base == "TIMESTAMP_NS":
        return f"epoch_ns({sql.quote(column.name)})"
    return None


@dataclass
class _SortedColumn:
    """What one sort of a column gives."""

    # For numbers every statistic of pass 1's `one` (count, min, max, mean, std, variance,
    # skewness, kurtosis, sum, zeros, negatives, infinite, finite_min, finite_max) plus
    # distinct and quantiles; for datetimes distinct.
    aggregates: dict[str, Any]
    # {bin index: count}, as DuckDB's histogram() of the bin index would give it
    histogram: dict[int, int] | None
    # Average ranks (1-based, ties share their mean) minus their mean, NaN where missing; only
    # for numeric columns (Spearman). float32 holds these exactly up to 2^24 rows.
    ranks: np.ndarray | None


def _sorted_pass(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    columns: list[_Column],
    one: dict[tuple[str, str], Any],
    rows: int,
    bins: int,
    ranks: bool,
    workers: int,
) -> dict[str, _SortedColumn]:
    """All statistics of number columns, and the exact distinct count and histogram of
    datetime columns, from each column's values in NumPy.

    Why NumPy and not DuckDB here: an exact count(DISTINCT) over a million distinct doubles
    costs DuckDB about 0.4 s a column (a hash table per aggregate), its skewness and kurtosis
    about 0.1 s each, and Spearman's ranks as window functions over a second a column, while
    one NumPy sort (SIMD) gives the distinct count, quantiles and histogram in a few
    hundredths and the moments cost milliseconds. Columns are fetched one at a time (8 bytes a
    row, freed after its statistics), on the statement's own connection so its time limit still
    applies; the work runs on `workers` threads, the connection's DuckDB `threads` (NumPy
    releases the GIL in its sorts and reductions).

    Rows are fetched once per column, so the ranks of two columns line up row by row only if
    the source returns its rows in the same order each time: a table scan does (insertion
    order); `table_stats` asks its caller for such a source.
    """
    sortable = [(column, _sort_expression(column)) for column in columns]
    sortable = [(column, expression) for column, expression in sortable if expression]
    if not sortable:
        return {}
    results: dict[str, _SortedColumn] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eda-sort") as pool:
        pending: dict[str, Future[_SortedColumn]] = {}
        for column, expression in sortable:
            fetched = connection.execute(f"SELECT {expression} AS v FROM {source}").fetchnumpy()
            pending[column.name] = pool.submit(
                _sort_column, column, fetched["v"], one, rows, bins, ranks
            )
            # At most `workers` columns in memory at once besides the ranks kept for Spearman.
            running = [future for future in pending.values() if not future.done()]
            if len(running) >= workers:
                wait(running, return_when=FIRST_COMPLETED)
        for name, future in pending.items():
            results[name] = future.result()
    return results


def _sort_column(
    column: _Column,
    fetched: np.ndarray,
    one: dict[tuple[str, str], Any],
    rows: int,
    bins: int,
    with_ranks: bool,
) -> _SortedColumn:
    missing = np.ma.getmaskarray(fetched)
    data = np.ma.getdata(fetched)
    if column.is_number:
        missing = missing | np.isnan(data)  # NaN is missing, as in pandas
    present = data[~missing]
    ordered = np.sort(present)
    count = len(ordered)
    changes = ordered[1:] != ordered[:-1]
    distinct = int(np.count_nonzero(changes)) + 1 if count else 0
    if column.is_datetime:
        return _SortedColumn(
            aggregates={"distinct": distinct},
            histogram=_datetime_histogram(column, ordered, one, bins),
            ranks=None,
        )
    aggregates = _number_aggregates(ordered)
    aggregates["distinct"] = distinct
    ranks = None
    if with_ranks and count > 1 and _kind(column, distinct, count, rows, None) == "numeric":
        # np.sort is several times faster than argsort (SIMD), so the order is only taken for
        # the columns Spearman needs; any order among ties gives the same average ranks.
        order = np.argsort(present)
        starts = np.flatnonzero(np.r_[True, changes])
        sizes = np.diff(np.r_[starts, count])
        # 1-based average rank of a group of ties starting at s with n members: s + (n + 1) / 2,
        # centred on the mean rank (count + 1) / 2 so float32 keeps them exact.
        average = starts + (sizes + 1) / 2.0 - (count + 1) / 2.0
        present_ranks = np.empty(count, dtype=np.float32)
        present_ranks[order] = np.repeat(average, sizes)
        ranks = np.full(rows, np.nan, dtype=np.float32)
        ranks[~missing] = present_ranks
    return _SortedColumn(
        aggregates=aggregates,
        histogram=_number_histogram(
            ordered, aggregates["finite_min"], aggregates["finite_max"], bins
        ),
        ranks=ranks,
    )


def _number_aggregates(ordered: np.ndarray) -> dict[str, Any]:
    """A number column's statistics from its present values in ascending order (±inf
    included), with pandas' definitions and DuckDB's None where one is undefined: moments over
    the finite values, sample std/variance (ddof 1), bias-corrected skewness (adjusted
    Fisher-Pearson, n >= 3) and excess kurtosis (n >= 4) as pandas' `skew`/`kurt`
    (pandas.core.nanops.nanskew/nankurt), None for a constant column; quantiles by linear
    interpolation at position q * (n - 1) (pandas' default, DuckDB's quantile_cont)."""
    count = len(ordered)
    finite = _finite_run(ordered)
    n = len(finite)
    aggregates: dict[str, Any] = {
        "count": count,
        "min": float(ordered[0]) if count else None,
        "max": float(ordered[-1]) if count else None,
        "finite_min": float(finite[0]) if n else None,
        "finite_max": float(finite[-1]) if n else None,
        "zeros": int(np.searchsorted(ordered, 0, "right") - np.searchsorted(ordered, 0, "left")),
        "negatives": int(np.searchsorted(ordered, 0, "left")),
        "infinite": count - n,
        "sum": None,
        "mean": None, "std": None, "variance": None, "skewness": None, "kurtosis": None,
        "quantiles": None,
    }  # fmt: skip
    if n:
        total = float(finite.sum())
        mean = total / n
        aggregates["sum"], aggregates["mean"] = total, mean
        deviations = finite - mean
        squares = deviations * deviations
        # the central moments as dot products: one pass each and no temporary array
        m2 = float(np.dot(deviations, deviations))
        if n >= 2:
            aggregates["variance"] = m2 / (n - 1)
            aggregates["std"] = math.sqrt(m2 / (n - 1))
        if m2 > 0 and n >= 3:
            m3 = float(np.dot(squares, deviations))
            aggregates["skewness"] = (n * math.sqrt(n - 1) / (n - 2)) * (m3 / m2**1.5)
        if m2 > 0 and n >= 4:
            m4 = float(np.dot(squares, squares))
            aggregates["kurtosis"] = (n * (n + 1) * (n - 1) * m4) / (
                (n - 2) * (n - 3) * m2 * m2
            ) - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))
    if count:
        positions = np.array(QUANTILES) * (count - 1)
        low = np.floor(positions).astype(np.int64)
        high = np.minimum(low + 1, count - 1)
        fraction = positions - low
        aggregates["quantiles"] = [
            float(ordered[lo] + (ordered[hi] - ordered[lo]) * f) if f else float(ordered[lo])
            for lo, hi, f in zip(low, high, fraction, strict=True)
        ]
    return aggregates


def _finite_run(ordered: np.ndarray) -> np.ndarray:
    """The finite values of an ascending array (NaN already removed): a view between the -inf
    and +inf ends, no copy."""
    return ordered[
        np.searchsorted(ordered, -np.inf, side="right") : np.searchsorted(
            ordered, np.inf, side="left"
        )
    ]


def _number_histogram(
    ordered: np.ndarray, low: float | None, high: float | None, bins: int
) -> dict[int, int] | None:
    """Equal-width bins over the finite values, the last bin closed: the bin of x is
    min(floor((x - low) / width), bins - 1), the same arithmetic DuckDB ran before. That bin is
    non-decreasing in x, so on sorted values each bin is one run whose end a bisection with the
    same arithmetic finds: bins * log2(n) evaluations instead of n."""
    if low is None or high is None or not high > low:
        return None
    finite = _finite_run(ordered)
    width = (high - low) / bins

    def bin_of(x: float) -> int:
        return min(math.floor((float(x) - low) / width), bins - 1)

    ends = [bisect.bisect_left(finite, i, key=bin_of) for i in range(1, bins)] + [len(finite)]
    counts = np.diff([0, *ends])
    return {i: int(n) for i, n in enumerate(counts) if n}


def _datetime_histogram(
    column: _Column, ordered: np.ndarray, one: dict[tuple[str, str], Any], bins: int
) -> dict[int, int] | None:
    """Equal-width bins in epoch seconds between the column's first and last instant."""
    low, high = one[(column.name, "epoch_min")], one[(column.name, "epoch_max")]
    if low is None or high is None or not high > low:
        return None
    per_second = 1e9 if column.base == "TIMESTAMP_NS" else 1e6
    width = (high - low) / bins
    index = np.minimum(np.floor((ordered / per_second - low) / width).astype(np.int64), bins - 1)
    counts = np.bincount(np.maximum(index, 0), minlength=bins)
    return {i: int(n) for i, n in enumerate(counts) if n}


def _all_dates(
    connection: duckdb.DuckDBPyConnection, source: str, column: _Column, count: int
) -> bool:
    """Whether every present value of a text column reads as a timestamp or a date. One value
    that does not settles it, so the first values are tried before the whole column (trying
    to cast a million strings costs seconds)."""
    if count == 0:
        return False

    def parsed(value: str) -> str:
        text = f"CAST({value} AS VARCHAR)"
        return f"coalesce(try_cast({text} AS TIMESTAMP), try_cast({text} AS DATE))"

    probe = connection.execute(
        f"SELECT bool_and({parsed('v')} IS NOT NULL) FROM (SELECT {column.value} AS v "
        f"FROM {source} WHERE {column.value} IS NOT NULL LIMIT {_DATE_PROBE_ROWS})"
    ).fetchone()
    if not probe or not probe[0]:
        return False
    counted = connection.execute(f"SELECT count({parsed(column.value)}) FROM {source}").fetchone()
    return counted is not None and int(counted[0]) == count


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
    correlations: Collection[CorrelationMethod] = CORRELATION_METHODS,
) -> TableStats:
    """Profile `source`, a FROM item that returns its rows in the same order each time it is
    read: a table, `(SELECT * FROM table) AS dataset`, or a temp table holding a query's rows.

    `on_stage(name)` is called before each pass of `TABLE_STAGES`; it may raise to stop the
    profile between passes (a cancelled job)."""
    threads = _statement_threads(connection)
    # NumPy's BLAS (moments, rank sums) would use every core otherwise: a profile keeps to the
    # statement's share of the host, as DuckDB does (threadpoolctl limits it while profiling).
    with threadpool_limits(limits=threads, user_api="blas"):
        return _table_stats(connection, source, bins, top_values, on_stage, correlations, threads)


def _statement_threads(connection: duckdb.DuckDBPyConnection) -> int:
    """The connection's DuckDB `threads` setting: the share of the host one statement gets."""
    setting = connection.execute("SELECT current_setting('threads')").fetchone()
    return max(1, int(setting[0]) if setting else 1)


def _table_stats(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    bins: int,
    top_values: int,
    on_stage: Callable[[str], None],
    correlations: Collection[CorrelationMethod],
    threads: int,
) -> TableStats:
    columns = [_Column(name, type_) for name, type_ in describe_columns(connection, source)]
    on_stage(TABLE_STAGES[0])

    # Pass 1 (DuckDB, one scan): counts, ranges and lengths of the columns NumPy does not sort.
    first = _Query()
    first.add("", "rows", "count(*)")
    for column in columns:
        value, name = column.value, column.name
        if column.is_number:
            continue  # everything about it comes from its sort
        first.add(name, "count", f"count({value})")
        if not column.supported:
            first.add(
                name, "bytes", f"coalesce(sum(strlen(CAST({sql.quote(name)} AS VARCHAR))), 0)"
            )
            continue
        if _sort_expression(column) is None:
            first.add(name, "distinct", f"count(DISTINCT {value})")
        if column.is_datetime:
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
    one = first.run(connection, source)
    rows = int(one[("", "rows")])

    # Number and datetime columns: one sort each gives the exact distinct count, the quantiles,
    # the histogram and Spearman's ranks.
    sorted_stats = _sorted_pass(
        connection, source, columns, one, rows, bins, "spearman" in correlations, threads
    )
    kinds: dict[str, ProfileKind] = {}
    for column in columns:
        if column.name in sorted_stats:
            for key, aggregate in sorted_stats[column.name].aggregates.items():
                one[(column.name, key)] = aggregate
        count = int(one[(column.name, "count")])
        distinct = int(one.get((column.name, "distinct"), 0) or 0)
        kinds[column.name] = _kind(
            column, distinct, count, rows, one.get((column.name, "max_length"))
        )
        if column.is_text:
            one[(column.name, "dates")] = _all_dates(connection, source, column, count)

    # Pass 2: histograms and full value counts, one scan.
    second = _Query()
    for column in columns:
        name, value, kind = column.name, column.value, kinds[column.name]
        if column.is_datetime and name not in sorted_stats:
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
    for name, sorted_column in sorted_stats.items():
        if sorted_column.histogram is not None:
            two[(name, "histogram")] = sorted_column.histogram

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
                parses_as_date=bool(one[(name, "dates")]),
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
    ranks = {
        name: sorted_column.ranks
        for name, sorted_column in sorted_stats.items()
        if sorted_column.ranks is not None
    }
    matrices = _correlations(
        connection, source, columns, kinds, one, value_counts, ranks, correlations
    )
    on_stage(TABLE_STAGES[4])
    blocks = _missing_blocks(connection, source, columns, rows) if rows else None
    return TableStats(
        rows=rows,
        columns=profiles,
        table=table,
        correlations=matrices,
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
    NaN and NULL compare equal here, as they do in pandas' `duplicated`.

    Equal rows have equal hashes, so when no two of the rows' 64-bit hashes are equal (sorted
    in NumPy: 8 bytes a row) there is no duplicate, exactly; only otherwise does DuckDB compare
    whole rows (SELECT DISTINCT * holds every distinct row in a hash table)."""
    if not columns or rows == 0:
        return 0
    names = ", ".join(sql.quote(column.name) for column in columns)
    hashes = connection.execute(f"SELECT hash({names}) AS h FROM {source}").fetchnumpy()["h"]
    hashes = np.sort(np.ma.getdata(hashes))
    if not np.any(hashes[1:] == hashes[:-1]):
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
    ranks: dict[str, np.ndarray],
    methods: Collection[CorrelationMethod],
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
    if len(numeric) >= 2 and "pearson" in methods:
        pairs = [(a, b) for i, a in enumerate(numeric) for b in numeric[i + 1 :]]
        # Pearson over pairwise-complete rows, as pandas' DataFrame.corr().
        query = ", ".join(f"corr({by_name[a].value}, {by_name[b].value})" for a, b in pairs)
        row = connection.execute(f"SELECT {query} FROM {source}").fetchone()
        assert row is not None
        pearson = _matrix(numeric, {pair: _finite(r) for pair, r in zip(pairs, row, strict=True)})
    if len(numeric) >= 2 and "spearman" in methods:
        spearman = _matrix(numeric, _rank_correlations(numeric, ranks))
    if len(categorical) >= 2 and "cramers_v" in methods:
        cramers = _matrix(categorical, _cramers_v(connection, source, categorical, by_name))
    if categorical and numeric and "correlation_ratio" in methods:
        ratio = _correlation_ratios(connection, source, categorical, numeric, by_name, one)
    return Correlations(
        pearson=pearson, spearman=spearman, cramers_v=cramers, correlation_ratio=ratio
    )


# Rows per block of the rank correlation sums: float64 copies of this many rows stay small.
_RANK_BLOCK_ROWS = 65536


def _rank_correlations(
    names: list[str], ranks: dict[str, np.ndarray]
) -> dict[tuple[str, str], float | None]:
    """Spearman's rho of each pair: Pearson's r of the average ranks over the rows where both
    are present. Ranks are taken per column over its present values; pandas ranks each pair's
    complete rows, which is the same whenever the two columns have no missing values.

    The pairwise-complete sums of every pair come from four k-by-k matrix products (present
    indicators V, ranks A with 0 where missing): n = V'V, sum(a) = A'V, sum(a^2) = (A*A)'V,
    sum(ab) = A'A, accumulated in float64 over row blocks."""
    names = [name for name in names if name in ranks]  # all-missing columns have no ranks
    if len(names) < 2:
        return {}
    k = len(names)
    rows = len(ranks[names[0]])
    n = np.zeros((k, k))
    sums = np.zeros((k, k))
    squares = np.zeros((k, k))
    products = np.zeros((k, k))
    for start in range(0, rows, _RANK_BLOCK_ROWS):
        block = np.stack(
            [ranks[name][start : start + _RANK_BLOCK_ROWS] for name in names], axis=1
        ).astype(np.float64)
        present = ~np.isnan(block)
        block[~present] = 0.0
        indicator = present.astype(np.float64)
        n += indicator.T @ indicator
        sums += block.T @ indicator
        squares += (block * block).T @ indicator
        products += block.T @ block
    result: dict[tuple[str, str], float | None] = {}
    for i in range(k):
        for j in range(i + 1, k):
            count = n[i, j]
            if count < 2:
                result[(names[i], names[j])] = None
                continue
            covariance = count * products[i, j] - sums[i, j] * sums[j, i]
            spread_i = count * squares[i, j] - sums[i, j] ** 2
            spread_j = count * squares[j, i] - sums[j, i] ** 2
            result[(names[i], names[j])] = (
                float(np.clip(covariance / math.sqrt(spread_i * spread_j), -1.0, 1.0))
                if spread_i > 0 and spread_j > 0
                else None
            )
    return result


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
