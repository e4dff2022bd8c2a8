"""Result charts as Vega-Lite specs: the one source of truth for both the picture and the data.

Every builder is a pure function of arrays and lists and returns `{name: spec}` (empty when the
chart would say nothing, e.g. no iteration history). `app.charts.core.render_png` turns a spec into
the PNG logged beside it, so the image and the JSON never disagree.
Specs embed their data; curves are thinned to at most MAX_CURVE_POINTS points and scatters to
MAX_SCATTER_POINTS, so a spec stays small enough to ship to a browser.
"""

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
from sklearn import metrics

from app.charts.core import HEIGHT, WIDTH, chart

MAX_CURVE_POINTS = 500
MAX_SCATTER_POINTS = 5000
TOP_FEATURES = 20
_SIGNIFICANT = 6


# --- classification ---------------------------------------------------------------------------


def classification_charts(
    labels: Sequence[int] | np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[object],
) -> dict[str, dict]:
    """Confusion matrix, ROC and precision-recall curves. `labels` are class indices into
    `class_names`, `probabilities` rows by classes (as the evaluation uses them)."""
    labels = np.asarray(labels)
    probabilities = np.asarray(probabilities, dtype=float)
    names = [str(name) for name in class_names]
    charts = {
        "confusion_matrix": confusion_matrix_chart(labels, probabilities.argmax(axis=1), names)
    }
    charts |= roc_curve_chart(labels, probabilities, names)
    charts |= precision_recall_chart(labels, probabilities, names)
    return charts


def confusion_matrix_chart(
    labels: np.ndarray, predicted: np.ndarray, class_names: Sequence[str]
) -> dict:
    matrix = metrics.confusion_matrix(labels, predicted, labels=list(range(len(class_names))))
    totals = matrix.sum(axis=1)
    values = [
        {
            "actual": class_names[row],
            "predicted": class_names[column],
            "count": int(matrix[row, column]),
            "share_of_actual": _num(matrix[row, column] / totals[row]) if totals[row] else 0.0,
        }
        for row in range(len(class_names))
        for column in range(len(class_names))
    ]
    side = max(220, min(520, 70 * len(class_names)))
    order = list(class_names)
    encoding = {
        "x": {
            "field": "predicted",
            "type": "nominal",
            "sort": order,
            "title": "Predicted class",
            "axis": {"labelAngle": 0 if len(order) <= 6 else -45, "orient": "top"},
        },
        "y": {"field": "actual", "type": "nominal", "sort": order, "title": "Actual class"},
    }
    return chart(
        "Confusion matrix",
        f"Test split, {int(matrix.sum()):,} rows; cell colour = share of the actual class",
        {"values": values},
        {
            "width": side,
            "height": side,
            "encoding": encoding,
            "layer": [
                {
                    "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
                    "encoding": {
                        "color": {
                            "field": "share_of_actual",
                            "type": "quantitative",
                            "scale": {"scheme": "blues", "domain": [0, 1]},
                            "legend": {"title": "Share", "format": ".0%"},
                        },
                        "tooltip": [
                            {"field": "actual", "title": "Actual"},
                            {"field": "predicted", "title": "Predicted"},
                            {"field": "count", "title": "Rows", "format": ","},
                            {"field": "share_of_actual", "title": "Share", "format": ".1%"},
                        ],
                    },
                },
                {
                    "mark": {"type": "text", "fontSize": 14, "fontWeight": "bold"},
                    "encoding": {
                        "text": {"field": "count", "type": "quantitative", "format": ","},
                        "color": {
                            "condition": {
                                # white on the dark cells, so every count stays legible
                                "test": "datum.share_of_actual > 0.5",
                                "value": "white",
                            },
                            "value": "#1f1f1f",
                        },
                    },
                },
            ],
        },
    )


def _one_vs_rest(
    labels: np.ndarray, class_names: Sequence[str]
) -> list[tuple[int, str, np.ndarray]]:
    """(index, name, binary truth) of each class a curve can be drawn for: binary problems draw
    the positive (second) class only; a class absent from the test split (or present alone) has
    no curve."""
    indices = [1] if len(class_names) == 2 else list(range(len(class_names)))
    curves = []
    for index in indices:
        truth = labels == index
        if 0 < truth.sum() < len(truth):
            curves.append((index, class_names[index], truth))
    return curves


def roc_curve_chart(
    labels: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]
) -> dict[str, dict]:
    curves = _one_vs_rest(labels, class_names)
    if not curves:
        return {}
    budget = _per_curve_budget(len(curves))
    values: list[dict] = []
    aucs = []
    for index, name, truth in curves:
        fpr, tpr, _ = metrics.roc_curve(truth, probabilities[:, index])
        auc = float(metrics.auc(fpr, tpr))
        aucs.append(auc)
        series = f"{name} (AUC {auc:.3f})"
        values += [
            {"series": series, "false_positive_rate": _num(x), "true_positive_rate": _num(y)}
            for x, y in _thin(fpr, tpr, budget)
        ]
    binary = len(class_names) == 2
    title = f"ROC curve (AUC = {aucs[0]:.3f})" if binary else "ROC curves, one-vs-rest"
    subtitle = (
        f"Positive class: {curves[0][1]}; dashed line = random guess"
        if binary
        else f"Macro AUC = {np.mean(aucs):.3f}; dashed line = random guess"
    )
    return {
        "roc_curve": _curve_chart(
            title,
            subtitle,
            values,
            ("false_positive_rate", "False positive rate"),
            ("true_positive_rate", "True positive rate"),
            legend=not binary,
            diagonal=True,
        )
    }


def precision_recall_chart(
    labels: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]
) -> dict[str, dict]:
    curves = _one_vs_rest(labels, class_names)
    if not curves:
        return {}
    budget = _per_curve_budget(len(curves))
    values: list[dict] = []
    precisions = []
    for index, name, truth in curves:
        precision, recall, _ = metrics.precision_recall_curve(truth, probabilities[:, index])
        average = float(metrics.average_precision_score(truth, probabilities[:, index]))
        precisions.append(average)
        series = f"{name} (AP {average:.3f})"
        # sklearn returns recall descending; ascending reads naturally as a line.
        values += [
            {"series": series, "recall": _num(x), "precision": _num(y)}
            for x, y in _thin(recall[::-1], precision[::-1], budget)
        ]
    binary = len(class_names) == 2
    if binary:
        title = f"Precision-recall curve (AP = {precisions[0]:.3f})"
        subtitle = f"Positive class: {curves[0][1]}; share of positives = {curves[0][2].mean():.3f}"
    else:
        title = "Precision-recall curves, one-vs-rest"
        subtitle = f"Mean average precision = {np.mean(precisions):.3f}"
    return {
        "precision_recall": _curve_chart(
            title,
            subtitle,
            values,
            ("recall", "Recall"),
            ("precision", "Precision"),
            legend=not binary,
            diagonal=False,
        )
    }


def _curve_chart(
    title: str,
    subtitle: str,
    values: list[dict],
    x: tuple[str, str],
    y: tuple[str, str],
    *,
    legend: bool,
    diagonal: bool,
) -> dict:
    unit = {"type": "quantitative", "scale": {"domain": [0, 1]}}
    line: dict[str, Any] = {
        "mark": {"type": "line", "strokeWidth": 2.5, "interpolate": "step-after"}
        if x[0] == "recall"
        else {"type": "line", "strokeWidth": 2.5},
        "encoding": {
            "x": {"field": x[0], **unit, "title": x[1]},
            "y": {"field": y[0], **unit, "title": y[1]},
            "order": {"field": x[0], "type": "quantitative"},
            "color": {
                "field": "series",
                "type": "nominal",
                "title": "Class",
                "legend": {"orient": "bottom-right", "fillColor": "white"} if legend else None,
            },
        },
    }
    layers = [line]
    if diagonal:
        layers.insert(
            0,
            {
                "data": {"values": [{"d": 0}, {"d": 1}]},
                "mark": {"type": "line", "strokeDash": [6, 4], "color": "#9e9e9e"},
                "encoding": {
                    "x": {"field": "d", "type": "quantitative"},
                    "y": {"field": "d", "type": "quantitative"},
                },
            },
        )
    return chart(
        title,
        subtitle,
        {"values": values},
        {"width": HEIGHT + 60, "height": HEIGHT, "layer": layers},
    )


# --- regression -------------------------------------------------------------------------------


def regression_charts(
    actual: Sequence[float] | np.ndarray,
    predicted: Sequence[float] | np.ndarray,
    random_state: int = 0,
) -> dict[str, dict]:
    """Residuals against predictions, and predictions against actual values; both on the same
    sample of at most MAX_SCATTER_POINTS rows (seeded, so a rerun draws the same rows)."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    rows = np.arange(len(actual))
    if len(rows) > MAX_SCATTER_POINTS:
        rows = np.sort(
            np.random.default_rng(random_state).choice(rows, MAX_SCATTER_POINTS, replace=False)
        )
    sampled = (
        f"{len(rows):,} of {len(actual):,} test rows"
        if len(rows) < len(actual)
        else f"{len(actual):,} test rows"
    )
    values = [
        {
            "actual": _num(actual[row]),
            "predicted": _num(predicted[row]),
            "residual": _num(actual[row] - predicted[row]),
        }
        for row in rows
    ]
    point = {"type": "circle", "size": 18, "opacity": 0.45, "color": "#4c78a8"}
    tooltip = [
        {"field": name, "type": "quantitative", "format": ",.4~g"}
        for name in ("actual", "predicted", "residual")
    ]
    residuals = chart(
        "Residuals",
        f"Actual minus predicted, {sampled}; dashed line = no error",
        {"values": values},
        {
            "layer": [
                {
                    "mark": point,
                    "encoding": {
                        "x": {
                            "field": "predicted",
                            "type": "quantitative",
                            "title": "Predicted",
                            "scale": {"zero": False},
                        },
                        "y": {"field": "residual", "type": "quantitative", "title": "Residual"},
                        "tooltip": tooltip,
                    },
                },
                {
                    "data": {"values": [{"zero": 0}]},
                    "mark": {"type": "rule", "strokeDash": [6, 4], "color": "#d62728"},
                    "encoding": {"y": {"field": "zero", "type": "quantitative"}},
                },
            ]
        },
    )
    low, high = (float(np.min([actual, predicted])), float(np.max([actual, predicted])))
    if len(actual) == 0:
        low, high = 0.0, 1.0
    shared = {"domain": [_num(low), _num(high)], "zero": False}
    predicted_vs_actual = chart(
        "Predicted vs actual",
        f"{sampled}; dashed line = perfect prediction",
        {"values": values},
        {
            "width": HEIGHT + 60,
            "layer": [
                {
                    "data": {"values": [{"d": _num(low)}, {"d": _num(high)}]},
                    "mark": {"type": "line", "strokeDash": [6, 4], "color": "#d62728"},
                    "encoding": {
                        "x": {"field": "d", "type": "quantitative", "scale": shared},
                        "y": {"field": "d", "type": "quantitative", "scale": shared},
                    },
                },
                {
                    "mark": point,
                    "encoding": {
                        "x": {
                            "field": "actual",
                            "type": "quantitative",
                            "title": "Actual",
                            "scale": shared,
                        },
                        "y": {
                            "field": "predicted",
                            "type": "quantitative",
                            "title": "Predicted",
                            "scale": shared,
                        },
                        "tooltip": tooltip,
                    },
                },
            ],
        },
    )
    return {"residuals": residuals, "predicted_vs_actual": predicted_vs_actual}


# --- every task -------------------------------------------------------------------------------


def feature_importance_chart(importance: Mapping[str, float]) -> dict[str, dict]:
    """Horizontal bars of the TOP_FEATURES largest shares, largest on top."""
    top = sorted(importance.items(), key=lambda item: (-item[1], item[0]))[:TOP_FEATURES]
    if not top:
        return {}
    shown = (
        f"Top {len(top)} of {len(importance)} features"
        if len(importance) > len(top)
        else f"{len(top)} features"
    )
    values = [{"feature": name, "importance": _num(share)} for name, share in top]
    return {
        "feature_importance": chart(
            "Feature importance",
            f"{shown}; share of the model's total importance",
            {"values": values},
            {
                "height": {"step": 22},
                "mark": {"type": "bar", "color": "#4c78a8", "cornerRadiusEnd": 2},
                "encoding": {
                    "y": {
                        "field": "feature",
                        "type": "nominal",
                        "sort": "-x",
                        "title": None,
                        "axis": {"labelLimit": 220},
                    },
                    "x": {
                        "field": "importance",
                        "type": "quantitative",
                        "title": "Share of importance",
                        "axis": {"format": ".0%"},
                    },
                    "tooltip": [
                        {"field": "feature", "title": "Feature"},
                        {"field": "importance", "title": "Share", "format": ".2%"},
                    ],
                },
            },
        )
    }


def training_curve_chart(history: Sequence[tuple[int, Mapping[str, float]]]) -> dict[str, dict]:
    """One line per metric over the iterations the progress actor recorded; nothing without a
    history (models fitted in one step report none)."""
    series: dict[str, list[tuple[int, float]]] = {}
    for iteration, values in history:
        for name, value in values.items():
            if value is not None and math.isfinite(float(value)):
                series.setdefault(name, []).append((int(iteration), float(value)))
    if not series:
        return {}
    budget = _per_curve_budget(len(series))
    values = []
    for name, points in sorted(series.items()):
        iterations = np.array([point[0] for point in points])
        measured = np.array([point[1] for point in points])
        values += [
            {"metric": name, "iteration": int(x), "value": _num(y)}
            for x, y in _thin(iterations, measured, budget)
        ]
    last = max(point[0] for points in series.values() for point in points)
    return {
        "training_curve": chart(
            "Training curve",
            f"Evaluation metrics per iteration, {last:,} iterations",
            {"values": values},
            {
                "mark": {"type": "line", "strokeWidth": 2.5},
                "encoding": {
                    "x": {"field": "iteration", "type": "quantitative", "title": "Iteration"},
                    "y": {
                        "field": "value",
                        "type": "quantitative",
                        "title": "Metric value",
                        "scale": {"zero": False},
                    },
                    "color": {
                        "field": "metric",
                        "type": "nominal",
                        "title": "Metric",
                        # beside the plot: curves reach any corner of it
                        "legend": {"orient": "right"},
                    },
                    "tooltip": [
                        {"field": "metric", "title": "Metric"},
                        {"field": "iteration", "title": "Iteration"},
                        {"field": "value", "title": "Value", "format": ",.5~g"},
                    ],
                },
            },
        )
    }


# --- forecasting ------------------------------------------------------------------------------


def forecast_chart(
    actual: Sequence[Mapping[str, Any]], forecast: Sequence[Mapping[str, Any]]
) -> dict[str, dict]:
    """Actuals (`{timestamp, value}`) as a line, the forecast (`{timestamp, value, lower,
    upper}`) as a dashed line over a band for its interval. Timestamps may be datetimes, dates
    or ISO strings."""
    actual_rows = [
        {"timestamp": _iso(row["timestamp"]), "value": _num(row["value"])}
        for row in _thin_rows(actual)
    ]
    forecast_rows = [
        {
            "timestamp": _iso(row["timestamp"]),
            "value": _num(row["value"]),
            "lower": _num(row["lower"]) if row.get("lower") is not None else None,
            "upper": _num(row["upper"]) if row.get("upper") is not None else None,
        }
        for row in _thin_rows(forecast)
    ]
    values = [row | {"series": "Actual"} for row in actual_rows] + [
        row | {"series": "Forecast"} for row in forecast_rows
    ]
    time_axis = {"field": "timestamp", "type": "temporal", "title": "Time"}
    colour = {
        "field": "series",
        "type": "nominal",
        "title": None,
        "scale": {"domain": ["Actual", "Forecast"], "range": ["#1f1f1f", "#4c78a8"]},
        "legend": {"orient": "top-left", "fillColor": "white"},
    }
    return {
        "forecast": chart(
            "Forecast",
            f"{len(forecast)} forecast points after {len(actual)} observed; band = interval",
            {"values": values},
            {
                "width": WIDTH + 160,
                "layer": [
                    {
                        "transform": [
                            {"filter": "datum.series === 'Forecast' && isValid(datum.lower)"}
                        ],
                        "mark": {"type": "area", "opacity": 0.25, "color": "#4c78a8"},
                        "encoding": {
                            "x": time_axis,
                            "y": {"field": "lower", "type": "quantitative"},
                            "y2": {"field": "upper"},
                        },
                    },
                    {
                        "mark": {"type": "line", "strokeWidth": 2},
                        "encoding": {
                            "x": time_axis,
                            "y": {
                                "field": "value",
                                "type": "quantitative",
                                "title": "Value",
                                "scale": {"zero": False},
                            },
                            "color": colour,
                            "strokeDash": {
                                "field": "series",
                                "type": "nominal",
                                "scale": {
                                    "domain": ["Actual", "Forecast"],
                                    "range": [[1, 0], [6, 3]],
                                },
                                "legend": None,
                            },
                            "tooltip": [
                                {"field": "series", "title": "Series"},
                                {"field": "timestamp", "type": "temporal", "title": "Time"},
                                {"field": "value", "title": "Value", "format": ",.4~g"},
                                {"field": "lower", "title": "Lower", "format": ",.4~g"},
                                {"field": "upper", "title": "Upper", "format": ",.4~g"},
                            ],
                        },
                    },
                ],
            },
        )
    }


# --- helpers ----------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    """A float rounded to a few significant digits (smaller specs, same picture); None, which
    JSON can carry and Vega skips, for NaN and infinities."""
    number = float(value)
    if not math.isfinite(number):
        return None
    return float(f"{number:.{_SIGNIFICANT}g}")


def _per_curve_budget(curves: int) -> int:
    return max(50, MAX_CURVE_POINTS // max(curves, 1))


def _keep(count: int, budget: int) -> np.ndarray:
    """Evenly spread indices, first and last included, at most `budget` of them."""
    if count <= budget:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, budget).round().astype(int))


def _thin(x: np.ndarray, y: np.ndarray, budget: int = MAX_CURVE_POINTS) -> list[tuple]:
    keep = _keep(len(x), budget)
    return list(zip(np.asarray(x)[keep], np.asarray(y)[keep], strict=True))


def _thin_rows(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [rows[index] for index in _keep(len(rows), MAX_CURVE_POINTS)]


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value, unit="s"))
    if hasattr(value, "isoformat"):  # pandas.Timestamp
        return value.isoformat()
    return str(value)
