"""A completed sweep's charts as Vega-Lite specs, drawn from the stored trials table and metric
histories (no second run, nothing logged): built on request on `app.charts.core`, as EDA's are.

- `optimisation_history`: each trial's score in start order, and the best score so far
  (Optuna's `plot_optimization_history`).
- `parallel_coordinates`: one line per trial across the searched hyperparameters and the score,
  each axis scaled to its own range (log axes on a log scale, choices in the order listed).
- `parameter_importance`: Optuna's fANOVA importance (Hutter et al., 2014, "An Efficient Approach
  for Assessing Hyperparameter Importance"; `optuna.importance.FanovaImportanceEvaluator`) of the
  trials that ran to the end — Optuna scores complete trials only, and a trial stopped early has
  a partial score. Left out when fewer than two trials completed.
- `learning_curves`: every trial's metric by round, with a cross where early stopping cut a
  trial.
"""

import json
import math
from collections.abc import Sequence
from typing import Any

from app.charts.core import chart
from app.tuning.schemas import ParameterSpace, TrialHistory, TrialRow

# Curves are thinned to this many points per trial, so a 1000-trial sweep's spec stays small.
MAX_POINTS_PER_CURVE = 200
# fANOVA's random forest: Optuna's defaults (64 trees, depth 64); seeded for a stable chart.
FANOVA_TREES = 64
FANOVA_DEPTH = 64
# One colour per trial status on every chart.
_STATUS_COLOURS = {
    "completed": "#4c78a8",
    "stopped_early": "#f58518",
    "failed": "#e45756",
    "running": "#72b7b2",
    "pending": "#bab0ac",
}


def _status_scale(statuses: set[str]) -> dict[str, list[str]]:
    """The colour scale of the statuses present (the legend lists no status nobody had)."""
    shown = [status for status in _STATUS_COLOURS if status in statuses]
    return {"domain": shown, "range": [_STATUS_COLOURS[status] for status in shown]}


def _number(value: float) -> float:
    return float(f"{value:.6g}")


def _label(value: Any) -> str:
    """A hyperparameter value as one short string (lists such as hidden_layers as JSON)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return value if isinstance(value, str) else json.dumps(value)


def sweep_charts(
    trials: Sequence[TrialRow],
    histories: Sequence[TrialHistory],
    space: dict[str, ParameterSpace],
    metric: str,
    mode: str,
    seed: int,
) -> dict[str, dict]:
    """`{name: spec}` in display order; a chart that would say nothing is left out."""
    scored = [trial for trial in trials if metric in trial.metrics]
    charts: dict[str, dict] = {}
    if scored:
        charts["optimisation_history"] = optimisation_history(trials, metric, mode)
        charts["parallel_coordinates"] = parallel_coordinates(scored, space, metric, mode)
    importance = parameter_importance(trials, space, metric, mode, seed)
    if importance is not None:
        charts["parameter_importance"] = importance
    if any(history.rounds for history in histories):
        charts["learning_curves"] = learning_curves(trials, histories, metric)
    return charts


def optimisation_history(trials: Sequence[TrialRow], metric: str, mode: str) -> dict:
    """Points: each scored trial's metric (a trial stopped early: its last reported round);
    line: the best so far, as the sweep's best_trial counts it."""
    sign = -1 if mode == "max" else 1
    values: list[dict[str, Any]] = []
    best: float | None = None
    for number, trial in enumerate(trials, start=1):
        if metric not in trial.metrics:
            continue
        value = trial.metrics[metric]
        best = value if best is None or sign * value < sign * best else best
        values.append(
            {
                "trial": number,
                "trial_id": trial.trial_id,
                "status": trial.status,
                "value": _number(value),
                "best": _number(best),
                "rounds": trial.rounds,
            }
        )
    assert best is not None
    x = {"field": "trial", "type": "quantitative", "title": "Trial (in start order)",
         "axis": {"format": "d", "tickMinStep": 1}}  # fmt: skip
    y_scale = {"zero": False}
    return chart(
        "Optimisation history",
        f"{metric} of {len(values)} trials ({'higher' if mode == 'max' else 'lower'} is "
        f"better); best {best:.5g}",
        {"values": values},
        {
            "layer": [
                {
                    "mark": {"type": "line", "interpolate": "step-after", "color": "#54a24b",
                             "strokeWidth": 2},
                    "encoding": {
                        "x": x,
                        "y": {"field": "best", "type": "quantitative", "scale": y_scale,
                              "title": metric},
                    },
                },
                {
                    "mark": {"type": "point", "filled": True, "size": 60},
                    "encoding": {
                        "x": x,
                        "y": {"field": "value", "type": "quantitative", "scale": y_scale,
                              "title": metric},
                        "color": {"field": "status", "type": "nominal", "title": "Trial",
                                  "scale": _status_scale({v["status"] for v in values})},
                        "tooltip": [
                            {"field": "trial_id", "title": "Trial"},
                            {"field": "status", "title": "Status"},
                            {"field": "rounds", "title": "Rounds"},
                            {"field": "value", "title": metric, "format": ",.5~g"},
                        ],
                    },
                },
            ]
        },
    )  # fmt: skip


def _axis_positions(
    name: str, domain: ParameterSpace, trials: Sequence[TrialRow]
) -> tuple[list[float | None], list[tuple[float, str]]]:
    """Each trial's position on the axis in [0, 1] and the axis' tick labels."""
    raw = [trial.params.get(name) for trial in trials]
    if domain.values is not None:
        labels = list(dict.fromkeys(_label(value) for value in domain.values))
        places = {label: index for index, label in enumerate(labels)}
        span = max(len(labels) - 1, 1)
        positions = [
            places[_label(value)] / span if _label(value) in places else None for value in raw
        ]
        return positions, [(index / span, label) for index, label in enumerate(labels)]
    assert domain.lower is not None and domain.upper is not None
    log = domain.type in {"loguniform", "qloguniform"}
    scale = math.log if log else float
    low, high = scale(domain.lower), scale(domain.upper)
    span = (high - low) or 1.0
    positions = [
        None if value is None else min(1.0, max(0.0, (scale(value) - low) / span))
        for value in raw
    ]
    return positions, [(0.0, _label(domain.lower)), (1.0, _label(domain.upper))]


def parallel_coordinates(
    trials: Sequence[TrialRow], space: dict[str, ParameterSpace], metric: str, mode: str
) -> dict:
    """One line per scored trial through every searched hyperparameter and the metric, each
    axis from its lowest (bottom) to its highest value; colour: the metric."""
    axes = list(space)
    values: list[dict[str, Any]] = []
    ticks: list[dict[str, Any]] = []
    for name in axes:
        positions, labels = _axis_positions(name, space[name], trials)
        for trial, position in zip(trials, positions, strict=True):
            if position is not None:
                values.append(
                    {
                        "trial_id": trial.trial_id,
                        "axis": name,
                        "position": _number(position),
                        "value": _label(trial.params.get(name)),
                        "score": _number(trial.metrics[metric]),
                    }
                )
        ticks += [{"axis": name, "position": place, "label": text} for place, text in labels]
    scores = [trial.metrics[metric] for trial in trials]
    low, high = min(scores), max(scores)
    for trial in trials:
        score = trial.metrics[metric]
        values.append(
            {
                "trial_id": trial.trial_id,
                "axis": metric,
                "position": _number((score - low) / ((high - low) or 1.0)),
                "value": _label(score),
                "score": _number(score),
            }
        )
    ticks += [
        {"axis": metric, "position": 0.0, "label": _label(low)},
        {"axis": metric, "position": 1.0, "label": _label(high)},
    ]
    order = [*axes, metric]
    x = {"field": "axis", "type": "nominal", "sort": order, "title": None,
         "axis": {"labelAngle": 0, "domain": False, "ticks": False}}
    y = {"field": "position", "type": "quantitative", "axis": None,
         "scale": {"domain": [0, 1]}}
    return chart(
        "Parallel coordinates",
        f"{len(trials)} trials across {len(axes)} hyperparameters and {metric}; each axis "
        "runs from its lowest value (bottom) to its highest",
        {"values": values},
        {
            "layer": [
                {
                    "mark": {"type": "rule", "color": "#bbbbbb"},
                    "data": {"values": [{"axis": name} for name in order]},
                    "encoding": {"x": x},
                },
                {
                    "mark": {"type": "line", "strokeWidth": 1.5, "opacity": 0.8},
                    "encoding": {
                        "x": x,
                        "y": y,
                        "detail": {"field": "trial_id", "type": "nominal"},
                        "color": {"field": "score", "type": "quantitative", "title": metric,
                                  "scale": {"scheme": "viridis",
                                            "reverse": mode == "min"}},
                        "tooltip": [
                            {"field": "trial_id", "title": "Trial"},
                            {"field": "axis", "title": "Axis"},
                            {"field": "value", "title": "Value"},
                        ],
                    },
                },
                {
                    "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 11,
                             "color": "#555555"},
                    "data": {"values": ticks},
                    "encoding": {"x": x, "y": y, "text": {"field": "label"}},
                },
            ]
        },
        width=max(360, 130 * len(order)),
    )  # fmt: skip


def _distribution(domain: ParameterSpace) -> Any:
    """The Optuna distribution of a domain (fANOVA reads the ranges and the log scale)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if domain.values is not None:
        return CategoricalDistribution(list(dict.fromkeys(_label(v) for v in domain.values)))
    assert domain.lower is not None and domain.upper is not None
    if domain.type == "randint":
        return IntDistribution(int(domain.lower), int(domain.upper))
    # q variants as continuous: the step changes which values are drawn, not the importance.
    return FloatDistribution(
        domain.lower, domain.upper, log=domain.type in {"loguniform", "qloguniform"}
    )


def _optuna_value(domain: ParameterSpace, value: Any) -> Any:
    if domain.values is not None:
        return _label(value)
    if domain.type == "randint":
        return int(value)
    # A q-rounded sample may land a step beyond a bound; Optuna refuses values outside it.
    assert domain.lower is not None and domain.upper is not None
    return min(domain.upper, max(domain.lower, float(value)))


def fanova_importances(
    trials: Sequence[TrialRow],
    space: dict[str, ParameterSpace],
    metric: str,
    mode: str,
    seed: int,
) -> dict[str, float] | None:
    """Each searched hyperparameter's share of the metric's variance over the completed trials
    (sums to 1), by Optuna's fANOVA evaluator; None when fewer than two trials completed or no
    hyperparameter took two values."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    completed = [
        trial
        for trial in trials
        if trial.status == "completed" and metric in trial.metrics
        and all(name in trial.params for name in space)
    ]  # fmt: skip
    if len(completed) < 2:
        return None
    distributions = {name: _distribution(domain) for name, domain in space.items()}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize" if mode == "max" else "minimize")
    for trial in completed:
        study.add_trial(
            optuna.trial.create_trial(
                params={
                    name: _optuna_value(domain, trial.params[name])
                    for name, domain in space.items()
                },
                distributions=distributions,
                value=trial.metrics[metric],
            )
        )
    varied = [
        name
        for name in space
        if len({json.dumps(trial.params[name], sort_keys=True) for trial in completed}) > 1
    ]
    if not varied:
        return None
    evaluator = FanovaImportanceEvaluator(
        n_trees=FANOVA_TREES, max_depth=FANOVA_DEPTH, seed=seed
    )
    importances = get_param_importances(study, evaluator=evaluator, params=varied)
    return {name: float(value) for name, value in importances.items()}


def parameter_importance(
    trials: Sequence[TrialRow],
    space: dict[str, ParameterSpace],
    metric: str,
    mode: str,
    seed: int,
) -> dict | None:
    importances = fanova_importances(trials, space, metric, mode, seed)
    if importances is None:
        return None
    completed = sum(1 for trial in trials if trial.status == "completed")
    values = [
        {"parameter": name, "importance": _number(value)}
        for name, value in sorted(importances.items(), key=lambda item: -item[1])
    ]
    return chart(
        "Hyperparameter importance",
        f"fANOVA (Optuna) over the {completed} trials that ran to the end: each "
        f"hyperparameter's share of the variance of {metric}",
        {"values": values},
        {
            "mark": {"type": "bar", "color": "#4c78a8"},
            "encoding": {
                "y": {"field": "parameter", "type": "nominal", "sort": None, "title": None},
                "x": {"field": "importance", "type": "quantitative", "title": "Importance",
                      "axis": {"format": ".0%"}},
                "tooltip": [{"field": "parameter"},
                            {"field": "importance", "format": ".1%"}],
            },
        },
        height=max(80, 28 * len(values)),
    )  # fmt: skip


def _thinned(rounds: list[int], values: list[float]) -> list[tuple[int, float]]:
    """At most MAX_POINTS_PER_CURVE points, always keeping the last (where the trial ended)."""
    points = list(zip(rounds, values, strict=True))
    if len(points) <= MAX_POINTS_PER_CURVE:
        return points
    step = math.ceil(len(points) / MAX_POINTS_PER_CURVE)
    kept = points[::step]
    return kept if kept[-1] == points[-1] else [*kept, points[-1]]


def learning_curves(
    trials: Sequence[TrialRow], histories: Sequence[TrialHistory], metric: str
) -> dict:
    """One line per trial: the metric by round on the validation rows; a cross marks the round
    where early stopping (the scheduler, the time budget or a cancel) cut a trial."""
    status = {trial.trial_id: trial.status for trial in trials}
    values: list[dict[str, Any]] = []
    cuts: list[dict[str, Any]] = []
    for history in histories:
        if not history.rounds:
            continue
        trial_status = status.get(history.trial_id, "completed")
        for round_, value in _thinned(history.rounds, history.values):
            values.append(
                {
                    "trial_id": history.trial_id,
                    "status": trial_status,
                    "round": round_,
                    "value": _number(value),
                }
            )
        if trial_status == "stopped_early":
            cuts.append(
                {
                    "trial_id": history.trial_id,
                    "status": trial_status,
                    "round": history.rounds[-1],
                    "value": _number(history.values[-1]),
                }
            )
    stopped = len(cuts)
    x = {"field": "round", "type": "quantitative", "title": "Round",
         "axis": {"format": "d", "tickMinStep": 1}}  # fmt: skip
    y = {"field": "value", "type": "quantitative", "title": metric, "scale": {"zero": False}}
    colour = {
        "field": "status",
        "type": "nominal",
        "title": "Trial",
        "scale": _status_scale({value["status"] for value in values}),
    }
    tooltip = [
        {"field": "trial_id", "title": "Trial"},
        {"field": "round", "title": "Round"},
        {"field": "value", "title": metric, "format": ",.5~g"},
    ]
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "line", "strokeWidth": 1.5, "opacity": 0.8},
            "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip,
                         "detail": {"field": "trial_id", "type": "nominal"}},
        }
    ]  # fmt: skip
    if cuts:
        layers.append(
            {
                "mark": {"type": "point", "shape": "cross", "size": 90, "filled": True},
                "data": {"values": cuts},
                "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip},
            }
        )
    return chart(
        "Learning curves",
        f"{metric} on the validation rows by round, {len(histories)} trials; "
        f"{stopped} stopped early (x: the round they were cut at)",
        {"values": values},
        {"layer": layers},
    )
