"""The sweep's bookkeeping on an invented trials table (which trial is the best), and the
searcher's concurrency as Tune's controller sees it."""

import pytest
from ray.tune.execution.tune_controller import _get_max_pending_trials

from app.tuning.schemas import TuningConfig
from app.tuning.sweep import SweepTracker, TrialState, searcher
from tests.conftest import churn_config


def tracker(mode: str = "min") -> SweepTracker:
    return SweepTracker("log_loss", mode, 4, 0.0, None, lambda snapshot: None)


def add(table: SweepTracker, trial_id: str, status: str, rounds: int, score: float) -> None:
    table.trials[trial_id] = TrialState(
        trial_id, {}, 0.0, status=status, metrics={"log_loss": score}, rounds=rounds
    )


def test_a_trial_stopped_early_is_not_the_best_when_a_trial_ran_every_round() -> None:
    # Cut at round 3 with a lower log_loss than the full runs (they overfit): its score is not
    # that of the configuration train-best would train, so it does not win.
    table = tracker()
    add(table, "cut", "stopped_early", 3, 0.20)
    add(table, "full_a", "completed", 60, 0.35)
    add(table, "full_b", "completed", 60, 0.30)
    add(table, "broken", "failed", 2, 0.01)
    assert table.best().trial_id == "full_b"


def test_without_a_full_run_the_furthest_trials_are_compared() -> None:
    # A time budget stopped every trial: the ones that got furthest are compared, at equal length.
    table = tracker(mode="max")
    add(table, "short", "stopped_early", 3, 0.99)
    add(table, "long_a", "stopped_early", 9, 0.80)
    add(table, "long_b", "running", 9, 0.85)
    assert table.best().trial_id == "long_b"
    assert tracker().best() is None


@pytest.mark.parametrize("search", ["grid", "random", "tpe", "gp"])
def test_tunes_controller_lets_max_concurrent_trials_start_at_once(search: str) -> None:
    # Tune's controller starts at most this many trials at a time whatever the searcher allows;
    # at 1, a sweep of max_concurrent_trials=2 ran its trials one after the other.
    config = TuningConfig.model_validate(
        churn_config(search=search, max_concurrent_trials=3, num_samples=8)
    )
    assert _get_max_pending_trials(searcher(config, 8)) >= 3
