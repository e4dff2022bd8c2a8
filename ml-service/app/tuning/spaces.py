"""Search spaces: the default space per algorithm, the check of a space against the algorithm's
hyperparameter catalog, and the translation into Ray Tune's domains."""

import math
from typing import Any

from ray import tune

from app.errors import FieldError, InvalidFieldsError
from app.training.algorithms.base import Algorithm, HyperparameterSpec
from app.training.algorithms.forecasting import ForecastingAlgorithm
from app.tuning.schemas import ParameterSpace

# The ranges tuning guides start from: XGBoost's parameter tuning notes (learning rate 0.01-0.3,
# depth 3-10, row/column sampling 0.6-1), LightGBM's parameters-tuning guide (num_leaves below
# 2^max_depth, min_data_in_leaf in the tens to hundreds), scikit-learn's forest and logistic
# regression defaults a decade either side, and for the network Adam's usual step sizes
# (1e-4-1e-2) with a few widths and depths. Rounds (n_estimators, epochs) stay fixed unless
# searched: early stopping decides how many a trial gets. Prophet: its documentation's
# "Hyperparameter tuning" grid (changepoint_prior_scale 0.001-0.5, seasonality_prior_scale
# 0.01-10, the seasonality mode); ARIMA: the low orders Hyndman & Athanasopoulos's stepwise
# search starts from (FPP3 §9.7), with and without differencing.
DEFAULT_SPACES: dict[str, dict[str, ParameterSpace]] = {
    "xgboost": {
        "learning_rate": ParameterSpace(type="loguniform", lower=0.01, upper=0.3),
        "max_depth": ParameterSpace(type="randint", lower=3, upper=10),
        "subsample": ParameterSpace(type="uniform", lower=0.6, upper=1.0),
        "colsample_bytree": ParameterSpace(type="uniform", lower=0.6, upper=1.0),
        "min_child_weight": ParameterSpace(type="loguniform", lower=0.5, upper=10),
    },
    "lightgbm": {
        "learning_rate": ParameterSpace(type="loguniform", lower=0.01, upper=0.3),
        "num_leaves": ParameterSpace(type="randint", lower=8, upper=256),
        "min_child_samples": ParameterSpace(type="randint", lower=5, upper=100),
        "subsample": ParameterSpace(type="uniform", lower=0.6, upper=1.0),
        "colsample_bytree": ParameterSpace(type="uniform", lower=0.6, upper=1.0),
    },
    "neural_network": {
        "hidden_layers": ParameterSpace(
            type="choice", values=[[32], [64], [64, 32], [128, 64], [128, 64, 32]]
        ),
        "learning_rate": ParameterSpace(type="loguniform", lower=1e-4, upper=1e-2),
        "dropout": ParameterSpace(type="uniform", lower=0.0, upper=0.5),
        "batch_size": ParameterSpace(type="choice", values=[32, 64, 128, 256]),
    },
    "random_forest": {
        "max_depth": ParameterSpace(type="randint", lower=3, upper=30),
        "min_samples_leaf": ParameterSpace(type="randint", lower=1, upper=20),
        "max_features": ParameterSpace(type="choice", values=["sqrt", "log2", "all"]),
    },
    "linear": {
        "C": ParameterSpace(type="loguniform", lower=0.001, upper=100),
        "class_weight": ParameterSpace(type="choice", values=["none", "balanced"]),
    },
    "prophet": {
        "changepoint_prior_scale": ParameterSpace(type="loguniform", lower=0.001, upper=0.5),
        "seasonality_prior_scale": ParameterSpace(type="loguniform", lower=0.01, upper=10),
        "seasonality_mode": ParameterSpace(type="choice", values=["additive", "multiplicative"]),
    },
    "arima": {
        "order": ParameterSpace(
            type="choice",
            values=[[0, 1, 1], [1, 1, 0], [1, 1, 1], [2, 1, 2], [1, 0, 0], [2, 0, 2]],
        ),
    },
}


def tunable(algorithm: Algorithm) -> bool:
    """Trials fit in the trial's own process (one CPU, no Ray Train start-up), so the algorithm
    must fit in process (every tabular algorithm and both forecasters do)."""
    return algorithm.fits_in_process


def forecasts(algorithm: Algorithm) -> bool:
    """A forecaster's trial is one fit scored on the tail of the training part: no rounds."""
    return isinstance(algorithm, ForecastingAlgorithm)


def check_space(algorithm: Algorithm, space: dict[str, ParameterSpace]) -> None:
    """422 listing every `search_space.<name>` that is not in the catalog or does not fit the
    hyperparameter's type and range."""
    specs = {spec.name: spec for spec in algorithm.hyperparameters}
    errors: list[FieldError] = []
    for name, domain in space.items():
        field = f"search_space.{name}"
        spec = specs.get(name)
        if spec is None:
            errors.append(
                FieldError(
                    field=field,
                    message=f"{algorithm.name} has no hyperparameter {name}; known: "
                    + ", ".join(specs),
                )
            )
            continue
        problem = _domain_problem(spec, domain)
        if problem:
            errors.append(FieldError(field=field, message=problem))
    if errors:
        raise InvalidFieldsError(errors)


def _domain_problem(spec: HyperparameterSpec, domain: ParameterSpace) -> str | None:
    if domain.values is not None:
        for value in domain.values:
            try:
                spec.checked(value)
            except ValueError as error:
                return f"value {value!r}: {spec.name} {error}"
        return None
    if spec.type in {"string", "boolean", "integer_list"}:
        return f"{spec.name} is a {spec.type.replace('_', ' ')}: search it with choice or grid"
    assert domain.lower is not None and domain.upper is not None
    if spec.type == "integer":
        if domain.type in {"uniform", "loguniform"}:
            return f"{spec.name} is an integer: use randint, quniform/qloguniform with an " \
                "integer q, choice or grid"
        if domain.q is not None and not float(domain.q).is_integer():
            return f"{spec.name} is an integer: q must be a whole number"
        if not (float(domain.lower).is_integer() and float(domain.upper).is_integer()):
            return f"{spec.name} is an integer: lower and upper must be whole numbers"
    elif domain.type == "randint":
        return f"{spec.name} is a number: use uniform, loguniform or their q variants"
    for bound in (domain.lower, domain.upper):
        try:
            spec.checked(int(bound) if spec.type == "integer" else bound)
        except ValueError as error:
            return f"bound {bound:g}: {spec.name} {error}"
    return None


def tune_domain(domain: ParameterSpace) -> Any:
    """The Ray Tune domain; `randint`'s upper bound is inclusive on the wire (Tune's is not)."""
    lower, upper = domain.lower, domain.upper
    match domain.type:
        case "choice":
            return tune.choice(domain.values)
        case "grid":
            return tune.grid_search(domain.values)
        case "uniform":
            return tune.uniform(lower, upper)
        case "loguniform":
            return tune.loguniform(lower, upper)
        case "randint":
            return tune.randint(int(lower), int(upper) + 1)
        case "quniform":
            return tune.quniform(lower, upper, domain.q)
        case "qloguniform":
            return tune.qloguniform(lower, upper, domain.q)


def grid_size(space: dict[str, ParameterSpace]) -> int:
    """Combinations of a grid search (`choice` counts as a grid there)."""
    return math.prod(len(domain.values or []) for domain in space.values())


def largest_value(domain: ParameterSpace) -> Any:
    """The domain's largest value (its upper bound, or the largest listed value)."""
    if domain.values is not None:
        return max(domain.values, key=lambda value: value if isinstance(value, int | float) else 0)
    return domain.upper
