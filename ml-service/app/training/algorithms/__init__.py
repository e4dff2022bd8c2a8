"""The algorithm registry: one module per algorithm, listed here and imported on first use.

Importing every algorithm's module costs about 10 s of CPU on the 2-core machine (PyTorch,
Prophet and the matplotlib it draws with, skops' trusted types), and each process that runs one
algorithm would pay it for the six it never calls: a sweep's trial actor (measured: importing
`app.tuning.trial` took 14.8 s, 4.4 s of it without the other algorithms), a warm training
worker, a Serve replica of a forecaster. So `ALGORITHMS[name]` imports that algorithm's module
the first time it is asked for; iterating the registry, as the catalog does, imports them all.
"""

import importlib
import threading
from collections.abc import Iterator, Mapping

from app.training.algorithms.base import Algorithm

# name → (module, class); each class's `name` is its key (tests/test_every_algorithm.py checks).
_CLASSES: dict[str, tuple[str, str]] = {
    "xgboost": ("app.training.algorithms.xgboost", "XGBoostAlgorithm"),
    "lightgbm": ("app.training.algorithms.lightgbm", "LightGBMAlgorithm"),
    "random_forest": ("app.training.algorithms.sklearn_models", "RandomForestAlgorithm"),
    "linear": ("app.training.algorithms.sklearn_models", "LinearAlgorithm"),
    "neural_network": ("app.training.algorithms.neural_network", "NeuralNetworkAlgorithm"),
    "prophet": ("app.training.algorithms.prophet", "ProphetAlgorithm"),
    "arima": ("app.training.algorithms.arima", "ArimaAlgorithm"),
}


class AlgorithmRegistry(Mapping[str, Algorithm]):
    """The algorithms by name, in the catalog's order; each built once, on first use.
    An unknown name is a KeyError, as in a dict."""

    def __init__(self, classes: dict[str, tuple[str, str]]) -> None:
        self._classes = classes
        self._built: dict[str, Algorithm] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Algorithm:
        built = self._built.get(name)
        if built is not None:
            return built
        module, attribute = self._classes[name]
        with self._lock:
            if name not in self._built:
                self._built[name] = getattr(importlib.import_module(module), attribute)()
            return self._built[name]

    def __contains__(self, name: object) -> bool:
        # Mapping's own would build the algorithm to answer.
        return name in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)


ALGORITHMS = AlgorithmRegistry(_CLASSES)

# Other names a request may use; jobs record the algorithm's own name.
ALIASES: dict[str, str] = {"logistic": "linear"}

__all__ = ["ALGORITHMS", "ALIASES", "Algorithm", "AlgorithmRegistry"]
