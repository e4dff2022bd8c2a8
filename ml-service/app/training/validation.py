"""The training rules, in one place: a TrainingConfig checked against the algorithm catalog, the
dataset's schema and the dataset's values, before anything is queued.

Both `POST /api/v1/training/validate` and `POST /api/v1/training/submit` run `validate_config`;
the AI Service asks the former instead of keeping its own copy of the rules. Every problem found
is reported at once (one 422 listing each field), not only the first.
"""

from dataclasses import dataclass
from typing import Any

import pandas as pd

from app.datasets import sql
from app.datasets.schemas import ColumnSchema, DatasetSchema
from app.datasets.warehouse import WarehouseManager, is_integer_type
from app.errors import FieldError, ForbiddenError, InvalidFieldsError, MLServiceError
from app.training.algorithms import ALGORITHMS, ALIASES, Algorithm
from app.training.forecasting import MIN_TRAIN_PERIODS, frequency_problem
from app.training.schemas import TrainingConfig

MAX_CLASS_COUNT = 50
MIN_ROWS = 10
_FEATURE_KINDS = {"numeric", "boolean", "categorical"}
_FLOAT_TYPES = {"FLOAT", "REAL", "DOUBLE"}
FORECASTING_FIELDS = ("time_column", "horizon", "frequency")


@dataclass(frozen=True)
class ResolvedConfig:
    algorithm: Algorithm
    hyperparameters: dict[str, Any]
    feature_columns: list[str]
    categorical_columns: list[str]


@dataclass(frozen=True)
class ValidatedConfig:
    resolved: ResolvedConfig
    schema: DatasetSchema


class _Problems:
    """Collects field problems so one answer lists them all."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field=field, message=message))

    def add_error(self, error: MLServiceError) -> None:
        self.errors.extend(error.errors or [FieldError(field="body", message=error.detail)])

    def raise_any(self) -> None:
        if self.errors:
            raise InvalidFieldsError(self.errors)


def validate_config(
    config: TrainingConfig, tenant_id: str, warehouses: WarehouseManager
) -> ValidatedConfig:
    """Every rule of a training submission; blocking (queries the warehouse): call it from a
    thread.

    Raises ForbiddenError (403) when `dataset.tenant_id` names another tenant, InvalidFieldsError
    (422) listing every field problem found: the algorithm and its hyperparameters, the task's
    fields, the columns against the schema, then the values (all-NULL, ±inf, a constant only
    feature, a series too short for the horizon) from one aggregate query in DuckDB.
    """
    if config.dataset.tenant_id is not None and config.dataset.tenant_id != tenant_id:
        raise ForbiddenError("dataset.tenant_id names another tenant than the X-Tenant-ID header")
    problems = _Problems()
    algorithm, hyperparameters = _algorithm_problems(config, problems)
    # A dataset that cannot be described (bad query, unknown table) is reported by itself.
    schema = warehouses.describe(tenant_id, config.dataset, "dataset")
    resolved = _schema_problems(config, tenant_id, schema, warehouses, problems)
    if not problems.errors and resolved is not None:
        _value_problems(config, tenant_id, schema, resolved, warehouses, problems)
    problems.raise_any()
    assert algorithm is not None and hyperparameters is not None and resolved is not None
    return ValidatedConfig(
        ResolvedConfig(algorithm, hyperparameters, resolved[0], resolved[1]), schema
    )


def _algorithm_problems(
    config: TrainingConfig, problems: _Problems
) -> tuple[Algorithm | None, dict[str, Any] | None]:
    """Rules that need no data: algorithm, task type, hyperparameters, task-specific fields."""
    algorithm = ALGORITHMS.get(ALIASES.get(config.algorithm, config.algorithm))
    hyperparameters: dict[str, Any] | None = None
    if algorithm is None:
        known = ", ".join([*ALGORITHMS, *ALIASES])
        problems.add("algorithm", f"unknown algorithm {config.algorithm}; known: {known}")
    elif config.algorithm == "logistic" and config.task_type != "classification":
        problems.add(
            "task_type", f"logistic is for classification; use linear for {config.task_type}"
        )
    elif config.task_type not in algorithm.task_types:
        problems.add(
            "task_type",
            f"{algorithm.name} supports {', '.join(algorithm.task_types)}, not {config.task_type}",
        )
    if algorithm is not None:
        hyperparameters = _hyperparameter_problems(algorithm, config.hyperparameters, problems)
    _forecasting_field_problems(config, problems)
    _split_problems(config, problems)
    return algorithm, hyperparameters


def _hyperparameter_problems(
    algorithm: Algorithm, given: dict[str, Any], problems: _Problems
) -> dict[str, Any] | None:
    """Each hyperparameter checked on its own (so every bad one is named), then all together
    (rules across several, such as ARIMA's seasonal order)."""
    before = len(problems.errors)
    for name, value in given.items():
        try:
            algorithm.resolve_hyperparameters({name: value})
        except MLServiceError as error:
            problems.add_error(error)
    if len(problems.errors) > before:
        return None
    try:
        return algorithm.resolve_hyperparameters(given)
    except MLServiceError as error:
        problems.add_error(error)
        return None


def _forecasting_field_problems(config: TrainingConfig, problems: _Problems) -> None:
    """time_column, horizon and frequency: required for forecasting, refused for the rest."""
    if config.task_type != "forecasting":
        for name in FORECASTING_FIELDS:
            if getattr(config, name) is not None:
                problems.add(name, f"{name} is for forecasting only, not {config.task_type}")
        return
    for name in FORECASTING_FIELDS:
        if getattr(config, name) is None:
            problems.add(name, f"{name} is required for forecasting")
    if config.feature_columns is not None:
        problems.add(
            "feature_columns",
            "forecasting models target_column over time_column alone; leave feature_columns out",
        )
    if config.frequency is not None:
        problem = frequency_problem(config.frequency)
        if problem is not None:
            problems.add("frequency", problem)


def _split_problems(config: TrainingConfig, problems: _Problems) -> None:
    split = config.split
    if config.task_type == "forecasting":
        if split.strategy != "random":
            problems.add(
                "split.strategy",
                f"forecasting holds out the last horizon periods; {split.strategy} does not "
                "apply (leave split out)",
            )
        return
    if split.strategy == "stratified" and config.task_type != "classification":
        problems.add(
            "split.strategy",
            f"stratified splits need a classification task, not {config.task_type}",
        )
    if split.strategy == "time" and split.time_column is None:
        problems.add("split.time_column", "a time split needs the column that orders the rows")
    if split.strategy != "time" and split.time_column is not None:
        problems.add("split.time_column", "time_column is for the time strategy only")


def _is_identifier_like(column: ColumnSchema, row_count: int) -> bool:
    if column.name.lower() == "id" or column.name.lower().endswith("_id"):
        return True
    unique_per_row = row_count > 0 and column.distinct_count >= 0.95 * row_count
    integer_or_text = is_integer_type(column.type) or column.kind in {"text", "categorical"}
    return unique_per_row and integer_or_text


def _target_problem(
    config: TrainingConfig, tenant_id: str, target: ColumnSchema, warehouses: WarehouseManager
) -> str | None:
    if config.task_type in {"regression", "forecasting"}:
        if target.kind != "numeric":
            return (
                f"{config.task_type} needs a numeric target; {target.name} is {target.kind} "
                f"({target.type})"
            )
        return None
    if target.kind not in {"numeric", "categorical", "boolean"}:
        return f"classification needs a discrete target; {target.name} is {target.kind}"
    if target.distinct_count > MAX_CLASS_COUNT:
        return (
            f"{target.name} has about {target.distinct_count} distinct values; classification "
            f"allows at most {MAX_CLASS_COUNT} (use regression for a continuous target)"
        )
    if target.distinct_count == 1:
        return f"{target.name} holds a single value; classification needs at least 2 classes"
    numeric_labels = target.kind == "numeric" and not is_integer_type(target.type)
    if numeric_labels and warehouses.count_non_integer_values(
        tenant_id, config.dataset, "dataset", target.name
    ):
        return f"{target.name} holds non-integer values; classification needs class labels"
    return None


def _schema_problems(
    config: TrainingConfig,
    tenant_id: str,
    schema: DatasetSchema,
    warehouses: WarehouseManager,
    problems: _Problems,
) -> tuple[list[str], list[str]] | None:
    """The columns against the schema; the features and categorical features, None when the
    target is missing (the features cannot be chosen without it)."""
    columns = {column.name: column for column in schema.columns}
    names = ", ".join(columns)
    if schema.row_count < MIN_ROWS:
        problems.add(
            "dataset", f"the dataset has {schema.row_count} rows; at least {MIN_ROWS} are needed"
        )
    target = columns.get(config.target_column)
    if target is None:
        problems.add(
            "target_column",
            f"the dataset has no column {config.target_column}; columns: {names}",
        )
    else:
        problem = _target_problem(config, tenant_id, target, warehouses)
        if problem is not None:
            problems.add("target_column", problem)

    if config.task_type == "forecasting":
        if config.time_column is not None:
            _time_column_problem(columns, config.time_column, "time_column", {"datetime"}, problems)
        return ([], []) if target is not None else None

    time_column = config.split.time_column
    if config.split.strategy == "time" and time_column is not None:
        _time_column_problem(
            columns, time_column, "split.time_column", {"datetime", "numeric"}, problems
        )
        if time_column in columns and columns[time_column].null_count:
            problems.add(
                "split.time_column",
                f"{time_column} has {columns[time_column].null_count} NULL values; a time split "
                "orders every row by it (filter or fill them in the SQL)",
            )
    if target is None:
        return None
    if config.feature_columns is None:
        features = [
            column.name
            for column in schema.columns
            if column.name != target.name
            and column.kind in _FEATURE_KINDS
            and not _is_identifier_like(column, schema.row_count)
        ]
        if not features:
            problems.add("feature_columns", "the dataset has no usable feature column; name them")
    else:
        features = []
        for index, name in enumerate(config.feature_columns):
            field = f"feature_columns.{index}"
            column = columns.get(name)
            if column is None:
                problems.add(field, f"the dataset has no column {name}")
            elif name == target.name:
                problems.add(field, f"{name} is the target column")
            elif name in features:
                problems.add(field, f"{name} is listed twice")
            elif column.kind not in _FEATURE_KINDS:
                problems.add(
                    field,
                    f"{name} is a {column.kind} column; features must be numeric, boolean or "
                    "categorical (derive numbers from it in the SQL)",
                )
            else:
                features.append(name)
    categorical = [name for name in features if columns[name].kind == "categorical"]
    return features, categorical


def _time_column_problem(
    columns: dict[str, ColumnSchema],
    name: str,
    field: str,
    kinds: set[str],
    problems: _Problems,
) -> None:
    column = columns.get(name)
    if column is None:
        problems.add(field, f"the dataset has no column {name}; columns: {', '.join(columns)}")
    elif column.kind not in kinds:
        wanted = "a date or timestamp" if kinds == {"datetime"} else "a date, timestamp or number"
        problems.add(
            field,
            f"{name} is {column.kind} ({column.type}); the rows are ordered by {wanted} column "
            "(cast it in the SQL)",
        )


def _value_problems(
    config: TrainingConfig,
    tenant_id: str,
    schema: DatasetSchema,
    features: tuple[list[str], list[str]],
    warehouses: WarehouseManager,
    problems: _Problems,
) -> None:
    """Degenerate data, named by column, found in DuckDB without loading the rows: an all-NULL
    column, ±inf in a float column, a constant column as the only feature, a series too short for
    the horizon. One aggregate query; the NULL counts come from the schema already."""
    types = {column.name: column.type.upper() for column in schema.columns}
    nulls = {column.name: column.null_count for column in schema.columns}
    feature_columns = features[0]
    used = [("target_column", config.target_column)] + [
        (f"feature_columns.{index}" if config.feature_columns else "feature_columns", name)
        for index, name in enumerate(feature_columns)
    ]
    for field, name in used:
        if schema.row_count and nulls[name] == schema.row_count:
            problems.add(field, f"{name} holds only NULL values")
    checks: list[tuple[str, str, str]] = []  # (field, message, SQL aggregate counting problems)
    for field, name in used:
        if types[name] in _FLOAT_TYPES:
            checks.append(
                (
                    field,
                    f"{name} holds infinite values (±inf); replace or filter them in the SQL",
                    f"count(*) FILTER (WHERE isinf({sql.quote(name)}))",
                )
            )
    if len(feature_columns) == 1 and nulls[feature_columns[0]] < schema.row_count:
        only = feature_columns[0]
        checks.append(
            (
                used[1][0],
                f"{only} is the only feature and holds a single value; the model could learn "
                "nothing from it",
                f"CASE WHEN count(DISTINCT {sql.quote(only)}) = 1 THEN 1 ELSE 0 END",
            )
        )
    time_bounds = config.task_type == "forecasting" and config.time_column is not None
    expressions = [check[2] for check in checks]
    if time_bounds:
        quoted = sql.quote(config.time_column or "")
        expressions += [f"min({quoted})", f"max({quoted})"]
    if not expressions:
        return
    row = warehouses.aggregate(tenant_id, config.dataset, "dataset", expressions)
    for (field, message, _), count in zip(checks, row, strict=False):
        if count:
            problems.add(field, message)
    if time_bounds:
        _series_length_problem(config, row[-2], row[-1], problems)


def _series_length_problem(
    config: TrainingConfig, first: object, last: object, problems: _Problems
) -> None:
    """The periods between the first and last time stamp, as prepare_forecast_data resamples
    them; fewer than horizon + MIN_TRAIN_PERIODS cannot be trained and scored."""
    assert config.frequency is not None and config.horizon is not None
    if first is None or last is None:
        problems.add("time_column", f"{config.time_column} holds only NULL values")
        return
    bounds = pd.to_datetime(pd.Series([first, last]))
    periods = len(pd.Series([0, 0], index=bounds).resample(config.frequency).sum())
    needed = config.horizon + MIN_TRAIN_PERIODS
    if periods < needed:
        problems.add(
            "horizon",
            f"{config.time_column} spans {periods} periods of {config.frequency}; a horizon of "
            f"{config.horizon} needs at least {needed} ({MIN_TRAIN_PERIODS} to fit on)",
        )
