"""Permutation importance: what any fitted model gets when it has no importance of its own.

A feature's importance is how much the test loss grows when that feature's column is shuffled
(log loss for classification, RMSE for regression), averaged over a few seeded shuffles. Computed
on the test split, so it measures what the model uses to generalise, not what it memorised.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, mean_squared_error

# Shuffles per feature; more steadies the estimate at the cost of predict calls.
PERMUTATION_REPEATS = 5


def _loss(task_type: str, labels: np.ndarray, predicted: np.ndarray) -> float:
    if task_type == "classification":
        return float(log_loss(labels, predicted, labels=list(range(predicted.shape[1]))))
    return float(np.sqrt(mean_squared_error(labels, predicted)))


def permutation_importance(
    predict: Callable[[pd.DataFrame], np.ndarray],
    features: pd.DataFrame,
    labels: np.ndarray,
    task_type: str,
    random_state: int,
    repeats: int = PERMUTATION_REPEATS,
) -> dict[str, float]:
    """Mean loss increase per feature column (may be negative for useless features).

    `predict` is `FittedModel.predict`: class probabilities or values for `features`.
    The same `random_state` gives the same shuffles, so the result repeats exactly.
    """
    rng = np.random.default_rng(random_state)
    baseline = _loss(task_type, labels, predict(features))
    importance: dict[str, float] = {}
    for column in features.columns:
        increases = []
        for _ in range(repeats):
            shuffled = features.copy()
            order = rng.permutation(len(features))
            shuffled[column] = features[column].iloc[order].to_numpy()
            if isinstance(features[column].dtype, pd.CategoricalDtype):
                shuffled[column] = pd.Categorical(
                    shuffled[column], categories=features[column].cat.categories
                )
            increases.append(_loss(task_type, labels, predict(shuffled)) - baseline)
        importance[column] = float(np.mean(increases))
    return importance
