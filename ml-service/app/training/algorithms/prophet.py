"""Prophet (additive trend + seasonalities) as a Ray task; logged with MLflow's prophet flavour.

The logged model's pyfunc takes a frame with a `ds` column of timestamps and returns Prophet's
forecast frame (`yhat`, `yhat_lower`, `yhat_upper`, ...).
"""

import logging
from typing import Any

import mlflow.prophet
import numpy as np
import pandas as pd
import prophet
from mlflow.models import infer_signature
from prophet.serialize import model_from_json, model_to_json

from app.training.algorithms.base import HyperparameterSpec
from app.training.algorithms.forecasting import INTERVAL_WIDTH, ForecastingAlgorithm

# Draws behind the interval bounds; Prophet's 1000 cost seconds for little steadier bounds.
UNCERTAINTY_SAMPLES = 300
SEASONALITY_CHOICES = ("auto", "true", "false")


def _quiet() -> None:
    # cmdstanpy logs every optimisation start and finish at INFO; Prophet logs its guesses.
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _seasonality(value: str) -> bool | str:
    return {"true": True, "false": False}.get(value, value)


class ProphetAlgorithm(ForecastingAlgorithm):
    name = "prophet"
    framework = "Prophet on Ray"
    hyperparameters = (
        HyperparameterSpec(
            "seasonality_mode", "string", "additive",
            "seasonalities add to the trend or scale it", choices=("additive", "multiplicative"),
        ),
        HyperparameterSpec(
            "changepoint_prior_scale", "number", 0.05,
            "flexibility of the trend: larger follows more changes", 0, 10,
            exclusive_minimum=True,
        ),
        HyperparameterSpec(
            "seasonality_prior_scale", "number", 10.0,
            "strength of the seasonalities", 0, 100, exclusive_minimum=True,
        ),
        HyperparameterSpec(
            "yearly_seasonality", "string", "auto", "fit a yearly cycle (auto: 2+ years of data)",
            choices=SEASONALITY_CHOICES,
        ),
        HyperparameterSpec(
            "weekly_seasonality", "string", "auto", "fit a weekly cycle (auto: daily data)",
            choices=SEASONALITY_CHOICES,
        ),
        HyperparameterSpec(
            "daily_seasonality", "string", "auto", "fit a daily cycle (auto: sub-daily data)",
            choices=SEASONALITY_CHOICES,
        ),
        INTERVAL_WIDTH,
    )  # fmt: skip

    def fit_series(
        self, series: pd.Series, frequency: str, hyperparameters: dict[str, Any], seed: int
    ) -> prophet.Prophet:
        _quiet()
        chosen = hyperparameters
        model = prophet.Prophet(
            seasonality_mode=chosen["seasonality_mode"],
            changepoint_prior_scale=chosen["changepoint_prior_scale"],
            seasonality_prior_scale=chosen["seasonality_prior_scale"],
            yearly_seasonality=_seasonality(chosen["yearly_seasonality"]),
            weekly_seasonality=_seasonality(chosen["weekly_seasonality"]),
            daily_seasonality=_seasonality(chosen["daily_seasonality"]),
            interval_width=chosen["interval_width"],
            uncertainty_samples=UNCERTAINTY_SAMPLES,
        )
        history = pd.DataFrame({"ds": series.index, "y": series.to_numpy()}).dropna()
        # The seed fixes Stan's optimiser; with the sampling seed below a run repeats exactly.
        return model.fit(history, seed=seed)

    def predict_ahead(
        self,
        model: prophet.Prophet,
        series: pd.Series,
        index: pd.DatetimeIndex,
        hyperparameters: dict[str, Any],
        seed: int,
    ) -> pd.DataFrame:
        np.random.seed(seed)  # Prophet draws the interval's trend samples from numpy's global RNG
        predicted = model.predict(pd.DataFrame({"ds": index}))
        return pd.DataFrame(
            {
                "value": predicted["yhat"].to_numpy(),
                "lower": predicted["yhat_lower"].to_numpy(),
                "upper": predicted["yhat_upper"].to_numpy(),
            },
            index=index,
        )

    def portable(self, model: prophet.Prophet) -> str:
        # Prophet models do not pickle reliably (the Stan backend); its JSON form does travel.
        return model_to_json(model)

    def log_to_mlflow(self, model: str) -> str:
        fitted = model_from_json(model)
        example = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=2, freq="D")})
        info = mlflow.prophet.log_model(
            fitted,
            name="model",
            pip_requirements=[f"prophet=={prophet.__version__}"],
            signature=infer_signature(example),
        )
        return info.model_id
