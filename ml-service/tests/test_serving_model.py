"""A replica's parts without a running service: the float-matrix path predicts exactly what the
typed frame path does, for XGBoost and LightGBM models with a categorical feature; the replica
process leaves Ray's worker niceness."""

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightgbm
import mlflow
import numpy as np
import pandas as pd
import pytest
import xgboost

from app.serving.batch import _free_names
from app.serving.model import LoadedModel, ModelSpec, check_records

CATEGORIES = ["month-to-month", "one-year", "two-year"]
FEATURES = [("tenure", "long"), ("monthly_charges", "double"), ("contract_type", "string")]


def training_frame(rows: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    generator = np.random.default_rng(7)
    contract = generator.integers(0, 3, rows)
    frame = pd.DataFrame(
        {
            "tenure": generator.integers(1, 72, rows).astype("f8"),
            "monthly_charges": generator.uniform(20, 120, rows),
            "contract_type": pd.Categorical.from_codes(contract, categories=CATEGORIES),
        }
    )
    label = ((frame["tenure"] < 12) & (contract == 0)) | (frame["monthly_charges"] > 100)
    return frame, label.to_numpy().astype(int)


RECORDS = [
    {"tenure": 3, "monthly_charges": 89.5, "contract_type": "month-to-month"},
    {"tenure": 60, "monthly_charges": 45.0, "contract_type": "two-year"},
    {"tenure": 20, "monthly_charges": 110.0, "contract_type": "one-year"},
    {"tenure": None, "monthly_charges": 70.0, "contract_type": "never-seen"},
    {"tenure": 5, "monthly_charges": None, "contract_type": None},
]


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    yield uri
    # the session's service shares MLflow's process-wide tracking URI
    mlflow.set_tracking_uri(previous)


def log_model(flavour: Any, booster: Any, tracking_uri: str) -> str:
    """The booster logged like the trainer logs it; its `models:/` URI. Artifacts go next to the
    test's database (an experiment of its own), not into ./mlruns."""
    folder = tracking_uri.removeprefix("sqlite:///").rsplit("/", 1)[0]
    name = f"serving-model-{flavour.__name__}"
    found = mlflow.get_experiment_by_name(name)
    experiment_id = (
        found.experiment_id if found else mlflow.create_experiment(name, f"{folder}/artifacts")
    )
    with mlflow.start_run(experiment_id=experiment_id):
        return flavour.log_model(booster, name="model").model_uri


def spec_for(source: str, tracking_uri: str) -> ModelSpec:
    return ModelSpec(
        source=source,
        tracking_uri=tracking_uri,
        task_type="classification",
        features=FEATURES,
        categorical=["contract_type"],
        categories={"contract_type": CATEGORIES},
        classes=[0, 1],
    )


def assert_matrix_matches_frame(model: LoadedModel) -> None:
    assert model._matrix_path, "the self-check should accept the matrix path"
    by_frame = model.raw_predict(model.frame(RECORDS))
    by_matrix = model.raw_predict(model.matrix(RECORDS))
    np.testing.assert_allclose(by_matrix, by_frame, rtol=1e-6)
    answers = model.predict_records(RECORDS)
    assert [answer["class"] for answer in answers] == by_frame.argmax(axis=1).tolist()


def test_xgboost_matrix_path_matches_the_frame_path(tracking_uri: str) -> None:
    frame, label = training_frame()
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 3},
        xgboost.DMatrix(frame, label=label, enable_categorical=True),
        num_boost_round=20,
    )
    source = log_model(mlflow.xgboost, booster, tracking_uri)
    assert_matrix_matches_frame(LoadedModel(spec_for(source, tracking_uri)))


def test_lightgbm_matrix_path_matches_the_frame_path(tracking_uri: str) -> None:
    frame, label = training_frame()
    booster = lightgbm.train(
        {"objective": "binary", "num_leaves": 8, "min_data_in_leaf": 5, "verbose": -1},
        lightgbm.Dataset(frame, label=label),
        num_boost_round=20,
    )
    source = log_model(mlflow.lightgbm, booster, tracking_uri)
    assert_matrix_matches_frame(LoadedModel(spec_for(source, tracking_uri)))


def test_a_replica_process_leaves_ray_worker_niceness_for_every_thread() -> None:
    """Ray starts workers at nice 15; a replica resets each of its threads to 0 (as root, or
    with CAP_SYS_NICE; otherwise it keeps 15 and warns)."""
    script = """
import os, threading, time
from pathlib import Path
os.nice(15)  # as Ray does for every worker, before the worker's threads start
threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
from app.serving.replica import serve_at_normal_priority
serve_at_normal_priority()
print(sorted({int((task / "stat").read_text().rsplit(")", 1)[1].split()[16])
              for task in Path("/proc/self/task").iterdir()}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    expected = [0] if os.geteuid() == 0 else [15]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, json.loads("-1e400")])
def test_non_finite_numbers_are_refused_naming_the_field(value: float) -> None:
    """Python's JSON parser reads NaN, Infinity and -1e400 as floats; none is a number the
    client could mean, and a model would score it as something else."""
    features = [("weight (kg)", "double"), ("visits", "long")]
    problems = check_records([{"weight (kg)": value, "visits": value}], features, "instances")
    fields = [problem.field for problem in problems]
    assert fields == ["instances.0.weight (kg)", "instances.0.visits"]
    assert all("finite" in problem.message for problem in problems)


def test_a_table_is_checked_like_records_and_counted_per_column(tracking_uri: str) -> None:
    frame, label = training_frame()
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 2},
        xgboost.DMatrix(frame, label=label, enable_categorical=True),
        num_boost_round=3,
    )
    model = LoadedModel(spec_for(log_model(mlflow.xgboost, booster, tracking_uri), tracking_uri))
    table = pd.DataFrame(
        {
            "tenure": ["3", "n/a", None, "12", "lots"],
            "monthly_charges": [1.0, math.inf, 2.0, None, 3.0],
            "contract_type": ["one-year", 7, None, "never-seen", "two-year"],
        }
    )
    assert model.table_problems(table) == [
        "tenure: 2 values not finite numbers (first: 'n/a')",
        "monthly_charges: 1 values not finite numbers (first: inf)",
    ]
    assert model.table_problems(table.iloc[[0, 2, 3]]) == []


def test_batch_output_columns_never_take_a_source_columns_name() -> None:
    assert _free_names(["predicted_class", "score"], ["score", "score_1", "x"]) == [
        "predicted_class", "score_2",
    ]  # fmt: skip
