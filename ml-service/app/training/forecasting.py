"""From loaded rows to a regular time series, its time-ordered split, and forecast metrics.

The series is `target_column` per period of `frequency` along `time_column`: rows in the same
period are summed (order lines become daily revenue; one row per period stays as it is), and a
period without rows is missing (NaN), which both Prophet and ARIMA handle. The last `horizon`
periods are the held-out tail: models are fitted on the periods before it and scored on it.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from sklearn import metrics

from app.training.evaluation import DIGITS
from app.training.features import TrainingDataError

# Periods the model must see before the held-out tail.
MIN_TRAIN_PERIODS = 10


def frequency_problem(frequency: str) -> str | None:
    """Why `frequency` is not a pandas offset alias; None when it is one."""
    try:
        offset = to_offset(frequency)
    except (ValueError, TypeError):
        return f'"{frequency}" is not a pandas offset alias; use e.g. D, W, h, MS, QS'
    if offset is None or pd.Timestamp("2000-01-01") + offset == pd.Timestamp("2000-01-01"):
        return f'"{frequency}" is not a period of positive length'
    return None


@dataclass(frozen=True)
class ForecastData:
    task_type: str
    series: pd.Series  # float values on a regular DatetimeIndex at `frequency`
    horizon: int
    frequency: str

    @property
    def train(self) -> pd.Series:
        return self.series.iloc[: -self.horizon]

    @property
    def test(self) -> pd.Series:
        return self.series.iloc[-self.horizon :]

    @property
    def total_samples(self) -> int:
        return len(self.series)

    def future_index(self, after: pd.Series, steps: int) -> pd.DatetimeIndex:
        """The `steps` periods following the last one of `after`."""
        return pd.date_range(after.index[-1], periods=steps + 1, freq=self.frequency)[1:]


def prepare_forecast_data(
    frame: pd.DataFrame, time_column: str, target_column: str, frequency: str, horizon: int
) -> ForecastData:
    times = pd.to_datetime(frame[time_column], errors="coerce")
    values = pd.to_numeric(frame[target_column], errors="coerce").astype("float64")
    rows = pd.DataFrame({"time": times, "value": values}).dropna(subset=["time"])
    if getattr(rows["time"].dt, "tz", None) is not None:
        # Prophet and statsmodels want naive timestamps; UTC keeps the order.
        rows["time"] = rows["time"].dt.tz_convert("UTC").dt.tz_localize(None)
    series = rows.set_index("time")["value"].sort_index().resample(frequency).sum(min_count=1)
    series = series.astype("float64")
    # DuckDB hands dates over as datetime64[us]; nanoseconds are what Prophet and statsmodels
    # are written and tested against.
    series.index = pd.DatetimeIndex(series.index.astype("datetime64[ns]"), freq=series.index.freq)
    if len(series) - horizon < MIN_TRAIN_PERIODS:
        raise TrainingDataError(
            f"the series has {len(series)} periods of {frequency}; a horizon of {horizon} needs "
            f"at least {horizon + MIN_TRAIN_PERIODS} ({MIN_TRAIN_PERIODS} to fit on)"
        )
    if series.iloc[-horizon:].isna().all():
        raise TrainingDataError(f"the last {horizon} periods have no {target_column} value")
    return ForecastData(
        task_type="forecasting", series=series, horizon=horizon, frequency=frequency
    )


def forecast_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MAPE (as a share, sklearn's epsilon for zero actuals), sMAPE, RMSE and MAE over the periods
    with an actual value."""
    observed = ~np.isnan(actual)
    actual, predicted = actual[observed], predicted[observed]
    denominator = np.abs(actual) + np.abs(predicted)
    ratios = np.divide(
        2 * np.abs(predicted - actual),
        denominator,
        out=np.zeros_like(actual),
        where=denominator > 0,
    )
    return {
        "mape": round(float(metrics.mean_absolute_percentage_error(actual, predicted)), DIGITS),
        "smape": round(float(ratios.mean()), DIGITS),
        "rmse": round(float(np.sqrt(metrics.mean_squared_error(actual, predicted))), DIGITS),
        "mae": round(float(metrics.mean_absolute_error(actual, predicted)), DIGITS),
    }


def forecast_spec_document(
    data: ForecastData,
    algorithm: str,
    target_column: str,
    time_column: str,
    interval_width: float,
) -> dict[str, Any]:
    """`feature_spec.json` of a forecaster: what a deployment needs to forecast the periods after
    the series without the training table — the `algorithm`, the series' `frequency` (pandas
    offset alias) and `last_timestamp` (ISO 8601), and the `interval_width` of its intervals."""
    return {
        "format_version": 1,
        "task_type": "forecasting",
        "algorithm": algorithm,
        "target_column": target_column,
        "time_column": time_column,
        "frequency": data.frequency,
        "last_timestamp": pd.Timestamp(data.series.index[-1]).isoformat(),
        "interval_width": interval_width,
        "features": [],
        "classes": None,
    }
