"""A registered model version ready to predict: loaded once, fed typed frames.

The same `LoadedModel` runs inside each Serve replica, in batch prediction and in the
benchmark's in-process baseline, so all three predict identically.

MLflow's pyfunc wrapper is used to load the model (any flavour the trainer logs), but predictions
go to the native model (for the neural network, the `TabularNetwork` its pyfunc wraps): pyfunc's
schema enforcement cannot pass a pandas categorical where the signature says `string`, and
XGBoost/LightGBM need the categorical dtype for their categorical splits. Input checking against
the signature happens before (`validate_records`): in the ML Service, or in the replica's own HTTP
ingress for a request sent to it directly, before the model sees the request.

Records (JSON) reach XGBoost and LightGBM as a plain float matrix, categorical features as their
training codes: building a pandas frame for one row costs ten times the prediction itself
(0.97 ms against 0.11 ms for the 100-tree churn model). Tables (batch prediction) keep the
frame path, which pandas vectorises.
"""

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from app.errors import FieldError, MLServiceError
from app.training.features import model_column

logger = logging.getLogger(__name__)

# MLflow signature types -> the JSON values a feature accepts
NUMBER_TYPES = frozenset({"double", "float"})
INTEGER_TYPES = frozenset({"integer", "long"})


@dataclass(frozen=True)
class ModelSpec:
    """What a replica needs to load and run one registry version (plain data: Ray pickles it)."""

    source: str  # models:/<LoggedModel id>
    tracking_uri: str
    task_type: str  # classification | regression
    features: list[tuple[str, str]]  # (the user's name, MLflow type) in model order
    categorical: list[str] = field(default_factory=list)
    # categorical feature -> its training categories; other values are treated as missing,
    # exactly as in training (`app.training.features.model_frame`)
    categories: dict[str, list[str]] = field(default_factory=dict)
    classes: list[Any] | None = None  # original target values by encoded label
    # The features' names inside the model (`f<n>`, `app.training.features.model_column`);
    # None for models trained before, which know the features by the user's names.
    model_columns: list[str] | None = None
    # Forecasting: {algorithm, frequency, last_timestamp, interval_width} of the fitted series
    # (`app.training.forecasting.forecast_spec_document`); the one request field is `periods`.
    forecast: dict[str, Any] | None = None
    # {name, version} of the feature set version the model was trained on (the registered
    # version's lineage tags): a request may then give only entity keys, whose features are
    # looked up online in that version (never a later one).
    feature_set: dict[str, Any] | None = None

    @classmethod
    def from_feature_spec(
        cls, document: dict[str, Any], source: str, tracking_uri: str
    ) -> "ModelSpec":
        """The spec of a version from its run's `feature_spec.json`
        (`app.training.features.feature_spec_document`)."""
        if document["task_type"] == "forecasting":
            return cls(
                source=source,
                tracking_uri=tracking_uri,
                task_type="forecasting",
                features=[("periods", "long")],
                forecast={
                    key: document[key]
                    for key in ("algorithm", "frequency", "last_timestamp", "interval_width")
                },
            )
        features = document["features"]
        return cls(
            source=source,
            tracking_uri=tracking_uri,
            task_type=document["task_type"],
            features=[(item["name"], item["type"]) for item in features],
            categorical=[item["name"] for item in features if item["kind"] == "categorical"],
            categories={
                item["name"]: item["categories"]
                for item in features
                if item["kind"] == "categorical"
            },
            classes=document["classes"],
            model_columns=[model_column(position) for position in range(len(features))],
        )


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


def check_records(
    records: list[Any], features: list[tuple[str, str]], prefix: str | None
) -> list[FieldProblem]:
    """Every missing, extra or mistyped feature of every record (empty when all fit)."""
    problems: list[FieldProblem] = []
    names = {name for name, _ in features}
    for index, record in enumerate(records):
        where = f"{prefix}.{index}." if prefix is not None else ""
        if not isinstance(record, dict):
            problems.append(FieldProblem(where.rstrip(".") or "body", "must be an object"))
            continue
        for name, kind in features:
            if name not in record:
                problems.append(FieldProblem(f"{where}{name}", "missing"))
                continue
            reason = _type_problem(record[name], kind)
            if reason:
                problems.append(FieldProblem(f"{where}{name}", reason))
        for name in record:
            if name not in names:
                problems.append(FieldProblem(f"{where}{name}", "not a feature of the model"))
    return problems


def _type_problem(value: Any, kind: str) -> str | None:
    if value is None:
        return None  # missing values are allowed: the models handle NaN
    if isinstance(value, float) and not math.isfinite(value):
        # NaN, Infinity and literals beyond the double range (1e400) are no JSON numbers; the
        # parser's stand-ins for them would be scored as something the client never sent
        return "must be a finite number (NaN, Infinity and numbers beyond ±1.8e308 are refused)"
    if kind in NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
    elif kind in INTEGER_TYPES:
        if isinstance(value, float) and value.is_integer():
            return None
        if not isinstance(value, int):  # bool is an int: training stores booleans as 0/1
            return "must be an integer"
    elif kind == "string":
        if not isinstance(value, str):
            return "must be a string"
    elif kind == "boolean" and not (isinstance(value, bool) or value in (0, 1)):
        # 0 and 1 too: many clients write booleans so, and the model scores them alike
        return "must be true, false, 0 or 1"
    return None


def _is_boolean_value(value: Any) -> bool:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return True
    if isinstance(value, bool | np.bool_):
        return True
    return isinstance(value, int | float | np.integer | np.floating) and value in (0, 1)


class LoadedModel:
    def __init__(self, spec: ModelSpec) -> None:
        mlflow.set_tracking_uri(spec.tracking_uri)
        self.spec = spec
        self._pyfunc = mlflow.pyfunc.load_model(spec.source)
        try:
            self._raw = self._pyfunc.get_raw_model()
        except NotImplementedError:
            # A python-function model (the neural network): its TabularNetwork predicts on
            # typed frames like a scikit-learn pipeline, without pyfunc's schema enforcement.
            self._raw = self._pyfunc.unwrap_python_model().model
        module = type(self._raw).__module__
        self._kind = (
            "xgboost"
            if module.startswith("xgboost")
            else "lightgbm"
            if module.startswith("lightgbm")
            else "network"
            if hasattr(self._raw, "outputs")
            else "sklearn"
        )
        self._names = [name for name, _ in spec.features]
        # frames reach the model under its own column names, in the same order
        self._columns = spec.model_columns or self._names
        self._categorical = set(spec.categorical) | {
            name for name, kind in spec.features if kind == "string"
        }
        self._categories = {
            name: pd.CategoricalDtype(spec.categories.get(name, [])) for name in self._categorical
        }
        if self._kind == "xgboost":
            # one thread per replica: replicas scale out, and threads only add latency on
            # single rows
            self._raw.set_param({"nthread": 1})
        # categorical feature -> {category: training code}; the codes are the positions in the
        # training categories, as `app.training.features.model_frame` builds them
        self._codes = {
            name: {category: float(code) for code, category in enumerate(dtype.categories)}
            for name, dtype in self._categories.items()
        }
        self._matrix_path = self._kind in ("xgboost", "lightgbm") and self._matrix_agrees()

    def _matrix_agrees(self) -> bool:
        """Whether the float-matrix path predicts what the frame path does, on probe rows that
        visit every training category and a missing value of each feature.

        Guards the assumption above (codes = training positions) for any model the trainer
        logs; a model that disagrees keeps the frame path, slower but exact."""
        probes: list[dict[str, Any]] = [{name: None for name in self._names}]
        for name, kind in self.spec.features:
            if name in self._categorical:
                probes += [{name: category} for category in self.spec.categories.get(name, [])]
            else:
                probes.append({name: 1 if kind in INTEGER_TYPES else 1.5})
        records = [{name: probe.get(name) for name in self._names} for probe in probes]
        by_matrix = self.raw_predict(self.matrix(records))
        by_frame = self.raw_predict(self.frame(records))
        if np.allclose(by_matrix, by_frame, rtol=1e-6, atol=1e-9, equal_nan=True):
            return True
        logger.warning("%s: the matrix path disagrees with the frame path; using frames",
                       self.spec.source)  # fmt: skip
        return False

    def matrix(self, records: list[dict[str, Any]]) -> np.ndarray:
        """Records as float rows in signature order; unknown categories become missing, as in
        training."""
        rows = []
        for record in records:
            row = []
            for name in self._names:
                value = record.get(name)
                if value is None:
                    row.append(math.nan)
                elif name in self._codes:
                    row.append(self._codes[name].get(str(value), math.nan))
                else:
                    row.append(float(value))
            rows.append(row)
        return np.array(rows, dtype="f8")

    def frame(self, records: list[dict[str, Any]]) -> pd.DataFrame:
        columns = {}
        for name, column in zip(self._names, self._columns, strict=True):
            values = [record.get(name) for record in records]
            columns[column] = self._column(name, values)
        return pd.DataFrame(columns)

    def _column(self, name: str, values: list[Any]) -> Any:
        if name in self._categorical:
            if self._kind in ("sklearn", "network"):
                return np.array(values, dtype=object)
            return pd.Categorical(
                [None if value is None else str(value) for value in values],
                dtype=self._categories[name],
            )
        return np.array([math.nan if value is None else value for value in values], dtype="f8")

    def table_problems(self, frame: pd.DataFrame) -> list[str]:
        """What `check_records` would refuse in a table, counted per feature: a text value or a
        non-finite number in a numeric feature, anything but true, false, 0 or 1 in a boolean
        one (categorical features take any value: one never seen in training scores as
        missing). Empty when every value fits; one sentence per bad column otherwise."""
        problems = []
        for name, kind in self.spec.features:
            if name in self._categorical:
                continue
            values = frame[name]
            present = values.notna()
            if kind == "boolean":
                if pd.api.types.is_bool_dtype(values.dtype):
                    continue
                bad = present & ~values.map(_is_boolean_value).astype(bool)
                reason = "not true, false, 0 or 1"
            else:
                numbers = pd.to_numeric(values, errors="coerce").astype("f8")
                bad = present & ~np.isfinite(numbers)
                reason = "not finite numbers"
            count = int(bad.sum())
            if count:
                example = values[bad].iloc[0]
                example = example.item() if isinstance(example, np.generic) else example
                problems.append(f"{name}: {count} values {reason} (first: {example!r})")
        return problems

    def coerce(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A frame read from a table, typed like `frame` types JSON records."""
        columns = {}
        for name, column in zip(self._names, self._columns, strict=True):
            values = frame[name]
            if name in self._categorical:
                columns[column] = (
                    values.astype(object).where(values.notna(), None).to_numpy()
                    if self._kind in ("sklearn", "network")
                    else pd.Categorical(
                        values.astype(object).map(
                            lambda value: None if value is None or value != value else str(value)
                        ),
                        dtype=self._categories[name],
                    )
                )
            else:
                columns[column] = pd.to_numeric(values, errors="coerce").astype("f8").to_numpy()
        return pd.DataFrame(columns)

    def raw_predict(self, data: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Class probabilities (rows x classes) or regression values, of a frame (`frame`,
        `coerce`) or, for the boosters, a matrix (`matrix`)."""
        classification = self.spec.task_type == "classification"
        if self._kind == "xgboost":
            predicted = np.asarray(self._raw.inplace_predict(data))
        elif self._kind == "lightgbm":
            predicted = np.asarray(self._raw.predict(data))
        elif self._kind == "network":
            return self._raw.outputs(data)
        elif classification:
            probabilities = self._raw.predict_proba(data)
            full = np.zeros((len(data), len(self.spec.classes or [])))
            full[:, np.asarray(self._raw.classes_).astype(int)] = probabilities
            return full
        else:
            return np.asarray(self._raw.predict(data), dtype="f8")
        if classification and predicted.ndim == 1:
            return np.column_stack([1 - predicted, predicted])
        return predicted

    def outputs(self, predicted: np.ndarray, with_probabilities: bool = True) -> list[dict]:
        if self.spec.task_type != "classification":
            return [{"value": float(value)} for value in predicted]
        classes = self.spec.classes or list(range(predicted.shape[1]))
        best = predicted.argmax(axis=1)
        results = []
        for row, index in zip(predicted.tolist(), best.tolist(), strict=True):
            result: dict[str, Any] = {"class": classes[index], "score": row[index]}
            if with_probabilities:
                result["probabilities"] = {
                    str(label): p for label, p in zip(classes, row, strict=True)
                }
            results.append(result)
        return results

    def predict_records(self, records: list[dict[str, Any]]) -> list[dict]:
        data = self.matrix(records) if self._matrix_path else self.frame(records)
        return self.outputs(self.raw_predict(data))


# A forecast request asks for at most this many periods past the data.
MAX_FORECAST_PERIODS = 10_000


def forecast_problems(records: list[Any], prefix: str | None) -> list[FieldProblem]:
    """A forecast deployment answers one `{"periods": n}` (1 <= n <= 10,000); `check_records`
    has already checked its type."""
    if prefix is not None:
        return [FieldProblem(prefix, 'a forecast takes one {"periods": n}, not instances')]
    periods = records[0].get("periods") if isinstance(records[0], dict) else None
    if not isinstance(periods, int) or not 1 <= periods <= MAX_FORECAST_PERIODS:
        return [FieldProblem("periods", f"must be an integer from 1 to {MAX_FORECAST_PERIODS}")]
    return []


# The most records one predict request may carry.
MAX_RECORDS_PER_REQUEST = 10_000


class PredictionInputError(MLServiceError):
    """422 naming every bad feature: `instances.0.tenure: missing`."""

    status_code = 422
    # the sentence's start; the first five problems follow it
    lead = "the input does not fit the model's signature"

    def __init__(self, problems: list[FieldError]) -> None:
        shown = "; ".join(f"{item.field}: {item.message}" for item in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{self.lead}: {shown}{more}", problems)


def records_of(body: Any) -> tuple[list[Any], str | None, str | None]:
    """(records, field prefix for errors, request key in the body) of a predict body: one record,
    or `{"instances": [...], "key"?}`. PredictionInputError for any other shape."""
    if isinstance(body, dict) and "instances" in body:
        instances = body["instances"]
        extra = sorted(set(body) - {"instances", "key"})
        if extra:
            raise PredictionInputError(
                [FieldError(field=name, message="not allowed next to instances") for name in extra]
            )
        if not isinstance(instances, list) or not instances:
            raise PredictionInputError(
                [FieldError(field="instances", message="must be a non-empty list of records")]
            )
        if len(instances) > MAX_RECORDS_PER_REQUEST:
            raise PredictionInputError(
                [FieldError(field="instances", message="at most 10000 records per request")]
            )
        key = body.get("key")
        return instances, "instances", str(key) if key is not None else None
    if not isinstance(body, dict):
        raise PredictionInputError(
            [FieldError(field="body", message='must be a record or {"instances": [...]}')]
        )
    return [body], None, None


def validate_records(records: list[Any], spec: ModelSpec, prefix: str | None) -> None:
    """PredictionInputError naming every record field that does not fit `spec`'s signature (and,
    for a forecaster, a bad `periods`); the same check on the ML Service and on a replica's own
    HTTP ingress (app/serving/replica.py)."""
    problems = check_records(records, spec.features, prefix)
    if spec.task_type == "forecasting" and not problems:
        problems = forecast_problems(records, prefix)
    if problems:
        raise PredictionInputError(
            [FieldError(field=item.field, message=item.message) for item in problems]
        )


class LoadedForecaster:
    """A registered forecaster (Prophet, ARIMA) ready to forecast the periods after its series."""

    def __init__(self, spec: ModelSpec) -> None:
        # imported here: only forecast replicas need the training frameworks
        from app.training.algorithms import ALGORITHMS
        from app.training.algorithms.forecasting import ForecastingAlgorithm

        mlflow.set_tracking_uri(spec.tracking_uri)
        assert spec.forecast is not None
        self.spec = spec
        self._forecast = spec.forecast
        algorithm = ALGORITHMS[self._forecast["algorithm"]]
        assert isinstance(algorithm, ForecastingAlgorithm)
        self._algorithm = algorithm
        self._model = mlflow.pyfunc.load_model(spec.source).get_raw_model()

    def predict_records(self, records: list[dict[str, Any]]) -> list[dict]:
        """`[{"periods": n}]` -> n points `{timestamp, value, lower, upper}` (ISO 8601
        timestamps; lower..upper the interval of the trained `interval_width`)."""
        periods = int(records[0]["periods"])
        last = pd.Timestamp(self._forecast["last_timestamp"])
        index = pd.date_range(last, periods=periods + 1, freq=self._forecast["frequency"])[1:]
        predicted = self._algorithm.predict_ahead(
            self._model,
            pd.Series(dtype="f8"),
            index,
            {"interval_width": self._forecast["interval_width"]},
            0,
        )
        return [
            {
                "timestamp": timestamp.isoformat(),
                "value": float(row["value"]),
                "lower": float(row["lower"]),
                "upper": float(row["upper"]),
            }
            for timestamp, row in predicted.iterrows()
        ]


def load_model(spec: ModelSpec) -> LoadedModel | LoadedForecaster:
    """The loaded version: a forecaster for a forecasting spec, a tabular model otherwise."""
    return LoadedForecaster(spec) if spec.task_type == "forecasting" else LoadedModel(spec)
