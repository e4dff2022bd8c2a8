"""Chart builders: every chart is a valid Vega-Lite spec that renders to a PNG."""

import datetime as dt
import json

import numpy as np
import pytest

from app.charts import core
from app.charts.core import JSON, PNG, negotiate
from app.errors import NotAcceptableError
from app.training import charts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RNG = np.random.default_rng(0)


def _binary(rows: int = 400) -> tuple[np.ndarray, np.ndarray]:
    labels = RNG.integers(0, 2, rows)
    positive = np.clip(labels * 0.4 + RNG.random(rows) * 0.6, 0, 1)
    return labels, np.c_[1 - positive, positive]


def _check(spec: dict, *, render: bool = True) -> None:
    assert spec["$schema"] == core.VEGA_LITE_SCHEMA
    assert core.chart_title(spec)
    json.dumps(spec, allow_nan=False)  # plain JSON: no NaN, numpy types or datetimes
    if render:
        assert core.render_png(spec).startswith(PNG_MAGIC)


def test_binary_classification_charts_render_with_auc_in_the_title() -> None:
    labels, probabilities = _binary()
    built = charts.classification_charts(labels, probabilities, ["no", "yes"])
    assert list(built) == ["confusion_matrix", "roc_curve", "precision_recall"]
    for spec in built.values():
        _check(spec)
    assert core.chart_title(built["roc_curve"]).startswith("ROC curve (AUC = 0.")
    cells = built["confusion_matrix"]["data"]["values"]
    assert sum(cell["count"] for cell in cells) == len(labels)
    assert {cell["actual"] for cell in cells} == {"no", "yes"}


def test_multiclass_roc_has_one_curve_per_class() -> None:
    labels = RNG.integers(0, 3, 300)
    probabilities = RNG.random((300, 3))
    probabilities[np.arange(300), labels] += 0.5
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    built = charts.classification_charts(labels, probabilities, ["basic", "premium", "pro"])
    roc = built["roc_curve"]
    _check(roc, render=False)
    series = {point["series"].split(" (")[0] for point in roc["data"]["values"]}
    assert series == {"basic", "premium", "pro"}
    assert core.chart_title(roc) == "ROC curves, one-vs-rest"


def test_curves_are_thinned_to_the_point_budget() -> None:
    labels = RNG.integers(0, 2, 20_000)
    probabilities = np.c_[1 - RNG.random(20_000), RNG.random(20_000)]
    built = charts.classification_charts(labels, probabilities, [0, 1])
    assert len(built["roc_curve"]["data"]["values"]) <= charts.MAX_CURVE_POINTS
    assert len(built["precision_recall"]["data"]["values"]) <= charts.MAX_CURVE_POINTS


def test_a_single_class_test_split_has_no_curves() -> None:
    labels = np.zeros(50, dtype=int)
    built = charts.classification_charts(labels, np.c_[np.ones(50), np.zeros(50)], ["a", "b"])
    assert list(built) == ["confusion_matrix"]


def test_regression_charts_sample_at_most_5000_points() -> None:
    actual = RNG.normal(100, 20, 6000)
    built = charts.regression_charts(actual, actual + RNG.normal(0, 5, 6000))
    assert list(built) == ["residuals", "predicted_vs_actual"]
    assert len(built["residuals"]["data"]["values"]) == charts.MAX_SCATTER_POINTS
    _check(built["predicted_vs_actual"], render=False)
    small = charts.regression_charts([1.0, 2.0, 3.0], [1.5, 1.5, 3.5])
    _check(small["residuals"])


def test_feature_importance_shows_the_top_20_largest_first() -> None:
    importance = {f"f{index}": index / 100 for index in range(30)}
    spec = charts.feature_importance_chart(importance)["feature_importance"]
    _check(spec)
    shown = [row["feature"] for row in spec["data"]["values"]]
    assert len(shown) == charts.TOP_FEATURES and shown[0] == "f29"


def test_training_curve_draws_one_line_per_metric_and_nothing_without_history() -> None:
    history = [(step, {"validation-logloss": 1 / step, "validation-auc": 1 - 1 / step})
               for step in range(1, 1201)]  # fmt: skip
    spec = charts.training_curve_chart(history)["training_curve"]
    _check(spec)
    metrics = {row["metric"] for row in spec["data"]["values"]}
    assert metrics == {"validation-logloss", "validation-auc"}
    assert len(spec["data"]["values"]) <= charts.MAX_CURVE_POINTS
    assert charts.training_curve_chart([]) == {}


def test_forecast_chart_layers_actuals_forecast_and_interval() -> None:
    start = dt.datetime(2025, 1, 1)
    actual = [{"timestamp": start + dt.timedelta(days=day), "value": 10 + day % 7}
              for day in range(60)]  # fmt: skip
    forecast = [
        {"timestamp": (start + dt.timedelta(days=60 + day)).date().isoformat(),
         "value": 12.0, "lower": 10.0 - day / 10, "upper": 14.0 + day / 10}
        for day in range(14)
    ]  # fmt: skip
    spec = charts.forecast_chart(actual, forecast)["forecast"]
    _check(spec)
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["area", "line"]
    assert {row["series"] for row in spec["data"]["values"]} == {"Actual", "Forecast"}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("image/png", PNG),
        ("application/json", JSON),
        (core.VEGA_LITE_MEDIA_TYPE, core.VEGA_LITE_MEDIA_TYPE),
        ("image/avif,image/webp,image/*,*/*;q=0.8", PNG),
        ("application/json;q=0.5, image/png", PNG),
        ("text/html, image/png;q=0.2", PNG),
    ],
)
def test_accept_picks_the_representation(accept: str | None, expected: str) -> None:
    assert negotiate(accept) == expected


@pytest.mark.parametrize("accept", ["text/html", "image/svg+xml", "image/png;q=0"])
def test_accept_without_png_or_json_is_not_acceptable(accept: str) -> None:
    with pytest.raises(NotAcceptableError):
        negotiate(accept)
