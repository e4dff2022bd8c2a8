"""What a forecasting algorithm (Prophet, ARIMA) provides, and the Ray task that runs it.

Neither framework has a Ray trainer, and each fit is one call, so a job is one Ray task asking for
the job's CPUs, reporting its stages to the progress actor:
1. fit on the series without its last `horizon` periods, forecast those and score them;
2. refit on the whole series (the model that is logged and would be deployed);
3. forecast `horizon` periods past the data.
"""

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import ray

from app.training.algorithms.base import (
    Algorithm,
    FitContext,
    FittedModel,
    HyperparameterSpec,
)
from app.training.features import TrainingData
from app.training.forecasting import ForecastData, forecast_metrics

STAGES = 3
INTERVAL_WIDTH = HyperparameterSpec(
    "interval_width", "number", 0.8, "coverage of the prediction interval (lower..upper)",
    0, 1, exclusive_minimum=True,
)  # fmt: skip


@dataclass(frozen=True)
class ForecastOutcome:
    metrics: dict[str, float]
    forecast: dict[str, Any]  # the `Forecast` wire shape
    model: Any  # the fitted model in its portable form (`ForecastingAlgorithm.portable`)


def _points(predicted: pd.DataFrame, actual: pd.Series | None) -> list[dict[str, Any]]:
    points = []
    for position, (timestamp, row) in enumerate(predicted.iterrows()):
        observed = None if actual is None else actual.iloc[position]
        points.append(
            {
                "timestamp": pd.Timestamp(timestamp).isoformat(),
                "value": float(row["value"]),
                "lower": float(row["lower"]),
                "upper": float(row["upper"]),
                "actual": None if observed is None or np.isnan(observed) else float(observed),
            }
        )
    return points


# Resources are set per call from the job's request (FitContext.task_options).
@ray.remote(max_retries=0)
def _forecast_remote(
    algorithm: "ForecastingAlgorithm", data: ForecastData, context: FitContext
) -> ForecastOutcome:
    return algorithm.run_stages(data, context)


class ForecastingAlgorithm(Algorithm):
    task_types = ("forecasting",)
    framework: ClassVar[str]
    fits_in_process = True

    def total_iterations(self, hyperparameters: dict[str, Any]) -> int:
        return STAGES

    def fit(self, data: TrainingData, context: FitContext) -> FittedModel:
        raise TypeError(f"{self.name} forecasts a series; use forecast()")

    def forecast(self, data: ForecastData, context: FitContext) -> ForecastOutcome:
        if context.in_process:
            return self.run_stages(data, context)
        return ray.get(
            _forecast_remote.options(**context.task_options()).remote(self, data, context)
        )

    def run_stages(self, data: ForecastData, context: FitContext) -> ForecastOutcome:
        """Runs in the Ray task."""
        chosen = context.hyperparameters
        progress = context.progress
        train = data.train
        ray.get(progress.report.remote([], stage=f"fitting on the first {len(train)} periods"))
        model = self.fit_series(train, data.frequency, chosen, context.random_state)
        holdout = self.predict_ahead(model, train, data.test.index, chosen, context.random_state)
        metrics = forecast_metrics(data.test.to_numpy(), holdout["value"].to_numpy())
        test_metrics = {f"test-{name}": value for name, value in metrics.items()}
        stage = f"refitting on all {len(data.series)} periods"
        ray.get(progress.report.remote([(1, test_metrics)], stage=stage))
        model = self.fit_series(data.series, data.frequency, chosen, context.random_state)
        stage = f"forecasting {data.horizon} periods ahead"
        ray.get(progress.report.remote([(2, test_metrics)], stage=stage))
        future_index = data.future_index(data.series, data.horizon)
        future = self.predict_ahead(model, data.series, future_index, chosen, context.random_state)
        ray.get(progress.report.remote([(3, test_metrics)], stage="logging the model"))
        return ForecastOutcome(
            metrics=metrics,
            forecast={
                "frequency": data.frequency,
                "interval_width": chosen["interval_width"],
                "holdout": _points(holdout, data.test),
                "future": _points(future, None),
            },
            model=self.portable(model),
        )

    @abstractmethod
    def fit_series(
        self, series: pd.Series, frequency: str, hyperparameters: dict[str, Any], seed: int
    ) -> Any:
        """The model fitted on `series` (regular index, NaN for missing periods)."""

    @abstractmethod
    def predict_ahead(
        self,
        model: Any,
        series: pd.Series,
        index: pd.DatetimeIndex,
        hyperparameters: dict[str, Any],
        seed: int,
    ) -> pd.DataFrame:
        """`value`, `lower`, `upper` for the periods of `index`, which follow `series`."""

    @abstractmethod
    def portable(self, model: Any) -> Any:
        """The model in a form that crosses Ray's object store intact."""

    @abstractmethod
    def log_to_mlflow(self, model: Any) -> str:
        """Log the portable model into the active MLflow run; returns the LoggedModel id."""
