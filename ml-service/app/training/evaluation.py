"""Test-split metrics in seed 001's shape, and normalised feature importance."""

import math

import numpy as np
from sklearn import metrics

# Rounded so results read well; identical inputs still give identical numbers.
DIGITS = 6


def _round(value: float) -> float:
    return round(float(value), DIGITS)


def classification_metrics(
    labels: np.ndarray, probabilities: np.ndarray, class_names: list[object]
) -> dict:
    """Binary: precision/recall/f1 of the positive class; multi-class: macro averages and
    one-vs-rest AUC. `per_class` is keyed by the original label values."""
    class_count = probabilities.shape[1]
    predicted = probabilities.argmax(axis=1)
    binary = class_count == 2
    average = "binary" if binary else "macro"
    present = np.unique(labels)
    if len(present) < 2:
        auc = None
    elif binary:
        auc = _round(metrics.roc_auc_score(labels, probabilities[:, 1]))
    else:
        auc = _round(
            metrics.roc_auc_score(
                labels,
                probabilities,
                multi_class="ovr",
                average="macro",
                labels=list(range(class_count)),
            )
        )
    return {
        "accuracy": _round(metrics.accuracy_score(labels, predicted)),
        "precision": _round(
            metrics.precision_score(labels, predicted, average=average, zero_division=0)
        ),
        "recall": _round(metrics.recall_score(labels, predicted, average=average, zero_division=0)),
        "f1_score": _round(metrics.f1_score(labels, predicted, average=average, zero_division=0)),
        "auc_roc": auc,
        "confusion_matrix": metrics.confusion_matrix(
            labels, predicted, labels=list(range(class_count))
        ).tolist(),
        "log_loss": _round(
            metrics.log_loss(labels, probabilities, labels=list(range(class_count)))
        ),
        "per_class": _per_class(labels, predicted, class_names),
    }


def _per_class(labels: np.ndarray, predicted: np.ndarray, class_names: list[object]) -> dict:
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        labels, predicted, labels=list(range(len(class_names))), zero_division=0
    )
    return {
        str(name): {
            "precision": _round(precision[index]),
            "recall": _round(recall[index]),
            "f1_score": _round(f1[index]),
            "support": int(support[index]),
        }
        for index, name in enumerate(class_names)
    }


def regression_metrics(values: np.ndarray, predicted: np.ndarray) -> dict:
    return {
        "rmse": _round(math.sqrt(metrics.mean_squared_error(values, predicted))),
        "mae": _round(metrics.mean_absolute_error(values, predicted)),
        "r2": _round(metrics.r2_score(values, predicted)),
        # a share (0.12 = 12 %); rows whose true value is 0 weigh by sklearn's epsilon
        "mape": _round(metrics.mean_absolute_percentage_error(values, predicted)),
    }


def normalised_importance(raw: dict[str, float], features: list[str]) -> dict[str, float]:
    """Each feature's share of the total (0 for unused features), largest first."""
    values = {feature: max(float(raw.get(feature, 0.0)), 0.0) for feature in features}
    total = sum(values.values())
    if total == 0:
        shares = {feature: 1 / len(features) for feature in features}
    else:
        shares = {feature: value / total for feature, value in values.items()}
    return dict(sorted(shares.items(), key=lambda item: (-item[1], item[0])))
