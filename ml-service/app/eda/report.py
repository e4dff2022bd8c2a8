"""A profile as one self-contained HTML page: tables and the charts' PNGs inline as data URIs.

No script, no stylesheet or font from elsewhere: the file opens the same offline, from a mail
attachment or a ticket. Every value from the data is HTML-escaped.
"""

import base64
from collections.abc import Mapping
from html import escape
from typing import Any

from app.charts.core import chart_title
from app.eda.charts import column_chart_names
from app.eda.schemas import ColumnProfile, Profile

_STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right}.alert{color:#8a3b00}
.column{border:1px solid #e4e4e4;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
img{max-width:100%;height:auto}
"""


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def _table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(
        f"<tr><th>{escape(key)}</th><td class='num'>{_number(value)}</td></tr>"
        for key, value in rows
    )
    return f"<table>{body}</table>"


def _image(name: str, png: bytes, spec: Mapping[str, Any]) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f"<figure id='chart-{escape(name)}'><img alt='{escape(chart_title(spec))}' "
        f"src='data:image/png;base64,{encoded}'></figure>"
    )


def _column_section(
    column: ColumnProfile, images: dict[str, str], names: list[str], alerts: list[str]
) -> str:
    rows: list[tuple[str, Any]] = [
        ("type", column.type),
        ("kind", column.kind),
        ("count", column.count),
        ("missing", column.missing),
        ("missing %", column.missing_percent),
        ("distinct", column.distinct),
        ("distinct %", column.distinct_percent),
    ]
    if column.numeric is not None:
        n = column.numeric
        rows += [
            ("min", n.min), ("max", n.max), ("mean", n.mean), ("std", n.std),
            ("5 %", n.p5), ("25 %", n.p25), ("median", n.median), ("75 %", n.p75),
            ("95 %", n.p95), ("IQR", n.iqr), ("skewness", n.skewness),
            ("kurtosis", n.kurtosis), ("zeros", n.zeros), ("negatives", n.negatives),
            ("infinite", n.infinite),
        ]  # fmt: skip
    if column.text is not None:
        t = column.text
        rows += [("min length", t.min_length), ("max length", t.max_length),
                 ("mean length", t.mean_length)]  # fmt: skip
    if column.datetime is not None:
        rows += [("first", column.datetime.min), ("last", column.datetime.max)]
    alert_list = "".join(f"<li class='alert'>{escape(text)}</li>" for text in alerts)
    charts = "".join(images[name] for name in names if name in images)
    return (
        f"<div class='column'><h3>{escape(column.name)}</h3>"
        f"{f'<ul>{alert_list}</ul>' if alert_list else ''}{_table(rows)}{charts}</div>"
    )


def render_report(profile: Profile, specs: Mapping[str, Mapping], pngs: Mapping[str, bytes]) -> str:
    """The HTML page of a profile; `specs` and `pngs` are its charts by name (a chart whose PNG
    is missing is left out)."""
    images = {name: _image(name, pngs[name], specs[name]) for name in specs if name in pngs}
    table = profile.table
    source = profile.dataset.table or profile.dataset.query or ""
    overview = _table(
        [
            ("rows", table.rows),
            ("columns", table.columns),
            ("duplicate rows", table.duplicate_rows),
            ("missing cells", table.missing_cells),
            ("missing cells %", table.missing_cells_percent),
            ("size (bytes)", table.size_bytes),
            ("sampled", "yes" if profile.sampled else "no, every row"),
            ("computed in (s)", profile.duration_seconds),
        ]
    )
    alert_rows = "".join(
        f"<tr><td>{escape(alert.type)}</td><td>{escape(', '.join(alert.columns))}</td>"
        f"<td class='num'>{_number(alert.value)}</td><td class='num'>{_number(alert.threshold)}"
        f"</td><td>{escape(alert.message)}</td></tr>"
        for alert in profile.alerts
    )
    alerts = (
        "<table><tr><th>alert</th><th>columns</th><th>value</th><th>threshold</th>"
        f"<th>what</th></tr>{alert_rows}</table>"
        if alert_rows
        else "<p>No alerts.</p>"
    )
    by_column: dict[str, list[str]] = {}
    for alert in profile.alerts:
        if alert.columns:
            by_column.setdefault(alert.columns[0], []).append(alert.message)
    sections = []
    names = column_chart_names(profile)
    for column in profile.columns:
        sections.append(
            _column_section(column, images, names[column.name], by_column.get(column.name, []))
        )
    shared = [
        name
        for name in specs
        if name.startswith(("correlation_", "missing_values", "target_", "class_balance"))
    ]
    target = ""
    if profile.target is not None:
        target = f"<h2>Target: {escape(profile.target.column)}</h2>" + "".join(
            images[name]
            for name in shared
            if name.startswith(("target_", "class_")) and name in images
        )
    correlations = "".join(
        images[name] for name in shared if name.startswith("correlation_") and name in images
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Profile {escape(profile.profile_id)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Profile of {escape(source)}</h1>"
        f"<p>{escape(profile.profile_id)} · {escape(profile.created_at.isoformat())}</p>"
        f"<h2>Overview</h2>{overview}<h2>Alerts</h2>{alerts}"
        f"{target}<h2>Correlations</h2>{correlations or '<p>None to show.</p>'}"
        f"<h2>Missing values</h2>{images.get('missing_values', '<p>None.</p>')}"
        f"<h2>Columns</h2>{''.join(sections)}</body></html>"
    )
