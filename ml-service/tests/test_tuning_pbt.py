"""pbt's parts on an invented table: a boosting trial saves its booster every few rounds and
continues from a saved one with other hyperparameters; perturbed values stay in their domain."""

from typing import Any

import numpy as np
import pandas as pd
import pytest
import ray

from app.training.algorithms import ALGORITHMS
from app.training.algorithms.base import FitContext
from app.training.features import LABEL_COLUMN, ROW_COLUMN, FeatureSpec, TrainingData, model_frame
from app.tuning.pbt import hyperparam_mutations, within_space
from app.tuning.schemas import ParameterSpace


class RoundRecorder:
    """Takes a trial's progress handle's place (`report.remote`, `keep_state`) and keeps what
    the algorithm sends it."""

    def __init__(self) -> None:
        self.report = self
        self.rounds: list[int] = []
        self.states: dict[int, bytes] = {}
        self._done = ray.put(None)  # what the algorithms wait on

    def remote(self, entries: list[tuple[int, dict[str, float]]], stage: Any = None) -> Any:
        self.rounds += [round_number for round_number, _ in entries]
        return self._done

    def keep_state(self, round_number: int, state: bytes) -> None:
        self.states[round_number] = state


def invented_data() -> TrainingData:
    generator = np.random.default_rng(7)
    frame = pd.DataFrame({"f0": generator.normal(size=400), "f1": generator.normal(size=400)})
    frame[LABEL_COLUMN] = (frame["f0"] + 0.5 * generator.normal(size=400) > 0).astype(int)
    frame[ROW_COLUMN] = range(400)
    spec = FeatureSpec(feature_columns=["x", "y"], categories={}, classes=["no", "yes"])
    return TrainingData("classification", spec, frame.iloc[:300], frame.iloc[300:])


def fit(algorithm: str, data: TrainingData, resume: bytes | None = None, **chosen: Any) -> Any:
    recorder = RoundRecorder()
    context = FitContext(
        job_id="trial",
        random_state=42,
        hyperparameters=ALGORITHMS[algorithm].resolve_hyperparameters(chosen),
        storage_path="",
        progress=recorder,
        in_process=True,
        progress_interval_seconds=0.0,
        checkpoint_every=4,
        resume_state=resume,
    )
    fitted = ALGORITHMS[algorithm].fit(data, context)
    return fitted, recorder


@pytest.mark.parametrize("algorithm", ["xgboost", "lightgbm"])
def test_a_boosting_trial_resumes_from_its_saved_booster(ray_cluster: None, algorithm: str) -> None:
    data = invented_data()
    features = model_frame(data.test, data.spec)
    first, recorded = fit(algorithm, data, n_estimators=9, learning_rate=0.3)
    assert recorded.rounds == list(range(1, 10))
    assert sorted(recorded.states) == [4, 8]
    # Continued from round 4 with another learning rate: rounds 5 to 9, not 1 to 9 again.
    resumed, continued = fit(
        algorithm, data, recorded.states[4], n_estimators=9, learning_rate=0.05
    )
    assert continued.rounds == list(range(5, 10))
    assert sorted(continued.states) == [8]
    assert not np.allclose(resumed.predict(features), first.predict(features))
    # Resumed from its last round: nothing more to train, the saved booster as it was.
    cut, _ = fit(algorithm, data, n_estimators=8, learning_rate=0.3)
    same, idle = fit(algorithm, data, recorded.states[8], n_estimators=8, learning_rate=0.3)
    assert idle.rounds == []
    np.testing.assert_allclose(same.predict(features), cut.predict(features))


def test_perturbed_values_stay_in_their_domain() -> None:
    space = {
        "subsample": ParameterSpace(type="uniform", lower=0.6, upper=1.0),
        "max_depth": ParameterSpace(type="randint", lower=3, upper=10),
        "min_child_weight": ParameterSpace(type="quniform", lower=2, upper=8, q=2),
        "n_estimators": ParameterSpace(type="choice", values=[50, 100]),
        "colsample_bytree": ParameterSpace(type="choice", values=[0.5, 0.8]),
    }
    # Ray multiplies by 1.2 or 0.8: 1.08, 12 and 9.6 leave the domain and come back (9.6 to
    # 8, the upper bound).
    explored = within_space(space)(
        {"subsample": 1.08, "max_depth": 12, "min_child_weight": 9.6, "colsample_bytree": 0.8}
    )
    assert explored == {
        "subsample": 1.0, "max_depth": 10, "min_child_weight": 8, "colsample_bytree": 0.8,
    }  # fmt: skip
    mutations = hyperparam_mutations(space)
    assert "n_estimators" not in mutations  # inherited with the cloned booster, not perturbed
    assert mutations["colsample_bytree"] == [0.5, 0.8]
