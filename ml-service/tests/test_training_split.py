"""The train/test split of prepare_training_data: time-ordered, deterministic, every class in
training."""

import numpy as np
import pandas as pd
import pytest

from app.training.features import LABEL_COLUMN, ROW_COLUMN, TrainingDataError, prepare_training_data


def _split(frame: pd.DataFrame, task_type: str = "classification", **options: object):
    arguments = {"strategy": "time", "test_size": 0.25, "random_state": 0, "time_column": "t"}
    arguments.update(options)
    return prepare_training_data(frame, task_type, "y", ["x"], [], **arguments)


@pytest.mark.parametrize(
    "times",
    [
        pd.Series(pd.date_range("2024-01-01", periods=40, freq="D")).sample(frac=1, random_state=3),
        pd.Series(np.repeat(np.arange(10), 4)).sample(frac=1, random_state=5),  # ties
        pd.Series(np.random.default_rng(1).normal(size=40)),
    ],
    ids=["dates shuffled", "integers with ties", "floats"],
)
def test_every_test_row_is_later_than_or_equal_to_every_train_row(times: pd.Series) -> None:
    times = times.reset_index(drop=True)
    frame = pd.DataFrame({"x": np.arange(40.0), "y": np.arange(40) % 2, "t": times})
    data = _split(frame, task_type="regression")
    train_times = times.iloc[data.train[ROW_COLUMN]]
    test_times = times.iloc[data.test[ROW_COLUMN]]
    assert (len(data.train), len(data.test)) == (30, 10)
    assert train_times.max() <= test_times.min()


def test_ties_keep_the_table_order_so_the_split_repeats() -> None:
    frame = pd.DataFrame({"x": np.arange(12.0), "y": [0, 0, 1, 1] * 3, "t": [1, 0] * 6})
    first = _split(frame, test_size=0.5)
    again = _split(frame, test_size=0.5, random_state=99)
    # rows at t=0 train, in table order; t=1 tests
    assert first.train[ROW_COLUMN].tolist() == [1, 3, 5, 7, 9, 11]
    assert first.test[ROW_COLUMN].tolist() == [0, 2, 4, 6, 8, 10]
    assert again.train[ROW_COLUMN].tolist() == first.train[ROW_COLUMN].tolist()


def test_a_class_only_in_the_latest_rows_fails_naming_the_column_and_class() -> None:
    labels = ["Yes"] * 15 + ["No"] * 3 + ["Maybe"] * 2
    frame = pd.DataFrame({"x": np.arange(20.0), "y": labels, "t": np.arange(20)})
    with pytest.raises(TrainingDataError) as raised:
        _split(frame, test_size=0.2)
    assert str(raised.value) == (
        "y class 'Maybe' has no row in the training split; add rows of it, or use a "
        "stratified (or larger) training split"
    )


def test_the_random_split_keeps_its_labels() -> None:
    frame = pd.DataFrame({"x": np.arange(20.0), "y": ["No", "Yes"] * 10})
    data = prepare_training_data(frame, "classification", "y", ["x"], [], "stratified", 0.2, 42)
    assert data.spec.classes == ["No", "Yes"]
    assert sorted(data.test[LABEL_COLUMN].tolist()) == [0, 0, 1, 1]
