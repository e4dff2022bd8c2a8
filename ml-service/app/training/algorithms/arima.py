"""(S)ARIMA with statsmodels' SARIMAX as a Ray task; logged with MLflow's statsmodels flavour.

The logged model's pyfunc takes a frame with `start` and `end` columns (positions or timestamps)
and returns statsmodels' `predict` for that range.
"""

import pickle
import warnings
from typing import Any

import mlflow.statsmodels
import pandas as pd
import statsmodels
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.statespace.sarimax import SARIMAX, SARIMAXResults

from app.errors import InvalidFieldError
from app.training.algorithms.base import HyperparameterSpec
from app.training.algorithms.forecasting import INTERVAL_WIDTH, ForecastingAlgorithm

TRENDS = {"none": None, "c": "c", "t": "t", "ct": "ct"}


class ArimaAlgorithm(ForecastingAlgorithm):
    name = "arima"
    framework = "statsmodels SARIMAX on Ray"
    hyperparameters = (
        HyperparameterSpec(
            "order", "integer_list", [1, 1, 1], "(p, d, q): autoregressive, differencing and "
            "moving-average orders", 0, 10, min_items=3, max_items=3,
        ),
        HyperparameterSpec(
            "seasonal_order", "integer_list", None, "(P, D, Q, s): the seasonal part, s periods "
            "per season (e.g. [1, 0, 1, 7] for a weekly cycle in daily data); null: none",
            0, 400, min_items=4, max_items=4, nullable=True,
        ),
        HyperparameterSpec(
            "trend", "string", "none", "deterministic trend: c constant, t linear, ct both",
            choices=tuple(TRENDS),
        ),
        HyperparameterSpec(
            "max_iter", "integer", 200, "maximum optimiser iterations of the likelihood fit",
            1, 5000,
        ),
        INTERVAL_WIDTH,
    )  # fmt: skip

    def resolve_hyperparameters(self, given: dict[str, Any]) -> dict[str, Any]:
        resolved = super().resolve_hyperparameters(given)
        seasonal = resolved["seasonal_order"]
        if seasonal is not None and seasonal[3] < 2:
            raise InvalidFieldError(
                "hyperparameters.seasonal_order",
                "the season length s (last item) must be at least 2; use null for no seasonality",
            )
        return resolved

    def fit_series(
        self, series: pd.Series, frequency: str, hyperparameters: dict[str, Any], seed: int
    ) -> SARIMAXResults:
        chosen = hyperparameters
        seasonal = chosen["seasonal_order"]

        def model(values: pd.Series) -> SARIMAX:
            return SARIMAX(
                values,
                order=tuple(chosen["order"]),
                seasonal_order=tuple(seasonal) if seasonal is not None else (0, 0, 0, 0),
                trend=TRENDS[chosen["trend"]],
                freq=frequency,
            )

        # The likelihood optimiser runs off to a degenerate unit-root solution on values in the
        # thousands (demo revenue); fitted on the series in units of its standard deviation it
        # converges. The parameters then map back exactly: sigma2 scales with the square,
        # trend terms linearly, and the rest are scale-free.
        scale = float(series.std()) or 1.0
        # Maximum likelihood from deterministic start values: no seed needed to repeat a fit.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            scaled = model(series / scale).fit(disp=False, maxiter=chosen["max_iter"])
            params = scaled.params.copy()
            params["sigma2"] *= scale**2
            for name in ("intercept", "drift"):
                if name in params:
                    params[name] *= scale
            return model(series).filter(params)

    def predict_ahead(
        self,
        model: SARIMAXResults,
        series: pd.Series,
        index: pd.DatetimeIndex,
        hyperparameters: dict[str, Any],
        seed: int,
    ) -> pd.DataFrame:
        predicted = model.get_forecast(steps=len(index))
        bounds = predicted.conf_int(alpha=1 - hyperparameters["interval_width"])
        return pd.DataFrame(
            {
                "value": predicted.predicted_mean.to_numpy(),
                "lower": bounds.iloc[:, 0].to_numpy(),
                "upper": bounds.iloc[:, 1].to_numpy(),
            },
            index=index,
        )

    def portable(self, model: SARIMAXResults) -> bytes:
        # Pickled here and unpickled in the driver: arrays out of Ray's object store are
        # read-only, which statsmodels' Cython state-space code refuses to unpickle into.
        return pickle.dumps(model)

    def log_to_mlflow(self, model: bytes) -> str:
        info = mlflow.statsmodels.log_model(
            pickle.loads(model),  # bytes this service pickled itself
            name="model",
            pip_requirements=[f"statsmodels=={statsmodels.__version__}"],
        )
        return info.model_id
