"""From loaded rows to model inputs: label encoding, the split, and typed feature frames.

The user's column names are kept for everything the user sees (feature spec, signature,
importance, predictions). Inside the frameworks a feature is `f<position>` (`FeatureSpec.
model_columns`): XGBoost refuses names with `[`, `]` or `<`, LightGBM names with JSON's special
characters, and the split's working columns (`__label__`, `__row__`) could otherwise collide with
a user's column of the same name. The training frames (`TrainingData.train/test`) hold the
features under these internal names next to the two working columns.
"""

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

# Working columns carried next to the features through Ray Data. Features are `f<n>` inside the
# frames, so no user column can take these names.
LABEL_COLUMN = "__label__"
ROW_COLUMN = "__row__"

# Artifacts of a tabular run that make a registered version stand on its own: serving reads
# them instead of the training table (which may have changed or gone since).
FEATURE_SPEC_ARTIFACT = "feature_spec.json"
DRIFT_REFERENCE_ARTIFACT = "drift_reference.json"

# Feature kinds of the feature spec, and the MLflow signature type of each.
SIGNATURE_TYPES = {"numeric": "double", "boolean": "boolean", "categorical": "string"}


class TrainingDataError(ValueError):
    """The loaded rows cannot be trained on; the message is one sentence for the API."""


def model_column(position: int) -> str:
    """The framework-side name of the feature at `position`."""
    return f"f{position}"


@dataclass(frozen=True)
class FeatureSpec:
    feature_columns: list[str]  # the user's names, in model order
    # categorical column -> its categories in a fixed order, so train, test and later
    # predictions encode a value with the same code
    categories: dict[str, list[str]]
    # original target values by encoded label (classification); None for regression
    classes: list[object] | None
    # boolean features (the user's names): 1.0 / 0.0 / missing inside the model
    booleans: list[str] = field(default_factory=list)

    @property
    def model_columns(self) -> list[str]:
        return [model_column(position) for position in range(len(self.feature_columns))]

    @property
    def model_categories(self) -> dict[str, list[str]]:
        """`categories` keyed by the framework-side names."""
        return {
            model_column(position): self.categories[name]
            for position, name in enumerate(self.feature_columns)
            if name in self.categories
        }

    def user_names(self, by_model_column: dict[str, Any]) -> dict[str, Any]:
        """A mapping keyed by framework-side names, keyed by the user's names instead."""
        names = dict(zip(self.model_columns, self.feature_columns, strict=True))
        return {names[key]: value for key, value in by_model_column.items() if key in names}

    def kind(self, name: str) -> str:
        if name in self.categories:
            return "categorical"
        return "boolean" if name in self.booleans else "numeric"


@dataclass(frozen=True)
class TrainingData:
    task_type: str
    spec: FeatureSpec
    train: pd.DataFrame  # model columns + LABEL_COLUMN + ROW_COLUMN
    test: pd.DataFrame

    @property
    def total_samples(self) -> int:
        return len(self.train) + len(self.test)


def model_frame(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The features of a training frame (model columns) typed for the model: categories fixed,
    everything else float64 with NaN for missing (booleans as 1.0 / 0.0)."""
    columns = {}
    for column in spec.model_columns:
        values = frame[column]
        categories = spec.model_categories.get(column)
        if categories is not None:
            columns[column] = pd.Categorical(values.astype("object"), categories=categories)
        else:
            columns[column] = _float_column(values)
    return pd.DataFrame(columns, index=frame.index)


def user_frame(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """A training frame's features under the user's names, as the user's values (booleans as
    True / False, missing as None): what signatures and drift references are made from."""
    columns = {}
    for name, column in zip(spec.feature_columns, spec.model_columns, strict=True):
        values = frame[column].astype("object")
        if name in spec.booleans:
            values = values.map(lambda value: None if _missing(value) else bool(value))
        columns[name] = values.where(values.map(lambda value: not _missing(value)), None)
    return pd.DataFrame(columns, index=frame.index)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _float_column(values: pd.Series) -> pd.Series:
    """Numbers and booleans (also nullable ones: pandas `Int64`, `boolean`) as float64."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("object")
    if values.dtype == object:
        values = values.map(lambda value: np.nan if _missing(value) else float(value))
    return values.astype("float64")


def _is_boolean(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    present = values.dropna()
    return values.dtype == object and len(present) > 0 and all(
        isinstance(value, bool | np.bool_) for value in present
    )


def prepare_training_data(
    frame: pd.DataFrame,
    task_type: str,
    target_column: str,
    feature_columns: list[str],
    categorical_columns: list[str],
    strategy: str,
    test_size: float,
    random_state: int,
    time_column: str | None = None,
) -> TrainingData:
    """Label-encoded features and target, split into train and test rows.

    `strategy` "time" orders the rows by `time_column` (ties keep the loaded row order) and holds
    out the latest `test_size` share; the others shuffle with `random_state`. Raises
    TrainingDataError naming the column: fewer than 10 labelled rows, a single class, or a class
    with no row in the training split.
    """
    frame = frame.dropna(subset=[target_column]).reset_index(drop=True)
    if len(frame) < 10:
        raise TrainingDataError(
            f"the dataset has {len(frame)} rows with a {target_column}; at least 10 are needed"
        )
    categories = {
        column: sorted(str(value) for value in frame[column].dropna().unique())
        for column in categorical_columns
    }
    booleans = [
        column
        for column in feature_columns
        if column not in categories and _is_boolean(frame[column])
    ]
    spec = FeatureSpec(feature_columns, categories, None, booleans)
    # Features under their model names: no user name can collide with the working columns.
    data = pd.DataFrame(index=frame.index)
    for name, column in zip(feature_columns, spec.model_columns, strict=True):
        values = frame[name]
        if name in categories:
            data[column] = values.astype("object").where(values.notna(), None)
        else:
            data[column] = _float_column(values)
    target = frame[target_column]
    classes: list[object] | None = None
    if task_type == "classification":
        class_values = sorted(target.unique().tolist())
        if len(class_values) < 2:
            raise TrainingDataError(f"{target_column} has a single value; nothing to classify")
        classes = [_plain(value) for value in class_values]
        labels = target.map({value: index for index, value in enumerate(class_values)})
        data[LABEL_COLUMN] = labels.astype("int32")
    else:
        data[LABEL_COLUMN] = target.astype("float64")
    data[ROW_COLUMN] = np.arange(len(data), dtype=np.int64)
    if strategy == "time":
        assert time_column is not None
        train, test = _time_split(data, frame[time_column], test_size)
    else:
        try:
            train, test = train_test_split(
                data,
                test_size=test_size,
                random_state=random_state,
                stratify=data[LABEL_COLUMN] if strategy == "stratified" else None,
            )
        except ValueError as error:
            raise TrainingDataError(f"the rows cannot be split that way: {error}") from None
    if classes is not None:
        missing = sorted(set(range(len(classes))) - set(train[LABEL_COLUMN].unique().tolist()))
        if missing:
            raise TrainingDataError(
                f"{target_column} class {classes[missing[0]]!r} has no row in the training split; "
                "add rows of it, or use a stratified (or larger) training split"
            )
    spec = FeatureSpec(feature_columns, categories, classes, booleans)
    return TrainingData(
        task_type=task_type,
        spec=spec,
        train=train.reset_index(drop=True),
        test=test.reset_index(drop=True),
    )


def _time_split(
    data: pd.DataFrame, order: pd.Series, test_size: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The earliest rows train, the latest `test_size` share (rounded up, as scikit-learn's
    train_test_split does) tests. A stable sort: rows with the same time keep their loaded order,
    so the same table always splits the same way."""
    if order.isna().any():
        raise TrainingDataError(f"{order.name} has rows without a value; a time split orders by it")
    positions = np.argsort(order.to_numpy(), kind="stable")
    test_rows = math.ceil(test_size * len(data))
    if test_rows >= len(data):
        raise TrainingDataError(f"a test_size of {test_size} leaves no row to train on")
    ordered = data.iloc[positions]
    return ordered.iloc[: len(data) - test_rows], ordered.iloc[len(data) - test_rows :]


def _plain(value: object) -> object:
    """numpy scalars -> Python values, so class labels serialise to JSON and MLflow."""
    return value.item() if isinstance(value, np.generic) else value


def feature_spec_document(spec: FeatureSpec, task_type: str, target_column: str) -> dict:
    """`feature_spec.json`, logged with every tabular model: what serving needs to check and
    encode a request and to answer in the user's labels, without the training table.

    `features` in model order: `name` (the user's), `kind` (numeric, boolean, categorical),
    `type` (the MLflow signature type a request value must have) and, for categoricals, the
    training `categories` (any other value is scored as missing). `classes`: the target's values
    by encoded label, as the user wrote them (classification; null for regression).
    """
    return {
        "format_version": 1,
        "task_type": task_type,
        "target_column": target_column,
        "features": [
            {
                "name": name,
                "kind": spec.kind(name),
                "type": SIGNATURE_TYPES[spec.kind(name)],
                "categories": spec.categories.get(name),
            }
            for name in spec.feature_columns
        ],
        "classes": spec.classes,
    }
