"""The algorithm registry: one module per algorithm, listed here."""

from app.training.algorithms.base import Algorithm
from app.training.algorithms.xgboost import XGBoostAlgorithm

ALGORITHMS: dict[str, Algorithm] = {
    algorithm.name: algorithm for algorithm in (XGBoostAlgorithm(),)
}
