"""The algorithm registry: one module per algorithm, listed here."""

from app.training.algorithms.arima import ArimaAlgorithm
from app.training.algorithms.base import Algorithm
from app.training.algorithms.lightgbm import LightGBMAlgorithm
from app.training.algorithms.neural_network import NeuralNetworkAlgorithm
from app.training.algorithms.prophet import ProphetAlgorithm
from app.training.algorithms.sklearn_models import LinearAlgorithm, RandomForestAlgorithm
from app.training.algorithms.xgboost import XGBoostAlgorithm

ALGORITHMS: dict[str, Algorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        XGBoostAlgorithm(),
        LightGBMAlgorithm(),
        RandomForestAlgorithm(),
        LinearAlgorithm(),
        NeuralNetworkAlgorithm(),
        ProphetAlgorithm(),
        ArimaAlgorithm(),
    )
}

# Other names a request may use; jobs record the algorithm's own name.
ALIASES: dict[str, str] = {"logistic": "linear"}
