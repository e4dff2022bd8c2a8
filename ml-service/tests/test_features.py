"""The training frames keep the user's data and names: nullable integers and booleans, any
column name (a user column named like a working column included), without Ray."""

import json
import math

import pandas as pd
import pytest

from app.serving.monitoring import build_reference
from app.training.features import (
    LABEL_COLUMN,
    ROW_COLUMN,
    TrainingData,
    feature_spec_document,
    model_frame,
    prepare_training_data,
    user_frame,
)

NAMES = ["weight (kg)", "price[usd]", "member", 'Região, "plano" <a>', LABEL_COLUMN, ROW_COLUMN]


def messy_frame(rows: int = 40) -> pd.DataFrame:
    """As DuckDB hands over an INTEGER and a BOOLEAN column with NULLs (pandas Int32, boolean)."""
    return pd.DataFrame(
        {
            NAMES[0]: pd.array([None if i == 3 else 50 + i for i in range(rows)], dtype="Int32"),
            NAMES[1]: [10.0 + i % 7 for i in range(rows)],
            NAMES[2]: pd.array(
                [None if i == 5 else i % 2 == 0 for i in range(rows)], dtype="boolean"
            ),
            NAMES[3]: ["básico" if i % 3 else "prêmio" for i in range(rows)],
            NAMES[4]: [i / rows for i in range(rows)],
            NAMES[5]: [-i for i in range(rows)],
            "churn": ["Yes" if i % 4 == 0 else "No" for i in range(rows)],
        }
    )


def prepared(frame: pd.DataFrame | None = None) -> TrainingData:
    return prepare_training_data(
        messy_frame() if frame is None else frame, "classification", "churn", NAMES,
        [NAMES[3]], "stratified", 0.25, 1,
    )  # fmt: skip


def test_features_live_under_model_names_next_to_the_working_columns() -> None:
    data = prepared()
    spec = data.spec
    assert spec.model_columns == ["f0", "f1", "f2", "f3", "f4", "f5"]
    assert list(data.train.columns) == [*spec.model_columns, LABEL_COLUMN, ROW_COLUMN]
    # the user's `__label__` and `__row__` are features, untouched by the working columns
    both = user_frame(pd.concat([data.train, data.test]), spec)
    for name in (LABEL_COLUMN, ROW_COLUMN):
        assert sorted(both[name]) == sorted(messy_frame()[name])
    assert set(data.train[LABEL_COLUMN]) == {0, 1}
    assert spec.classes == ["No", "Yes"]
    assert spec.user_names({"f0": 1.0, "f3": 2.0}) == {"weight (kg)": 1.0, NAMES[3]: 2.0}


def test_nullable_integers_and_booleans_become_floats_with_nan_for_the_model() -> None:
    data = prepared()
    typed = model_frame(pd.concat([data.train, data.test]), data.spec)
    assert typed["f0"].dtype == "float64" and typed["f0"].isna().sum() == 1
    assert typed["f2"].dtype == "float64" and typed["f2"].isna().sum() == 1
    assert set(typed["f2"].dropna()) == {0.0, 1.0}
    assert list(typed["f3"].cat.categories) == ["básico", "prêmio"]
    assert data.spec.booleans == ["member"]


def test_the_feature_spec_and_drift_reference_are_json_in_the_users_terms() -> None:
    data = prepared()
    document = json.loads(json.dumps(feature_spec_document(data.spec, "classification", "churn")))
    assert [(item["name"], item["kind"], item["type"]) for item in document["features"]] == [
        ("weight (kg)", "numeric", "double"),
        ("price[usd]", "numeric", "double"),
        ("member", "boolean", "boolean"),
        (NAMES[3], "categorical", "string"),
        (LABEL_COLUMN, "numeric", "double"),
        (ROW_COLUMN, "numeric", "double"),
    ]
    assert document["classes"] == ["No", "Yes"]
    assert document["target_column"] == "churn"
    values = user_frame(data.train, data.spec)
    assert values["member"].map(type).isin([bool, type(None)]).all()
    reference = build_reference(
        {name: values[name].tolist() for name in NAMES}, set(data.spec.categories)
    )
    json.dumps(reference, allow_nan=False)
    assert reference[NAMES[3]]["kind"] == "categorical"
    assert not any(math.isnan(value) for value in reference["weight (kg)"]["sample"])


@pytest.mark.parametrize("labels", [(True, False), (1, 0)])
def test_boolean_and_integer_targets_keep_their_values_as_classes(labels: tuple) -> None:
    frame = messy_frame()
    frame["churn"] = [labels[0] if i % 4 == 0 else labels[1] for i in range(len(frame))]
    assert prepared(frame).spec.classes == sorted(labels)
