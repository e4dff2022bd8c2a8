"""Result charts as run artifacts: logged by the job driver, read back by the charts endpoints.

Each chart is two files under the run's `charts/` folder, `<name>.vl.json` (the Vega-Lite spec,
data included) and `<name>.png` (rendered from that spec), plus `charts/index.json` listing
`[{name, title}]` in display order, so listing a job's charts reads one small file.
"""

import json
import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from app.charts.core import CHART_NAME, MEDIA_TYPES, PNG, chart_title, render_png
from app.errors import BadRequestError, ConflictError, NotFoundError
from app.jobs.store import JobRecord
from app.tracking.service import TrackingService
from app.training.charts import (
    classification_charts,
    feature_importance_chart,
    forecast_chart,
    regression_charts,
    training_curve_chart,
)
from app.training.features import TrainingData
from app.training.schemas import ChartInfo, ChartList

logger = logging.getLogger(__name__)

CHART_DIR = "charts"
INDEX_FILE = f"{CHART_DIR}/index.json"


def log_job_charts(
    data: TrainingData,
    labels: np.ndarray,
    predictions: np.ndarray,
    importance: Mapping[str, float],
    history: Sequence[tuple[int, Mapping[str, float]]],
) -> None:
    """Build the charts of a finished job and log them into the active MLflow run."""
    started = time.monotonic()
    specs: dict[str, dict] = {}
    try:
        if data.task_type == "classification":
            specs |= classification_charts(labels, predictions, data.spec.classes or [])
        elif data.task_type == "regression":
            specs |= regression_charts(labels, predictions)
        specs |= feature_importance_chart(importance)
        specs |= training_curve_chart(history)
    except Exception:
        # A chart is a view of results already logged; it must never fail the job.
        logger.warning("building the result charts failed", exc_info=True)
    log_charts(specs)
    logger.info("logged %d charts in %.2fs", len(specs), time.monotonic() - started)


def log_forecast_charts(series: pd.Series, forecast: Mapping[str, Any]) -> None:
    """The forecast chart of a forecasting job: the series' last periods, the held-out tail's
    forecast and the future one, with their intervals."""
    try:
        horizon = len(forecast["holdout"])
        # Enough of the past to see the season the forecast continues, not two years of it.
        shown = series.iloc[-max(4 * horizon, 60) :]
        actual = [{"timestamp": index, "value": value} for index, value in shown.items()]
        specs = forecast_chart(actual, [*forecast["holdout"], *forecast["future"]])
    except Exception:
        logger.warning("building the forecast chart failed", exc_info=True)
        specs = {}
    log_charts(specs)


def log_charts(specs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Render and log each spec with its PNG into the active run; returns the names logged.

    Any task type's charts go through here (e.g. `log_charts(forecast_chart(actual, forecast))`).
    A chart that fails to render is left out with a warning instead of failing the job."""
    index = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name, spec in specs.items():
            if not CHART_NAME.fullmatch(name):
                raise ValueError(f"chart name {name!r} must match {CHART_NAME.pattern}")
            try:
                png = render_png(spec)
            except Exception:
                logger.warning("rendering chart %s failed", name, exc_info=True)
                continue
            (folder / f"{name}.png").write_bytes(png)
            (folder / f"{name}.vl.json").write_text(json.dumps(spec, separators=(",", ":")))
            index.append({"name": name, "title": chart_title(spec)})
        (folder / "index.json").write_text(json.dumps(index, indent=1))
        mlflow.log_artifacts(scratch, CHART_DIR)
    return [entry["name"] for entry in index]


# --- reading ------------------------------------------------------------------------------------


def _completed_run(record: JobRecord) -> str | None:
    if record.status != "completed":
        raise ConflictError(
            f"training job {record.job_id} is {record.status}; charts exist once it completes"
        )
    return record.mlflow_run_id


def list_charts(tracking: TrackingService, record: JobRecord) -> ChartList:
    """The charts of a completed job (an empty list for jobs finished before charts existed)."""
    run_id = _completed_run(record)
    entries = []
    if run_id is not None:
        run = tracking.tenant_run(record.tenant_id, run_id)
        entries = tracking.read_json_artifact(run, INDEX_FILE) or []
    return ChartList(
        job_id=record.job_id,
        charts=[
            ChartInfo(name=entry["name"], title=entry["title"], media_types=MEDIA_TYPES)
            for entry in entries
        ],
    )


def read_chart(tracking: TrackingService, record: JobRecord, name: str, media_type: str) -> bytes:
    """The PNG or the Vega-Lite spec of one chart of a completed job."""
    if not CHART_NAME.fullmatch(name):
        raise BadRequestError(f"name must match {CHART_NAME.pattern}")
    available = [chart.name for chart in list_charts(tracking, record).charts]
    if name not in available:
        raise NotFoundError(
            f"training job {record.job_id} has no chart named {name!r}; "
            f"it has: {', '.join(available) or 'none'}"
        )
    suffix = "png" if media_type == PNG else "vl.json"
    assert record.mlflow_run_id is not None  # a job with charts has a run
    content, _, _ = tracking.read_artifact(
        record.tenant_id, record.mlflow_run_id, f"{CHART_DIR}/{name}.{suffix}"
    )
    return content
