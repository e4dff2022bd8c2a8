"""Distribution shift between two tables or queries, per column, computed in DuckDB.

Serving's drift vocabulary and thresholds (app/serving/monitoring.py): PSI over the reference's
decile bins (numbers) or categories, shares clipped at 1e-4; a numeric column drifted when
PSI >= 0.2, or when the two-sample Kolmogorov-Smirnov test has p < 0.01 with D >= 0.1; a
categorical column when PSI >= 0.2. Alongside: the chi-square test of the 2 x k table
(categories), the Wasserstein-1 distance of the two empirical distributions (numbers, exact, in
the column's unit) and the Jensen-Shannon distance (base 2, 0-1) over the same bins.

KS D and Wasserstein are exact and computed in one window query over the union of both columns'
distinct values; the KS p-value is the asymptotic one (scipy's `kstwo` at n·m/(n+m), as
`ks_2samp(method="asymp")`).
"""

from typing import Any

import duckdb
import numpy as np
from scipy import stats as scipy_stats
from scipy.spatial.distance import jensenshannon

from app.datasets import sql
from app.eda.schemas import ColumnDrift, SkippedColumn
from app.eda.stats import MAX_ASSOCIATION_CATEGORIES, describe_columns
from app.serving.monitoring import (
    HISTOGRAM_BINS,
    KS_P_VALUE_ALERT,
    KS_STATISTIC_ALERT,
    MIN_DRIFT_ROWS,
    PSI_ALERT,
)

_NUMBER_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "FLOAT", "REAL", "DOUBLE", "DECIMAL",
)  # fmt: skip
THRESHOLDS = {
    "psi": PSI_ALERT,
    "ks_p_value": KS_P_VALUE_ALERT,
    "ks_statistic": KS_STATISTIC_ALERT,
}


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index Σ (a - e) ln(a / e) over shares clipped at 1e-4 (serving's)."""
    expected = np.clip(expected, 1e-4, None)
    actual = np.clip(actual, 1e-4, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def _numeric(
    connection: duckdb.DuckDBPyConnection, reference: str, current: str, name: str
) -> ColumnDrift | None:
    value = f"nullif(CAST({sql.quote(name)} AS DOUBLE), 'NaN'::DOUBLE)"
    finite = f"CASE WHEN isfinite({value}) THEN {value} END"
    quantiles = ", ".join(str(q / HISTOGRAM_BINS) for q in range(1, HISTOGRAM_BINS))
    row = connection.execute(
        f"SELECT quantile_cont({finite}, [{quantiles}]) FROM {reference}"
    ).fetchone()
    if row is None or row[0] is None:
        return None
    edges = sorted(set(float(edge) for edge in row[0]))
    # searchsorted(edges, x, side="right"): how many edges are <= x, as serving's _bin_shares.
    bin_of = " + ".join(f"CAST({finite} >= {edge!r} AS INTEGER)" for edge in edges) or "0"
    counts = {}
    for side, source in (("reference", reference), ("current", current)):
        histogram = connection.execute(
            f"SELECT histogram({bin_of}) FILTER (WHERE {finite} IS NOT NULL) FROM {source}"
        ).fetchone()
        array = np.zeros(len(edges) + 1)
        for index, n in ((histogram or [None])[0] or {}).items():
            array[int(index)] = n
        counts[side] = array
    n, m = int(counts["reference"].sum()), int(counts["current"].sum())
    if n == 0 or m == 0:
        return None
    # Exact KS D and Wasserstein-1 from the two step functions over the merged distinct values.
    stats_row = connection.execute(
        f"""
        WITH merged AS (
            SELECT v, sum(r) AS r, sum(c) AS c FROM (
                SELECT {finite} AS v, 1 AS r, 0 AS c FROM {reference}
                UNION ALL
                SELECT {finite} AS v, 0 AS r, 1 AS c FROM {current}
            ) WHERE v IS NOT NULL GROUP BY v
        ), steps AS (
            SELECT v, lead(v) OVER (ORDER BY v) AS next,
                   sum(r) OVER (ORDER BY v) / {n}.0 AS fr,
                   sum(c) OVER (ORDER BY v) / {m}.0 AS fc
            FROM merged
        )
        SELECT max(abs(fr - fc)), sum(abs(fr - fc) * (next - v)) FROM steps
        """
    ).fetchone()
    assert stats_row is not None
    statistic = float(stats_row[0] or 0.0)
    wasserstein = float(stats_row[1] or 0.0)
    effective = round(n * m / (n + m))
    p_value = float(scipy_stats.kstwo.sf(statistic, effective)) if effective else 1.0
    ref_shares, cur_shares = _shares(counts["reference"]), _shares(counts["current"])
    value_psi = psi(ref_shares, cur_shares)
    drifted = value_psi >= PSI_ALERT or (
        p_value < KS_P_VALUE_ALERT and statistic >= KS_STATISTIC_ALERT
    )
    labels = ["< " + f"{edges[0]:.4g}"] + [
        f"{edges[i]:.4g} to {edges[i + 1]:.4g}" for i in range(len(edges) - 1)
    ]
    labels.append(f">= {edges[-1]:.4g}")
    return ColumnDrift(
        column=name,
        kind="numeric",
        reference_count=n,
        current_count=m,
        psi=value_psi,
        ks_statistic=statistic,
        ks_p_value=p_value,
        chi_square=None,
        chi_square_p_value=None,
        wasserstein=wasserstein,
        jensen_shannon=float(jensenshannon(ref_shares, cur_shares, base=2)),
        drifted=bool(drifted) and min(n, m) >= MIN_DRIFT_ROWS,
        bins=labels,
        reference_shares=ref_shares.tolist(),
        current_shares=cur_shares.tolist(),
    )


def _categorical(
    connection: duckdb.DuckDBPyConnection, reference: str, current: str, name: str
) -> ColumnDrift | SkippedColumn:
    quoted = sql.quote(name)
    counted: dict[str, dict[Any, int]] = {}
    for side, source in (("reference", reference), ("current", current)):
        row = connection.execute(
            f"SELECT histogram(CAST({quoted} AS VARCHAR)), count(DISTINCT {quoted}) FROM {source}"
        ).fetchone()
        if row is not None and row[1] and row[1] > MAX_ASSOCIATION_CATEGORIES:
            return SkippedColumn(
                column=name,
                reason=f"{row[1]} distinct values in the {side} (more than "
                f"{MAX_ASSOCIATION_CATEGORIES}): an identifier or free text",
            )
        counted[side] = {k: int(v) for k, v in ((row or [None])[0] or {}).items() if k is not None}
    categories = sorted(set(counted["reference"]) | set(counted["current"]))
    reference_counts = np.array([counted["reference"].get(c, 0) for c in categories], dtype=float)
    current_counts = np.array([counted["current"].get(c, 0) for c in categories], dtype=float)
    n, m = int(reference_counts.sum()), int(current_counts.sum())
    if n == 0 or m == 0:
        return SkippedColumn(column=name, reason="no values on one side")
    chi_square = p_value = None
    if len(categories) > 1:
        table = np.vstack([reference_counts, current_counts])
        chi_square, p_value = (float(x) for x in scipy_stats.chi2_contingency(table)[:2])
    ref_shares, cur_shares = _shares(reference_counts), _shares(current_counts)
    value_psi = psi(ref_shares, cur_shares)
    return ColumnDrift(
        column=name,
        kind="categorical",
        reference_count=n,
        current_count=m,
        psi=value_psi,
        ks_statistic=None,
        ks_p_value=None,
        chi_square=chi_square,
        chi_square_p_value=p_value,
        wasserstein=None,
        jensen_shannon=float(jensenshannon(ref_shares, cur_shares, base=2)),
        drifted=value_psi >= PSI_ALERT and min(n, m) >= MIN_DRIFT_ROWS,
        bins=[str(c) for c in categories],
        reference_shares=ref_shares.tolist(),
        current_shares=cur_shares.tolist(),
    )


def compare_sources(
    connection: duckdb.DuckDBPyConnection,
    reference_select: str,
    current_select: str,
    columns: list[str] | None,
) -> tuple[int, int, list[ColumnDrift], list[SkippedColumn]]:
    """(reference rows, current rows, per-column drift, skipped columns with the reason)."""
    reference, current = sql.wrap(reference_select), sql.wrap(current_select)
    reference_types = dict(describe_columns(connection, reference))
    current_types = dict(describe_columns(connection, current))
    wanted = columns if columns is not None else list(reference_types)
    drifts: list[ColumnDrift] = []
    skipped: list[SkippedColumn] = []
    for name in wanted:
        if name not in reference_types or name not in current_types:
            side = "reference" if name not in reference_types else "current"
            skipped.append(SkippedColumn(column=name, reason=f"not a column of the {side}"))
            continue
        base = reference_types[name].upper()
        if base.startswith(_NUMBER_TYPES):
            result = _numeric(connection, reference, current, name)
            if result is None:
                skipped.append(SkippedColumn(column=name, reason="no finite values on one side"))
            else:
                drifts.append(result)
        elif base in {"VARCHAR", "BOOLEAN"} or base.startswith("ENUM"):
            outcome = _categorical(connection, reference, current, name)
            (drifts if isinstance(outcome, ColumnDrift) else skipped).append(outcome)  # type: ignore[arg-type]
        else:
            skipped.append(
                SkippedColumn(column=name, reason=f"{reference_types[name]} is not compared")
            )
    counts = connection.execute(
        f"SELECT (SELECT count(*) FROM {reference}), (SELECT count(*) FROM {current})"
    ).fetchone()
    assert counts is not None
    return int(counts[0]), int(counts[1]), drifts, skipped
