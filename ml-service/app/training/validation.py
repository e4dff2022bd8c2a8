"""Submission checks of a TrainingConfig against the algorithm and the dataset's schema."""

from dataclasses import dataclass
from typing import Any

from app.datasets.schemas import ColumnSchema, DatasetSchema
from app.datasets.warehouse import WarehouseManager, is_integer_type
from app.errors import ForbiddenError, InvalidFieldError
from app.training.algorithms import ALGORITHMS, ALIASES, Algorithm
from app.training.forecasting import frequency_problem
from app.training.schemas import TrainingConfig

MAX_CLASS_COUNT = 50
MIN_ROWS = 10
_FEATURE_KINDS = {"numeric", "boolean", "categorical"}


@dataclass(frozen=True)
class ResolvedConfig:
    algorithm: Algorithm
    hyperparameters: dict[str, Any]
    feature_columns: list[str]
    categorical_columns: list[str]


def check_algorithm(config: TrainingConfig, tenant_id: str) -> tuple[Algorithm, dict[str, Any]]:
    """Checks that need no data: algorithm, task type, hyperparameters, dataset tenant."""
    algorithm = ALGORITHMS.get(ALIASES.get(config.algorithm, config.algorithm))
    if algorithm is None:
        known = ", ".join([*ALGORITHMS, *ALIASES])
        raise InvalidFieldError(
            "algorithm", f"unknown algorithm {config.algorithm}; known: {known}"
        )
    if config.algorithm == "logistic" and config.task_type != "classification":
        raise InvalidFieldError(
            "task_type", f"logistic is for classification; use linear for {config.task_type}"
        )
    if config.task_type not in algorithm.task_types:
        raise InvalidFieldError(
            "task_type",
            f"{algorithm.name} supports {', '.join(algorithm.task_types)}, not {config.task_type}",
        )
    hyperparameters = algorithm.resolve_hyperparameters(config.hyperparameters)
    _check_forecasting_fields(config)
    if config.dataset.tenant_id is not None and config.dataset.tenant_id != tenant_id:
        raise ForbiddenError("dataset.tenant_id names another tenant than the X-Tenant-ID header")
    return algorithm, hyperparameters


FORECASTING_FIELDS = ("time_column", "horizon", "frequency")


def _check_forecasting_fields(config: TrainingConfig) -> None:
    """time_column, horizon and frequency: required for forecasting, refused for the rest."""
    if config.task_type != "forecasting":
        for name in FORECASTING_FIELDS:
            if getattr(config, name) is not None:
                raise InvalidFieldError(
                    name, f"{name} is for forecasting only, not {config.task_type}"
                )
        return
    for name in FORECASTING_FIELDS:
        if getattr(config, name) is None:
            raise InvalidFieldError(name, f"{name} is required for forecasting")
    if config.feature_columns is not None:
        raise InvalidFieldError(
            "feature_columns",
            "forecasting models target_column over time_column alone; leave feature_columns out",
        )
    if config.split.strategy == "stratified":
        raise InvalidFieldError(
            "split.strategy",
            "forecasting holds out the last horizon periods; stratified does not apply",
        )
    assert config.frequency is not None
    problem = frequency_problem(config.frequency)
    if problem is not None:
        raise InvalidFieldError("frequency", problem)


def _is_identifier_like(column: ColumnSchema, row_count: int) -> bool:
    if column.name.lower() == "id" or column.name.lower().endswith("_id"):
        return True
    unique_per_row = row_count > 0 and column.distinct_count >= 0.95 * row_count
    integer_or_text = is_integer_type(column.type) or column.kind in {"text", "categorical"}
    return unique_per_row and integer_or_text


def _check_target(
    config: TrainingConfig,
    tenant_id: str,
    target: ColumnSchema,
    warehouses: WarehouseManager,
) -> None:
    if config.task_type in {"regression", "forecasting"}:
        if target.kind != "numeric":
            raise InvalidFieldError(
                "target_column",
                f"{config.task_type} needs a numeric target; {target.name} is {target.kind} "
                f"({target.type})",
            )
        return
    if target.kind == "boolean":
        return
    if target.kind not in {"numeric", "categorical"}:
        raise InvalidFieldError(
            "target_column",
            f"classification needs a discrete target; {target.name} is {target.kind}",
        )
    if target.distinct_count > MAX_CLASS_COUNT:
        raise InvalidFieldError(
            "target_column",
            f"{target.name} has about {target.distinct_count} distinct values; classification "
            f"allows at most {MAX_CLASS_COUNT} (use regression for a continuous target)",
        )
    if target.kind == "numeric" and not is_integer_type(target.type):
        non_integer = warehouses.count_non_integer_values(
            tenant_id, config.dataset, "dataset", target.name
        )
        if non_integer:
            raise InvalidFieldError(
                "target_column",
                f"{target.name} holds non-integer values; classification needs class labels",
            )


def check_against_schema(
    config: TrainingConfig,
    tenant_id: str,
    algorithm: Algorithm,
    hyperparameters: dict[str, Any],
    schema: DatasetSchema,
    warehouses: WarehouseManager,
) -> ResolvedConfig:
    """Blocking (may query the warehouse): call it from a thread."""
    columns = {column.name: column for column in schema.columns}
    if schema.row_count < MIN_ROWS:
        raise InvalidFieldError(
            "dataset", f"the dataset has {schema.row_count} rows; at least {MIN_ROWS} are needed"
        )
    target = columns.get(config.target_column)
    if target is None:
        raise InvalidFieldError(
            "target_column",
            f"the dataset has no column {config.target_column}; columns: {', '.join(columns)}",
        )
    _check_target(config, tenant_id, target, warehouses)

    if config.task_type == "forecasting":
        time_column = columns.get(config.time_column or "")
        if time_column is None:
            raise InvalidFieldError(
                "time_column",
                f"the dataset has no column {config.time_column}; columns: {', '.join(columns)}",
            )
        if time_column.kind != "datetime":
            raise InvalidFieldError(
                "time_column",
                f"{time_column.name} is {time_column.kind} ({time_column.type}); forecasting "
                "needs a date or timestamp column (cast it in the SQL)",
            )
        return ResolvedConfig(algorithm, hyperparameters, [], [])

    if config.feature_columns is None:
        features = [
            column.name
            for column in schema.columns
            if column.name != target.name
            and column.kind in _FEATURE_KINDS
            and not _is_identifier_like(column, schema.row_count)
        ]
        if not features:
            raise InvalidFieldError(
                "feature_columns", "the dataset has no usable feature column; name them"
            )
    else:
        features = []
        for index, name in enumerate(config.feature_columns):
            field = f"feature_columns.{index}"
            column = columns.get(name)
            if column is None:
                raise InvalidFieldError(field, f"the dataset has no column {name}")
            if name == target.name:
                raise InvalidFieldError(field, f"{name} is the target column")
            if name in features:
                raise InvalidFieldError(field, f"{name} is listed twice")
            if column.kind not in _FEATURE_KINDS:
                raise InvalidFieldError(
                    field,
                    f"{name} is a {column.kind} column; features must be numeric, boolean or "
                    "categorical (derive numbers from it in the SQL)",
                )
            features.append(name)
    categorical = [name for name in features if columns[name].kind == "categorical"]
    return ResolvedConfig(algorithm, hyperparameters, features, categorical)
