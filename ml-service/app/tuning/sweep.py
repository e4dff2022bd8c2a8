"""Running a sweep on Ray Tune: the searcher and scheduler of a `TuningConfig`, the Tune run in a
worker thread of the service, and a Tune callback that keeps the trials table and reports it.

The Tune controller runs in this process (`Tuner.fit` in a thread), so a cancel, the tenant's
duration limit or a shutdown stop the sweep through a `Stopper` that Tune polls each step: Tune
stops every trial itself (its next report ends it) and releases the trials' actors and placement
groups. A restart fails a running sweep (`RESTART_ERROR`, as every job); it is not resumed from
Tune's experiment state.
"""

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ray import tune
from ray.tune.experiment import Trial
from ray.tune.schedulers import (
    AsyncHyperBandScheduler,
    FIFOScheduler,
    MedianStoppingRule,
    TrialScheduler,
)
from ray.tune.search import (
    BasicVariantGenerator,
    ConcurrencyLimiter,
    SearchAlgorithm,
    Searcher,
)

from app.training.algorithms.base import Algorithm
from app.tuning.schemas import ParameterSpace, SchedulerConfig, TuningConfig
from app.tuning.spaces import largest_value, tune_domain
from app.tuning.trial import FINAL_KEY, ROUND_KEY

# Metrics that are better when larger; every other one is minimised.
MAXIMISED = {"auc_roc", "accuracy", "f1_score", "precision", "recall", "r2"}
# Round events are passed on at most this often (each is a store write); starts and ends at once.
ROUND_EVENT_INTERVAL_SECONDS = 0.5
MAX_TRIAL_ERROR_LENGTH = 300


def default_metric(task_type: str) -> str:
    return "log_loss" if task_type == "classification" else "rmse"


def metric_mode(metric: str) -> str:
    return "max" if metric in MAXIMISED else "min"


def total_trials(config: TuningConfig, space: dict[str, ParameterSpace]) -> int:
    """Trials the sweep will run: grid: the grid's size times num_samples; otherwise num_samples."""
    samples = config.num_samples or (1 if config.search == "grid" else 10)
    if config.search == "grid":
        return math.prod(len(domain.values or []) for domain in space.values()) * samples
    return samples


def max_rounds(
    algorithm: Algorithm, fixed: dict[str, Any], space: dict[str, ParameterSpace]
) -> int:
    """Rounds of the longest trial the space allows: every searched value at its largest."""
    largest = {name: largest_value(domain) for name, domain in space.items()}
    return algorithm.total_iterations(algorithm.resolve_hyperparameters(fixed | largest))


def param_space(config: TuningConfig, space: dict[str, ParameterSpace]) -> dict[str, Any]:
    if config.search == "grid":
        return {name: tune.grid_search(domain.values) for name, domain in space.items()}
    return {name: tune_domain(domain) for name, domain in space.items()}


def searcher(config: TuningConfig) -> SearchAlgorithm | Searcher:
    """The searcher, which also holds the sweep's `max_concurrent_trials`.

    Grid and random: Tune's variant generator (seeded; its own `max_concurrent`, as Tune
    ignores `TuneConfig.max_concurrent_trials` for a variant generator). tpe and gp: Optuna's
    samplers (seeded) through Tune's OptunaSearch, behind a ConcurrencyLimiter in batch mode:
    a batch of `max_concurrent_trials` trials is proposed at once and the sampler hears their
    results only when the whole batch ended, so each proposal depends on the same finished
    trials whatever order they ended in (the order of ends varies from run to run), and the
    same seed proposes the same trials. The price: a free slot waits for the batch's slowest
    trial."""
    if config.search in {"grid", "random"}:
        return BasicVariantGenerator(
            random_state=config.random_state, max_concurrent=config.max_concurrent_trials
        )
    import optuna  # imported on demand: most sweeps do not need it
    from ray.tune.search.optuna import OptunaSearch

    sampler: optuna.samplers.BaseSampler
    if config.search == "tpe":
        sampler = optuna.samplers.TPESampler(seed=config.random_state)
    else:
        sampler = optuna.samplers.GPSampler(seed=config.random_state)
    return ConcurrencyLimiter(
        OptunaSearch(sampler=sampler), max_concurrent=config.max_concurrent_trials, batch=True
    )


def scheduler(settings: SchedulerConfig, rounds: int) -> TrialScheduler:
    """Times are Tune's `training_iteration`: one per reported round, plus the final report."""
    match settings.type:
        case "fifo":
            return FIFOScheduler()
        case "asha" | "hyperband":
            max_t = (settings.max_t or rounds) + 1
            return AsyncHyperBandScheduler(
                time_attr="training_iteration",
                max_t=max_t,
                grace_period=min(settings.grace_period, max_t),
                reduction_factor=settings.reduction_factor,
                brackets=settings.brackets if settings.type == "hyperband" else 1,
            )
        case "median_stopping":
            return MedianStoppingRule(
                time_attr="training_iteration",
                grace_period=settings.grace_period,
                min_samples_required=settings.min_samples_required,
            )


class StopFlag(tune.Stopper):
    """Stops the whole sweep when set (cancel, duration limit, shutdown)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, trial_id: str, result: dict) -> bool:
        return False

    def stop_all(self) -> bool:
        return self.event.is_set()

    # Tune pickles its run configuration into the experiment folder (for `Tuner.restore`, which
    # a sweep does not use); an event does not pickle.
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.event = threading.Event()


@dataclass
class TrialState:
    trial_id: str
    params: dict[str, Any]
    started: float
    status: str = "running"
    metrics: dict[str, float] = field(default_factory=dict)
    rounds: int = 0
    ended: float | None = None
    error: str | None = None
    history_rounds: list[int] = field(default_factory=list)
    history_values: list[float] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        end = self.ended if self.ended is not None else time.monotonic()
        return {
            "trial_id": self.trial_id,
            "status": self.status,
            "params": self.params,
            "metrics": self.metrics,
            "rounds": self.rounds,
            "duration_seconds": round(end - self.started, 3),
            "error": self.error,
        }


def _plain(value: Any) -> Any:
    """numpy scalars of a sampled configuration → JSON values."""
    return value.item() if hasattr(value, "item") else value


class SweepTracker(tune.Callback):
    """The trials table, kept from Tune's callbacks in the controller thread; `publish(snapshot)`
    is called on every trial start and end and, at most every half second, on rounds."""

    def __init__(
        self,
        metric: str,
        mode: str,
        trials_total: int,
        started: float,
        deadline: float | None,
        publish: Any,
    ) -> None:
        self.metric = metric
        self.mode = mode
        self.trials_total = trials_total
        self.started = started
        self.deadline = deadline  # time.monotonic() of the budget or duration limit
        self._publish = publish
        self.trials: dict[str, TrialState] = {}
        self._last_round_event = 0.0
        self._lock = threading.Lock()
        # What the searcher currently allows (PATCH changes it while the sweep runs).
        self.max_concurrent_trials: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Pickled with the run configuration (see StopFlag); the live table stays here.
        return {"metric": self.metric, "mode": self.mode, "trials_total": self.trials_total}

    def on_trial_start(self, iteration: int, trials: list, trial: Trial, **info: Any) -> None:
        params = {name: _plain(value) for name, value in trial.config.items()}
        self.trials[trial.trial_id] = TrialState(trial.trial_id, params, time.monotonic())
        self._emit({"trial_id": trial.trial_id, "event": "started"})

    def on_trial_result(
        self, iteration: int, trials: list, trial: Trial, result: dict, **info: Any
    ) -> None:
        state = self.trials.get(trial.trial_id)
        if state is None:
            return
        metrics = {
            key: float(value)
            for key, value in result.items()
            if key not in {ROUND_KEY, FINAL_KEY} and key in _METRIC_KEYS
        }
        state.metrics = metrics
        if result.get(FINAL_KEY):
            return
        state.rounds = int(result.get(ROUND_KEY, state.rounds))
        if self.metric in metrics:
            state.history_rounds.append(state.rounds)
            state.history_values.append(metrics[self.metric])
        now = time.monotonic()
        if now - self._last_round_event >= ROUND_EVENT_INTERVAL_SECONDS:
            self._last_round_event = now
            self._emit(
                {
                    "trial_id": trial.trial_id,
                    "event": "round",
                    "round": state.rounds,
                    "value": metrics.get(self.metric),
                }
            )

    def on_trial_complete(self, iteration: int, trials: list, trial: Trial, **info: Any) -> None:
        state = self.trials.get(trial.trial_id)
        if state is None:
            return
        state.ended = time.monotonic()
        # A trial that sent its final report ran every round; one Tune stopped before did not
        # (the scheduler's decision, the time budget or the sweep's stop).
        state.status = "completed" if trial.last_result.get(FINAL_KEY) else "stopped_early"
        self._emit({"trial_id": trial.trial_id, "event": state.status, "round": state.rounds})

    def on_trial_error(self, iteration: int, trials: list, trial: Trial, **info: Any) -> None:
        state = self.trials.get(trial.trial_id)
        if state is None:
            return
        state.ended = time.monotonic()
        state.status = "failed"
        state.error = _trial_error(trial)
        self._emit({"trial_id": trial.trial_id, "event": "failed"})

    def best(self) -> TrialState | None:
        scored = [state for state in self.trials.values() if self.metric in state.metrics]
        if not scored:
            return None
        sign = -1 if self.mode == "max" else 1
        return min(scored, key=lambda state: sign * state.metrics[self.metric])

    def snapshot(self, last_event: dict[str, Any] | None) -> dict[str, Any]:
        states = list(self.trials.values())
        count = lambda status: sum(1 for state in states if state.status == status)  # noqa: E731
        now = time.monotonic()
        best = self.best()
        return {
            "trials_total": self.trials_total,
            "trials_started": len(states),
            "trials_running": count("running"),
            "trials_completed": count("completed"),
            "trials_stopped_early": count("stopped_early"),
            "trials_failed": count("failed"),
            "best_trial": best.row() if best else None,
            "elapsed_seconds": round(now - self.started, 3),
            "time_left_seconds": (
                round(max(0.0, self.deadline - now), 1) if self.deadline is not None else None
            ),
            "last_event": last_event,
            "max_concurrent_trials": self.max_concurrent_trials,
            "trials": [state.row() for state in states],
        }

    def concurrency_changed(self, value: int) -> None:
        self.max_concurrent_trials = value
        self._emit({"event": "max_concurrent_trials", "value": value})

    def _emit(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._publish(self.snapshot(event))


# Every metric a trial may report (rounds and the final evaluation).
_METRIC_KEYS = {
    "log_loss",
    "auc_roc",
    "accuracy",
    "precision",
    "recall",
    "f1_score",
    "rmse",
    "mae",
    "r2",
    "mape",
}


def _trial_error(trial: Trial) -> str:
    """The exception the trial raised, in one line (Tune wraps it in a RayTaskError)."""
    try:
        error = trial.get_pickled_error()
    except Exception:  # an unreadable error file: say so rather than fail the sweep
        error = None
    cause = getattr(error, "cause", None) or error
    if cause is None:
        return "the trial failed"
    first_line = next((line for line in str(cause).splitlines() if line.strip()), "")
    return f"{type(cause).__name__}: {first_line.strip()}"[:MAX_TRIAL_ERROR_LENGTH]


class LiveSweeps:
    """The running sweeps of this process: their searcher (which holds `max_concurrent`) and
    tracker, so `PATCH /api/v1/tuning/{id}` can change how many trials run at once while Tune
    runs. Both searcher kinds (Tune's BasicVariantGenerator; the ConcurrencyLimiter in front of
    Optuna) read `max_concurrent` each time Tune asks them for a trial: a raise starts more
    trials at the next step, a lowering lets running trials finish and starts none until fewer
    run."""

    def __init__(self) -> None:
        self._sweeps: dict[str, tuple[SearchAlgorithm | Searcher, SweepTracker]] = {}
        self._lock = threading.Lock()

    def add(self, sweep_id: str, search: SearchAlgorithm | Searcher, tracker: SweepTracker) -> None:
        with self._lock:
            self._sweeps[sweep_id] = (search, tracker)

    def remove(self, sweep_id: str) -> None:
        with self._lock:
            self._sweeps.pop(sweep_id, None)

    def set_max_concurrent(self, sweep_id: str, value: int) -> bool:
        """False when the sweep's trials are not running in this process (not started yet, or
        ended). Call it off the event loop: the progress event it publishes waits for the loop
        to store it."""
        with self._lock:
            live = self._sweeps.get(sweep_id)
            if live is None:
                return False
            search, tracker = live
            search.max_concurrent = value  # type: ignore[union-attr]
        tracker.concurrency_changed(value)
        return True
