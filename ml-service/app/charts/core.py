"""The generic part of charts: one look, a spec builder, PNG rendering and Accept negotiation.

A chart is a Vega-Lite spec with its data embedded; its PNG is rendered from that spec with
vl-convert (offline, no browser), so the picture and the JSON never disagree. Concerns build
their own specs (training/charts.py, eda/charts.py) on `chart()` and serve them through
`negotiate()`.
"""

import re
from collections.abc import Mapping
from typing import Any

import vl_convert

from app.errors import ErrorResponse, NotAcceptableError

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# The vl-convert bundle of Vega-Lite that matches VEGA_LITE_SCHEMA.
VEGA_LITE_VERSION = "5.21"
VEGA_LITE_MEDIA_TYPE = "application/vnd.vegalite.v5+json"
PNG = "image/png"
JSON = "application/json"
MEDIA_TYPES = [PNG, VEGA_LITE_MEDIA_TYPE]
# The OpenAPI answers of every chart route: the chart in the media type `negotiate` picks, or 406.
CHART_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            PNG: {"schema": {"type": "string", "format": "binary"}},
            JSON: {"schema": {"type": "object"}},
            VEGA_LITE_MEDIA_TYPE: {"schema": {"type": "object"}},
        },
        "description": "the PNG, or the Vega-Lite spec with its data, chosen by Accept",
    },
    406: {"model": ErrorResponse, "description": "Accept allows neither PNG nor JSON"},
}
# A chart's name in URLs: lowercase, URL-safe.
CHART_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Device pixels per CSS pixel of the PNG: sharp on high-density screens and in slides.
PNG_SCALE = 2
WIDTH = 520
HEIGHT = 360

# One look for every chart: readable sizes, quiet grid, the same palette.
CONFIG: dict[str, Any] = {
    "background": "white",
    "font": "Helvetica, Arial, sans-serif",
    "title": {"fontSize": 16, "subtitleFontSize": 12, "anchor": "start", "offset": 12},
    "axis": {"labelFontSize": 12, "titleFontSize": 13, "titlePadding": 8, "gridColor": "#e6e6e6"},
    "legend": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 220},
    "range": {"category": {"scheme": "tableau10"}},
    "view": {"stroke": None},
}


def render_png(spec: Mapping[str, Any]) -> bytes:
    """The PNG of a spec (the first call in a process pays ~1 s to start the Vega engine)."""
    return vl_convert.vegalite_to_png(dict(spec), vl_version=VEGA_LITE_VERSION, scale=PNG_SCALE)


def chart_title(spec: Mapping[str, Any]) -> str:
    title = spec.get("title", "")
    return str(title.get("text", "") if isinstance(title, Mapping) else title)


def chart(
    title: str,
    subtitle: str,
    data: dict,
    body: dict,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> dict:
    """A spec in the house look: title and subtitle, size, embedded data, then the encoding."""
    spec: dict[str, Any] = {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {"text": title, "subtitle": subtitle},
        "width": width,
        "height": height,
        "data": data,
        "config": CONFIG,
    }
    spec.update(body)
    return spec


def negotiate(accept: str | None) -> str:
    """The media type to answer for an Accept header: PNG, the Vega-Lite type or JSON (the
    default, also for `*/*`); NotAcceptableError when the header allows none of them."""
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept.split(",")):
        media_type, _, parameters = item.strip().partition(";")
        media_type = media_type.strip().lower()
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        answer = {
            PNG: PNG,
            "image/*": PNG,
            VEGA_LITE_MEDIA_TYPE: VEGA_LITE_MEDIA_TYPE,
            JSON: JSON,
            "application/*": JSON,
            "*/*": JSON,
        }.get(media_type)
        if answer is None or quality <= 0:
            continue
        # highest quality wins; on a tie the type the client listed first
        candidate = (quality, -position, answer)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        raise NotAcceptableError(
            f"charts are available as {PNG}, {JSON} or {VEGA_LITE_MEDIA_TYPE}; "
            f"the Accept header allows none of them"
        )
    return best[2]
