"""Alerts on a profile, in ydata-profiling's vocabulary, plus two that matter before training.

Which alert fires when follows ydata-profiling 4.x (`model/alerts.py`, defaults in
`config_default.yaml`; the thresholds are `AlertThresholds`): MISSING/ZEROS/INFINITE above a
share, SKEWED beyond |skewness|, HIGH_CARDINALITY above a number of categories, IMBALANCE above
the entropy-based score, UNIFORM when a chi-square test cannot tell the values from uniform,
UNIQUE when every row has its own value, CONSTANT for one value, CONSTANT_LENGTH for text of one
length, TYPE_DATE for text that is all dates, DUPLICATES for duplicate rows, EMPTY for no rows,
UNSUPPORTED for types that are not profiled, HIGH_CORRELATION per pair at or above the threshold
on any of the four measures. NON_STATIONARY (an augmented Dickey-Fuller test, as ydata's
time-series mode) and SEASONAL (autocorrelation of the differenced series) need `time_column`.
TARGET_LEAKAGE: a feature whose association with the target is near perfect. IDENTIFIER: a column
of distinct codes that a model would memorise instead of learn from.
"""

from collections.abc import Iterable

import numpy as np
from statsmodels.tsa.stattools import acf, adfuller

from app.eda.schemas import (
    Alert,
    AlertThresholds,
    ColumnProfile,
    Correlations,
    TargetAnalysis,
)
from app.eda.stats import TableStats

# Below this many points the series tests say nothing reliable.
MIN_SERIES_POINTS = 20


def series_alerts(name: str, values: np.ndarray, thresholds: AlertThresholds) -> list[Alert]:
    """NON_STATIONARY and SEASONAL for one numeric series in time order.

    NON_STATIONARY: ADF test (statsmodels `adfuller`, autolag AIC) p-value at or above the
    significance, i.e. a unit root cannot be rejected (ydata's `stationarity_test`). SEASONAL:
    the autocorrelation of the first difference (which removes trend) has a peak at some lag ≥ 2
    at or above the threshold; a simpler detector than ydata's FFT peak search, with the same
    meaning: the series repeats with a period."""
    values = values[np.isfinite(values)]
    if len(values) < MIN_SERIES_POINTS or np.ptp(values) == 0:
        return []
    alerts = []
    p_value = float(adfuller(values, autolag="AIC", result_object=False)[1])
    if p_value >= thresholds.stationarity_significance:
        alerts.append(
            Alert(
                type="NON_STATIONARY",
                columns=[name],
                value=p_value,
                threshold=thresholds.stationarity_significance,
                message=f"{name} is not stationary (ADF p-value {p_value:.3g})",
            )
        )
    differenced = np.diff(values)
    if np.ptp(differenced) > 0:
        lags = min(len(differenced) // 2, 400)
        correlations = acf(differenced, nlags=lags, fft=True)[2:]
        if len(correlations):
            lag = int(np.argmax(correlations)) + 2
            peak = float(correlations[lag - 2])
            if peak >= thresholds.seasonality_autocorrelation:
                alerts.append(
                    Alert(
                        type="SEASONAL",
                        columns=[name],
                        value=peak,
                        threshold=thresholds.seasonality_autocorrelation,
                        message=f"{name} repeats every {lag} rows (autocorrelation {peak:.2f})",
                    )
                )
    return alerts


def _column_alerts(
    column: ColumnProfile, rows: int, thresholds: AlertThresholds
) -> Iterable[Alert]:
    name = column.name

    def alert(type_: str, value: float | None, threshold: float | None, message: str) -> Alert:
        return Alert(type=type_, columns=[name], value=value, threshold=threshold, message=message)  # type: ignore[arg-type]

    if column.missing_percent > thresholds.missing_percent:
        yield alert(
            "MISSING",
            column.missing_percent,
            thresholds.missing_percent,
            f"{name} has {column.missing} ({column.missing_percent:.1f} %) missing values",
        )
    if column.kind == "unsupported":
        yield alert("UNSUPPORTED", None, None, f"{name} ({column.type}) is not profiled")
        return
    if rows and column.distinct == rows:
        yield alert("UNIQUE", float(rows), None, f"{name} has a different value in every row")
    if column.distinct == 1:
        yield alert("CONSTANT", 1.0, None, f"{name} has one value only")
    if column.kind == "identifier":
        yield alert(
            "IDENTIFIER",
            column.distinct_percent,
            100.0,
            f"{name} looks like an identifier; leave it out of a model's features",
        )
    numeric = column.numeric
    if numeric is not None and column.kind == "numeric":
        if numeric.skewness is not None and abs(numeric.skewness) > thresholds.skewness:
            yield alert(
                "SKEWED",
                numeric.skewness,
                thresholds.skewness,
                f"{name} is highly skewed (skewness {numeric.skewness:.1f})",
            )
        if numeric.infinite_percent > thresholds.infinite_percent:
            yield alert(
                "INFINITE",
                numeric.infinite_percent,
                thresholds.infinite_percent,
                f"{name} has {numeric.infinite} infinite values",
            )
        if numeric.zeros_percent > thresholds.zeros_percent:
            yield alert(
                "ZEROS",
                numeric.zeros_percent,
                thresholds.zeros_percent,
                f"{name} has {numeric.zeros} ({numeric.zeros_percent:.1f} %) zeros",
            )
    categories = column.categories
    if (
        column.kind in {"categorical", "text"}
        and column.distinct is not None
        and column.distinct > thresholds.cardinality
    ):
        yield alert(
            "HIGH_CARDINALITY",
            float(column.distinct),
            float(thresholds.cardinality),
            f"{name} has {column.distinct} distinct values",
        )
    if (
        column.kind in {"categorical", "boolean"}
        and categories is not None
        and categories.imbalance is not None
        and categories.imbalance > thresholds.imbalance
    ):
        yield alert(
            "IMBALANCE",
            categories.imbalance,
            thresholds.imbalance,
            f"{name} is highly imbalanced ({categories.imbalance:.2f})",
        )
    text = column.text
    if text is not None and column.kind in {"categorical", "text"}:
        if text.parses_as_date:
            yield alert("TYPE_DATE", None, None, f"{name} holds dates stored as text")
        if column.count and text.min_length == text.max_length and column.distinct != 1:
            yield alert(
                "CONSTANT_LENGTH",
                float(text.min_length or 0),
                None,
                f"{name} has values of one length ({text.min_length} characters)",
            )


def _correlation_alerts(correlations: Correlations, threshold: float) -> Iterable[Alert]:
    seen: set[tuple[str, str]] = set()
    for measure, matrix in (
        ("Pearson", correlations.pearson),
        ("Spearman", correlations.spearman),
        ("Cramér's V", correlations.cramers_v),
        ("correlation ratio", correlations.correlation_ratio),
    ):
        if matrix is None:
            continue
        for i, row in enumerate(matrix.rows):
            for j, column in enumerate(matrix.columns):
                value = matrix.values[i][j]
                pair = tuple(sorted((row, column)))
                if row == column or value is None or pair in seen:
                    continue
                if abs(value) >= threshold:
                    seen.add(pair)  # type: ignore[arg-type]
                    yield Alert(
                        type="HIGH_CORRELATION",
                        columns=list(pair),
                        value=value,
                        threshold=threshold,
                        message=f"{pair[0]} is highly correlated with {pair[1]} "
                        f"({measure} {value:.2f})",
                    )


def _multiple_correlation_alerts(
    correlations: Correlations, threshold: float, flagged: set[tuple[str, ...]]
) -> Iterable[Alert]:
    """HIGH_CORRELATION for a numeric column that is nearly a linear combination of the others.

    The multiple correlation of column i with the rest is R = sqrt(1 - 1 / (P⁻¹)ᵢᵢ) for the
    Pearson matrix P (R² = 1 - 1/VIF, the variance inflation factor's view of collinearity); the
    alert names the columns with the largest standardised weights βⱼ = -(P⁻¹)ᵢⱼ / (P⁻¹)ᵢᵢ. A pair
    already flagged on its own is not repeated. Ydata's pairwise check misses a product such as
    total = tenure x monthly charge, which no single partner explains."""
    matrix = correlations.pearson
    if matrix is None or len(matrix.columns) < 3:
        return
    values = np.array(
        [[np.nan if value is None else value for value in row] for row in matrix.values]
    )
    usable = ~np.isnan(values).any(axis=0)
    names = [name for name, keep in zip(matrix.columns, usable, strict=True) if keep]
    values = values[np.ix_(usable, usable)]
    if len(names) < 3 or np.linalg.matrix_rank(values) < len(names):
        return
    inverse = np.linalg.inv(values)
    for i, name in enumerate(names):
        r_squared = 1.0 - 1.0 / inverse[i, i]
        if r_squared <= 0:
            continue
        r = float(np.sqrt(r_squared))
        if r < threshold:
            continue
        weights = -inverse[i] / inverse[i, i]
        weights[i] = 0.0
        order = [j for j in np.argsort(-np.abs(weights)) if abs(weights[j]) >= 0.1]
        partners = [names[j] for j in order]
        if not partners or all(tuple(sorted((name, p))) in flagged for p in partners):
            continue
        yield Alert(
            type="HIGH_CORRELATION",
            columns=[name, *partners],
            value=r,
            threshold=threshold,
            message=f"{name} is nearly a linear combination of {', '.join(partners)} "
            f"(multiple correlation R {r:.2f})",
        )


def profile_alerts(
    stats: TableStats,
    target: TargetAnalysis | None,
    thresholds: AlertThresholds,
    extra: Iterable[Alert] = (),
) -> list[Alert]:
    """Every alert of a profile, dataset-level first, then by column order."""
    alerts: list[Alert] = []
    table = stats.table
    if table.rows == 0:
        alerts.append(
            Alert(
                type="EMPTY", columns=[], value=0.0, threshold=None, message="the data has no rows"
            )
        )
    if table.duplicate_rows and table.duplicate_rows_percent > thresholds.duplicates_percent:
        alerts.append(
            Alert(
                type="DUPLICATES",
                columns=[],
                value=table.duplicate_rows_percent,
                threshold=thresholds.duplicates_percent,
                message=f"{table.duplicate_rows} rows ({table.duplicate_rows_percent:.1f} %) "
                "duplicate an earlier row",
            )
        )
    for column in stats.columns:
        alerts.extend(_column_alerts(column, table.rows, thresholds))
        p_value = stats.uniform_p_values.get(column.name)
        if p_value is not None and p_value > thresholds.uniform_p_value:
            alerts.append(
                Alert(
                    type="UNIFORM",
                    columns=[column.name],
                    value=p_value,
                    threshold=thresholds.uniform_p_value,
                    message=f"{column.name} is uniformly distributed (χ² p-value {p_value:.4f})",
                )
            )
    alerts.extend(extra)
    pairwise = list(_correlation_alerts(stats.correlations, thresholds.correlation))
    alerts.extend(pairwise)
    alerts.extend(
        _multiple_correlation_alerts(
            stats.correlations,
            thresholds.correlation,
            {tuple(alert.columns) for alert in pairwise},
        )
    )
    if target is not None:
        for association in target.associations:
            if association.value is not None and association.value >= thresholds.target_leakage:
                alerts.append(
                    Alert(
                        type="TARGET_LEAKAGE",
                        columns=[association.column, target.column],
                        value=association.value,
                        threshold=thresholds.target_leakage,
                        message=f"{association.column} predicts {target.column} almost perfectly "
                        f"({association.measure} {association.value:.3f}); check that it is "
                        "known before the target is",
                    )
                )
    return alerts
