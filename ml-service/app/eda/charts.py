"""A profile's charts as Vega-Lite specs, drawn from the stored profile (no second query).

Names are stable and URL-safe: `histogram_<column>`, `dates_<column>`, `top_values_<column>`,
`correlation_<measure>`, `missing_values`, `target_associations`, `class_balance`,
`target_by_<column>`; a column's part is its name lowercased with other characters as `_`
(suffixed with its position when two columns would collide).
"""

import re
from typing import Any

from app.charts.core import HEIGHT, WIDTH, chart
from app.eda.schemas import (
    Association,
    ColumnProfile,
    Comparison,
    CorrelationMatrix,
    Profile,
)

CHART_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SLUG = re.compile(r"[^a-z0-9]+")
# The heatmap of a correlation matrix and the missing-values matrix show at most this many
# columns (the ones listed first); more would not be readable.
MAX_MATRIX_COLUMNS = 40


def _slugs(columns: list[ColumnProfile]) -> dict[str, str]:
    slugs: dict[str, str] = {}
    used: set[str] = set()
    for position, column in enumerate(columns):
        slug = _SLUG.sub("_", column.name.lower()).strip("_")[:40] or "column"
        if slug in used:
            slug = f"{slug}_{position}"
        used.add(slug)
        slugs[column.name] = slug
    return slugs


def _number(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.6g}")


def _histogram(column: ColumnProfile) -> dict | None:
    numeric = column.numeric
    if numeric is None or numeric.histogram is None:
        return None
    edges, counts = numeric.histogram.edges, numeric.histogram.counts
    values = [
        {"start": _number(edges[i]), "end": _number(edges[i + 1]), "count": counts[i]}
        for i in range(len(counts))
    ]
    return chart(
        f"Distribution of {column.name}",
        f"{column.count:,} values in {len(counts)} bins; mean {numeric.mean:.4g}, "
        f"std {numeric.std or 0:.4g}",
        {"values": values},
        {
            "mark": {"type": "bar", "color": "#4c78a8"},
            "encoding": {
                "x": {"field": "start", "type": "quantitative", "bin": {"binned": True},
                      "title": column.name},
                "x2": {"field": "end"},
                "y": {"field": "count", "type": "quantitative", "title": "rows"},
                "tooltip": [{"field": "start"}, {"field": "end"}, {"field": "count"}],
            },
        },
    )  # fmt: skip


def _dates(column: ColumnProfile) -> dict | None:
    stats = column.datetime
    if stats is None or stats.histogram is None:
        return None
    edges, counts = stats.histogram.edges, stats.histogram.counts
    values = [
        {"start": edges[i], "end": edges[i + 1], "count": counts[i]} for i in range(len(counts))
    ]
    return chart(
        f"{column.name} over time",
        f"{stats.min} to {stats.max}",
        {"values": values},
        {
            "mark": {"type": "bar", "color": "#4c78a8"},
            "encoding": {
                "x": {"field": "start", "type": "temporal", "title": column.name},
                "x2": {"field": "end"},
                "y": {"field": "count", "type": "quantitative", "title": "rows"},
            },
        },
    )


def _top_values(column: ColumnProfile) -> dict | None:
    categories = column.categories
    if categories is None or not categories.top:
        return None
    values: list[dict[str, Any]] = [
        {"value": str(entry.value), "count": entry.count, "percent": round(entry.percent, 2)}
        for entry in categories.top
    ]
    if categories.other_count:
        values.append({"value": "(other values)", "count": categories.other_count})
    return chart(
        f"Most frequent values of {column.name}",
        f"{column.distinct} distinct values, {column.missing} missing",
        {"values": values},
        {
            "mark": {"type": "bar", "color": "#f58518"},
            "encoding": {
                "y": {"field": "value", "type": "nominal", "sort": None, "title": None},
                "x": {"field": "count", "type": "quantitative", "title": "rows"},
                "tooltip": [{"field": "value"}, {"field": "count"}, {"field": "percent"}],
            },
        },
        height=max(80, 24 * len(values)),
    )


def _heatmap(title: str, matrix: CorrelationMatrix, signed: bool) -> dict:
    rows = matrix.rows[:MAX_MATRIX_COLUMNS]
    columns = matrix.columns[:MAX_MATRIX_COLUMNS]
    values = [
        {"row": row, "column": column, "value": _number(matrix.values[i][j])}
        for i, row in enumerate(rows)
        for j, column in enumerate(columns)
    ]
    scale = (
        {"scheme": "redblue", "domain": [-1, 1], "reverse": True}
        if signed
        else {"scheme": "blues", "domain": [0, 1]}
    )
    size = max(200, min(WIDTH, 28 * len(columns)))
    return chart(
        title,
        f"{len(rows)} x {len(columns)} columns",
        {"values": values},
        {
            "layer": [
                {
                    "mark": "rect",
                    "encoding": {
                        "color": {"field": "value", "type": "quantitative", "scale": scale},
                    },
                },
                {
                    "mark": {"type": "text", "fontSize": 10},
                    "encoding": {"text": {"field": "value", "type": "quantitative",
                                          "format": ".2f"}},
                },
            ],
            "encoding": {
                "x": {"field": "column", "type": "nominal", "sort": columns, "title": None},
                "y": {"field": "row", "type": "nominal", "sort": rows, "title": None},
                "tooltip": [{"field": "row"}, {"field": "column"}, {"field": "value"}],
            },
        },
        width=size,
        height=max(120, min(HEIGHT + 160, 28 * len(rows))),
    )  # fmt: skip


def _missing_values(profile: Profile) -> dict | None:
    blocks = profile.missing_blocks
    if blocks is None or not blocks.missing:
        return None
    columns = blocks.columns[:MAX_MATRIX_COLUMNS]
    values = [
        {
            "rows": f"{index * blocks.block_rows + 1}",
            "block": index,
            "column": column,
            "missing": round(100 * row[j] / blocks.block_rows, 1),
        }
        for index, row in enumerate(blocks.missing)
        for j, column in enumerate(columns)
    ]
    return chart(
        "Missing values",
        f"share missing per column in blocks of {blocks.block_rows:,} rows, in row order",
        {"values": values},
        {
            "mark": "rect",
            "encoding": {
                "x": {"field": "column", "type": "nominal", "sort": columns, "title": None},
                "y": {"field": "block", "type": "ordinal", "title": "row block",
                      "axis": {"labels": False, "ticks": False}},
                "color": {"field": "missing", "type": "quantitative", "title": "% missing",
                          "scale": {"scheme": "greys", "domain": [0, 100]}},
                "tooltip": [{"field": "column"}, {"field": "rows"}, {"field": "missing"}],
            },
        },
        width=max(200, min(WIDTH, 28 * len(columns))),
    )  # fmt: skip


def target_associations_chart(target: str, associations: list[Association]) -> dict:
    """Each column's association with `target` (target_analysis's measures), strongest first:
    the profile's `target_associations` chart, also drawn for a feature set's features by the
    feature importance answer (app.features.importance)."""
    values = [
        {"feature": a.column, "value": _number(a.value), "measure": a.measure}
        for a in associations
    ]
    return chart(
        f"Association with {target}",
        "|Pearson r| between numbers, Cramér's V between categories, η across",
        {"values": values},
        {
            "mark": {"type": "bar"},
            "encoding": {
                "y": {"field": "feature", "type": "nominal", "sort": "-x", "title": None},
                "x": {"field": "value", "type": "quantitative", "scale": {"domain": [0, 1]},
                      "title": "association"},
                "color": {"field": "measure", "type": "nominal"},
                "tooltip": [{"field": "feature"}, {"field": "measure"}, {"field": "value"}],
            },
        },
        height=max(80, 22 * len(values)),
    )  # fmt: skip


def _target_charts(profile: Profile, slugs: dict[str, str]) -> dict[str, dict]:
    target = profile.target
    if target is None:
        return {}
    charts: dict[str, dict] = {}
    if target.associations:
        charts["target_associations"] = target_associations_chart(
            target.column, target.associations
        )
    if target.class_balance:
        values = [
            {"class": str(entry.value), "count": entry.count, "percent": round(entry.percent, 2)}
            for entry in target.class_balance
        ]
        charts["class_balance"] = chart(
            f"Classes of {target.column}",
            f"imbalance {target.imbalance or 0:.2f} (0 balanced, 1 one class)",
            {"values": values},
            {
                "mark": {"type": "bar", "color": "#54a24b"},
                "encoding": {
                    "x": {"field": "class", "type": "nominal", "sort": None},
                    "y": {"field": "count", "type": "quantitative", "title": "rows"},
                    "tooltip": [{"field": "class"}, {"field": "count"}, {"field": "percent"}],
                },
            },
            height=HEIGHT // 2,
        )
    for view in target.by_feature:
        values = [
            {"feature": str(point.feature_value), "class": str(point.target_value),
             "value": _number(point.value)}
            for point in view.points
        ]  # fmt: skip
        charts[f"target_by_{slugs[view.column]}"[:64]] = chart(
            f"{target.column} by {view.column}",
            view.description,
            {"values": values},
            {
                "mark": {"type": "bar"},
                "encoding": {
                    "x": {"field": "feature", "type": "nominal", "sort": None,
                          "title": view.column},
                    "y": {"field": "value", "type": "quantitative", "title": view.measure},
                    "color": {"field": "class", "type": "nominal", "title": target.column},
                    "xOffset": {"field": "class"},
                    "tooltip": [{"field": "feature"}, {"field": "class"}, {"field": "value"}],
                },
            },
        )  # fmt: skip
    return charts


def column_chart_names(profile: Profile) -> dict[str, list[str]]:
    """The names a column's own charts would have (histogram, dates, top values)."""
    slugs = _slugs(profile.columns)
    return {
        column.name: [f"{prefix}_{slugs[column.name]}"[:64] for prefix in _COLUMN_CHARTS]
        for column in profile.columns
    }


_COLUMN_CHARTS = ("histogram", "dates", "top_values")


def profile_charts(profile: Profile) -> dict[str, dict]:
    """Every chart of a profile by name, in display order."""
    slugs = _slugs(profile.columns)
    charts: dict[str, dict] = {}
    for column in profile.columns:
        slug = slugs[column.name]
        for prefix, builder in (
            ("histogram", _histogram),
            ("dates", _dates),
            ("top_values", _top_values),
        ):
            spec = builder(column)
            if spec is not None:
                charts[f"{prefix}_{slug}"[:64]] = spec
    correlations = profile.correlations
    for name, title, matrix, signed in (
        ("pearson", "Pearson correlation", correlations.pearson, True),
        ("spearman", "Spearman correlation", correlations.spearman, True),
        ("cramers_v", "Cramér's V (bias-corrected)", correlations.cramers_v, False),
        ("correlation_ratio", "Correlation ratio η", correlations.correlation_ratio, False),
    ):
        if matrix is not None:
            charts[f"correlation_{name}"] = _heatmap(title, matrix, signed)
    missing = _missing_values(profile)
    if missing is not None:
        charts["missing_values"] = missing
    charts |= _target_charts(profile, slugs)
    return charts


def comparison_charts(comparison: Comparison) -> dict[str, dict]:
    """`drift`: PSI per column against serving's 0.2 line; `shift_<column>`: the reference's and
    the current shares per bin or category."""
    charts: dict[str, dict] = {}
    if comparison.columns:
        values = [
            {
                "column": c.column,
                "psi": _number(c.psi),
                "drifted": "drifted" if c.drifted else "stable",
            }
            for c in comparison.columns
        ]
        threshold = comparison.thresholds.get("psi", 0.2)
        charts["drift"] = chart(
            "Distribution shift per column",
            f"population stability index; {threshold} and above is a significant shift",
            {"values": values},
            {
                "layer": [
                    {
                        "mark": "bar",
                        "encoding": {
                            "y": {"field": "column", "type": "nominal", "sort": "-x",
                                  "title": None},
                            "x": {"field": "psi", "type": "quantitative", "title": "PSI"},
                            "color": {"field": "drifted", "type": "nominal", "title": None,
                                      "scale": {"domain": ["drifted", "stable"],
                                                "range": ["#e45756", "#4c78a8"]}},
                        },
                    },
                    {"mark": {"type": "rule", "strokeDash": [4, 4]},
                     "encoding": {"x": {"datum": threshold}}},
                ]
            },
            height=max(80, 22 * len(values)),
        )  # fmt: skip
    used: set[str] = set()
    for position, drift in enumerate(comparison.columns):
        slug = _SLUG.sub("_", drift.column.lower()).strip("_")[:40] or "column"
        if slug in used:
            slug = f"{slug}_{position}"
        used.add(slug)
        values = [
            {"bin": label, "side": side, "share": round(100 * share, 3)}
            for side, shares in (
                ("reference", drift.reference_shares),
                ("current", drift.current_shares),
            )
            for label, share in zip(drift.bins, shares, strict=True)
        ]  # fmt: skip
        charts[f"shift_{slug}"] = chart(
            f"{drift.column}: reference vs current",
            f"PSI {drift.psi:.3f}" + (" (drifted)" if drift.drifted else ""),
            {"values": values},
            {
                "mark": "bar",
                "encoding": {
                    "x": {"field": "bin", "type": "nominal", "sort": None, "title": None},
                    "xOffset": {"field": "side"},
                    "y": {"field": "share", "type": "quantitative", "title": "% of values"},
                    "color": {"field": "side", "type": "nominal", "title": None},
                },
            },
        )
    return charts
