"""From loaded rows to model inputs: label encoding, the split, and typed feature frames."""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

# Reserved column names carried next to the features through Ray Data.
LABEL_COLUMN = "__label__"
ROW_COLUMN = "__row__"


class TrainingDataError(ValueError):
    """The loaded rows cannot be trained on; the message is one sentence for the API."""


@dataclass(frozen=True)
class FeatureSpec:
    feature_columns: list[str]
    # categorical column -> its categories in a fixed order, so train, test and later
    # predictions encode a value with the same code
    categories: dict[str, list[str]]
    # original target values by encoded label (classification); None for regression
    classes: list[object] | None


@dataclass(frozen=True)
class TrainingData:
    task_type: str
    spec: FeatureSpec
    train: pd.DataFrame
    test: pd.DataFrame

    @property
    def total_samples(self) -> int:
        return len(self.train) + len(self.test)


def model_frame(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The features of `frame` typed for the model: categories fixed, booleans as integers."""
    columns = {}
    for column in spec.feature_columns:
        values = frame[column]
        if column in spec.categories:
            columns[column] = pd.Categorical(
                values.astype("object"), categories=spec.categories[column]
            )
        elif pd.api.types.is_bool_dtype(values):
            columns[column] = values.astype("int8")
        else:
            columns[column] = pd.to_numeric(values, errors="raise").astype("float64")
    return pd.DataFrame(columns, index=frame.index)


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
    data = frame[feature_columns].copy()
    for column in categorical_columns:
        data[column] = frame[column].astype("object").where(frame[column].notna(), None)
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
    spec = FeatureSpec(feature_columns=feature_columns, categories=categories, classes=classes)
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
