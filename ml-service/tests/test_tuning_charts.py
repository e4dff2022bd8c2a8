"""A sweep's charts from an invented trials table: what each chart says, and the fANOVA
importance finding the hyperparameter the score really depends on."""

import random

from app.charts.core import render_png
from app.tuning.charts import fanova_importances, sweep_charts
from app.tuning.schemas import ParameterSpace, TrialHistory, TrialRow

SPACE = {
    "learning_rate": ParameterSpace(type="loguniform", lower=0.01, upper=0.3),
    "max_depth": ParameterSpace(type="randint", lower=3, upper=10),
    "hidden_layers": ParameterSpace(type="choice", values=[[64], [64, 32]]),
}


def trial(number: int, status: str, score: float, **params: object) -> TrialRow:
    return TrialRow(
        trial_id=f"t_{number:05d}",
        status=status,  # type: ignore[arg-type]
        params=params,
        metrics={"log_loss": score},
        rounds=10,
        duration_seconds=1.0,
    )


def invented_trials(count: int) -> list[TrialRow]:
    """The score depends on learning_rate only; max_depth and hidden_layers are noise-free
    bystanders."""
    rng = random.Random(3)
    rows = []
    for number in range(count):
        rate = 10 ** rng.uniform(-2, -0.52)
        rows.append(
            trial(
                number,
                "completed",
                0.2 + (rate - 0.1) ** 2,
                learning_rate=rate,
                max_depth=rng.randint(3, 10),
                hidden_layers=rng.choice([[64], [64, 32]]),
            )
        )
    return rows


def test_fanova_finds_the_hyperparameter_the_score_depends_on() -> None:
    importances = fanova_importances(invented_trials(40), SPACE, "log_loss", "min", seed=0)
    assert importances is not None
    assert set(importances) == set(SPACE)
    assert sum(importances.values()) == 1.0 or abs(sum(importances.values()) - 1) < 1e-9
    assert importances["learning_rate"] > 0.8, importances


def test_importance_needs_two_completed_trials() -> None:
    rows = invented_trials(3)
    rows[1] = rows[1].model_copy(update={"status": "stopped_early"})
    rows[2] = rows[2].model_copy(update={"status": "failed", "metrics": {}})
    assert fanova_importances(rows, SPACE, "log_loss", "min", seed=0) is None
    charts = sweep_charts(rows, [], SPACE, "log_loss", "min", seed=0)
    # No history reported, no importance: only the charts that say something.
    assert list(charts) == ["optimisation_history", "parallel_coordinates"]


def test_history_parallel_coordinates_and_learning_curves_say_what_happened() -> None:
    rows = [
        trial(0, "completed", 0.40, learning_rate=0.01, max_depth=3, hidden_layers=[64]),
        trial(1, "stopped_early", 0.55, learning_rate=0.3, max_depth=10, hidden_layers=[64, 32]),
        trial(2, "completed", 0.30, learning_rate=0.1, max_depth=6, hidden_layers=[64]),
    ]
    histories = [
        TrialHistory(trial_id="t_00000", rounds=[1, 2, 3], values=[0.6, 0.5, 0.4]),
        TrialHistory(trial_id="t_00001", rounds=[1], values=[0.55]),
        TrialHistory(trial_id="t_00002", rounds=[1, 2, 3], values=[0.5, 0.4, 0.3]),
    ]
    charts = sweep_charts(rows, histories, SPACE, "log_loss", "min", seed=0)
    assert list(charts) == [
        "optimisation_history",
        "parallel_coordinates",
        "parameter_importance",
        "learning_curves",
    ]
    history = charts["optimisation_history"]["data"]["values"]
    assert [point["best"] for point in history] == [0.40, 0.40, 0.30]
    lines = charts["parallel_coordinates"]["data"]["values"]
    position = {(line["trial_id"], line["axis"]): line["position"] for line in lines}
    # Log axis: 0.01 at the bottom, 0.3 at the top; a list-valued choice by its place.
    assert position["t_00000", "learning_rate"] == 0.0
    assert position["t_00001", "learning_rate"] == 1.0
    assert position["t_00001", "hidden_layers"] == 1.0
    assert position["t_00002", "log_loss"] == 0.0
    cuts = charts["learning_curves"]["layer"][1]["data"]["values"]
    assert cuts == [{"trial_id": "t_00001", "status": "stopped_early", "round": 1, "value": 0.55}]
    for spec in charts.values():
        assert render_png(spec).startswith(b"\x89PNG")
