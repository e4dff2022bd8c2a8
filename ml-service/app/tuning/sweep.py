"""Running a sweep on Ray Tune: the searcher and scheduler of a `TuningConfig`, the Tune run in a
worker thread of the service, and a Tune callback that keeps the trials table and reports it.

The Tune controller runs in this process (`Tuner.fit` in a thread), so a cancel, the tenant's
duration limit or a shutdown stop the sweep through a `Stopper` that Tune polls each step: Tune
stops every trial itself (its next report ends it) and releases the trials' actors and placement
groups. A restart fails a running sweep (`RESTART_ERROR`, as every job); it is not resumed from
Tune's experiment state.
"""

import math
import os
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
    SearchGenerator,
)

from app.training.algorithms.base import Algorithm
from app.tuning.pbt import pbt_scheduler
from app.tuning.schemas import (
    MAX_CONCURRENT_TRIALS,
    ParameterSpace,
    SchedulerConfig,
    TuningConfig,
)
from app.tuning.spaces import forecasts, largest_value, tune_domain
from app.tuning.trial import FINAL_KEY, ROUND_KEY

# Metrics that are better when larger; every other one is minimised.
MAXIMISED = {"auc_roc", "accuracy", "f1_score", "precision", "recall", "r2"}
# Round events are passed on at most this often (each is a store write); starts and ends at once.
ROUND_EVENT_INTERVAL_SECONDS = 0.5
MAX_TRIAL_ERROR_LENGTH = 300

# How many trials Tune's controller keeps starting at once (ray.tune.execution.tune_controller.
# _get_max_pending_trials, read by every Tuner.fit). Left on "auto", Tune allows 1 for a searcher
# that is neither its variant generator nor wraps a ConcurrencyLimiter it can find, which
# `TrialBudget` around the variant generator is: a trial then started only after the one before it
# ended, and a sweep of max_concurrent_trials=2 ran its trials one by one (measured: 8 trials,
# 52 s with at most 1 running, 34 s with 2). The searcher holds the sweep's concurrency (and a
# PATCH changes it), so the controller's own cap only has to stay out of its way.
os.environ.setdefault("TUNE_MAX_PENDING_TRIALS_PG", str(MAX_CONCURRENT_TRIALS))
# Tune's default result loggers (CSV, JSON, TensorBoard files per trial, ray.tune.utils.callback.
# _create_default_callbacks) are off: nobody reads those files (the trials table, MLflow and the
# charts come from `SweepTracker`, and an ended sweep's folder is removed), yet on the sweep's
# own process they cost a tensorboardX import (3.6 s of CPU at each sweep's start) and a file
# write and flush per reported round, the CPU its two trials wait for on 2 cores (py-spy: 5.8 s
# of the 12.4 s the service spent on an 8-trial, 1,200-round sweep).
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")


def default_metric(task_type: str) -> str:
    return "log_loss" if task_type == "classification" else "rmse"


def metric_mode(metric: str) -> str:
    return "max" if metric in MAXIMISED else "min"


# The most trials a sweep may run (num_samples' bound on the wire): the searcher is built for this
# many, and `TrialBudget` lets the sweep's own number of them start.
MAX_NUM_SAMPLES = 1000


def total_trials(
    config: TuningConfig, space: dict[str, ParameterSpace], num_samples: int | None = None
) -> int:
    """Trials the sweep will run: grid: the grid's size times num_samples; otherwise num_samples
    (`num_samples`: a PATCH's value instead of the submitted one)."""
    samples = num_samples or config.num_samples or (1 if config.search == "grid" else 10)
    if config.search == "grid":
        return math.prod(len(domain.values or []) for domain in space.values()) * samples
    return samples


def max_rounds(
    algorithm: Algorithm, fixed: dict[str, Any], space: dict[str, ParameterSpace]
) -> int:
    """Rounds of the longest trial the space allows: every searched value at its largest. A
    forecaster's trial is one fit (its three stages are a training job's, not a trial's)."""
    if forecasts(algorithm):
        return 1
    largest = {name: largest_value(domain) for name, domain in space.items()}
    return algorithm.total_iterations(algorithm.resolve_hyperparameters(fixed | largest))


def param_space(config: TuningConfig, space: dict[str, ParameterSpace]) -> dict[str, Any]:
    if config.search == "grid":
        return {name: tune.grid_search(domain.values) for name, domain in space.items()}
    return {name: tune_domain(domain) for name, domain in space.items()}


def searcher(config: TuningConfig, trials: int) -> "TrialBudget":
    """The searcher, which also holds the sweep's `max_concurrent_trials`, behind the budget of
    `trials` trials (`TrialBudget`).

    Grid and random: Tune's variant generator (seeded; its own `max_concurrent`, as Tune
    ignores `TuneConfig.max_concurrent_trials` for a variant generator). tpe and gp: Optuna's
    samplers (seeded) through Tune's OptunaSearch, behind a ConcurrencyLimiter in batch mode:
    a batch of `max_concurrent_trials` trials is proposed at once and the sampler hears their
    results only when the whole batch ended, so each proposal depends on the same finished
    trials whatever order they ended in (the order of ends varies from run to run), and the
    same seed proposes the same trials. The price: a free slot waits for the batch's slowest
    trial."""
    if config.search in {"grid", "random"}:
        return TrialBudget(
            BasicVariantGenerator(
                random_state=config.random_state, max_concurrent=config.max_concurrent_trials
            ),
            trials,
        )
    import optuna  # imported on demand: most sweeps do not need it
    from ray.tune.search.optuna import OptunaSearch

    sampler: optuna.samplers.BaseSampler
    if config.search == "tpe":
        sampler = optuna.samplers.TPESampler(seed=config.random_state)
    else:
        sampler = optuna.samplers.GPSampler(seed=config.random_state)
    limiter = ConcurrencyLimiter(
        OptunaSearch(sampler=sampler), max_concurrent=config.max_concurrent_trials, batch=True
    )
    return TrialBudget(SearchGenerator(limiter), trials)


class TrialBudget(SearchAlgorithm):
    """A searcher that starts at most `trials` trials, a number `set_trials` changes while Tune
    runs (PATCH num_samples).

    Tune gives a searcher the number of trials once, from `TuneConfig.num_samples`, when the run
    starts (Ray 2.60: `SearchGenerator.add_configurations` copies it into a private
    `_total_samples`, `BasicVariantGenerator` into its private trial iterators), and has no
    public way to change it. So the wrapped searcher is built for `MAX_NUM_SAMPLES` (grid:
    that many passes of the grid) and this wrapper, which Tune asks for each new trial, stops
    handing them out at the sweep's number: lowering ends the sweep once the trials already
    started end, raising hands out more of the same searcher's proposals (the same seed gives
    the same sequence, whatever the cap). Everything else is the wrapped searcher's. Katib's
    `maxTrialCount` can likewise be edited on a running experiment."""

    def __init__(self, search: BasicVariantGenerator | SearchGenerator, trials: int) -> None:
        self.search = search
        self.trials = trials
        self.created = 0
        self._lock = threading.Lock()

    # Tune pickles its run configuration, the searcher among it (see StopFlag); a lock does not.
    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def max_concurrent(self) -> int:
        limiter = getattr(self.search, "searcher", self.search)
        return limiter.max_concurrent

    @max_concurrent.setter
    def max_concurrent(self, value: int) -> None:
        # BasicVariantGenerator and ConcurrencyLimiter read it each time Tune asks for a trial.
        limiter = getattr(self.search, "searcher", self.search)
        limiter.max_concurrent = value

    @property
    def searcher(self) -> Any:
        # Tune sizes its queue of pending trials from a ConcurrencyLimiter it finds here.
        return getattr(self.search, "searcher", None)

    def set_trials(self, trials: int) -> int | None:
        """Start at most `trials` trials in all; None when done, else the number of trials
        that already started (more than `trials`: refused)."""
        with self._lock:
            if trials < self.created:
                return self.created
            self.trials = trials
            return None

    @property
    def metric(self) -> str | None:
        return self.search.metric

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict, **spec: Any
    ) -> bool:
        return self.search.set_search_properties(metric, mode, config, **spec)

    @property
    def total_samples(self) -> int:
        return self.trials

    def add_configurations(self, experiments: Any) -> None:
        self.search.add_configurations(experiments)

    def next_trial(self) -> Trial | None:
        with self._lock:
            if self.created >= self.trials:
                return None
            trial = self.search.next_trial()
            if trial is not None:
                self.created += 1
            return trial

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self.search.on_trial_result(trial_id, result)

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        self.search.on_trial_complete(trial_id, result=result, error=error)

    def is_finished(self) -> bool:
        return self.created >= self.trials or self.search.is_finished()

    def set_finished(self) -> None:
        self.search.set_finished()


def scheduler(
    settings: SchedulerConfig,
    rounds: int,
    space: dict[str, ParameterSpace],
    tracker: "SweepTracker",
) -> TrialScheduler:
    """Times are Tune's `training_iteration`: one per reported round, plus the final report
    (pbt: the trial's round, see `app.tuning.pbt`, which tells `tracker` of each exploit)."""
    match settings.type:
        case "pbt":
            return pbt_scheduler(settings, space, tracker.exploited)
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
    perturbations: list[dict[str, Any]] = field(default_factory=list)

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
            "perturbations": self.perturbations,
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
        if trial.trial_id in self.trials:
            # pbt resumes a paused or exploited trial: the same row goes on.
            return
        params = {name: _plain(value) for name, value in trial.config.items()}
        self.trials[trial.trial_id] = TrialState(trial.trial_id, params, time.monotonic())
        self._emit({"trial_id": trial.trial_id, "event": "started"})

    def exploited(
        self,
        trial_id: str,
        round_number: int | None,
        cloned_trial_id: str,
        cloned_round: int | None,
        config: dict[str, Any],
    ) -> None:
        """pbt: `trial_id`, at `round_number`, continues from `cloned_trial_id`'s model (at
        `cloned_round`) with `config`; its row's params become that config. Called in the
        controller thread."""
        state = self.trials.get(trial_id)
        if state is None:
            return
        state.params = {name: _plain(value) for name, value in config.items()}
        exploited_at = int(round_number) if round_number is not None else state.rounds
        state.perturbations.append(
            {
                "round": exploited_at,
                "cloned_trial_id": cloned_trial_id,
                "cloned_round": int(cloned_round) if cloned_round is not None else None,
                "params": state.params,
            }
        )
        self._emit(
            {
                "trial_id": trial_id,
                "event": "perturbed",
                "round": exploited_at,
                "cloned_trial_id": cloned_trial_id,
            }
        )

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
            # A forecaster's trial reports once, with its only round.
            state.rounds = max(state.rounds, int(result.get(ROUND_KEY, 0)))
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
        """The best trial by the sweep's metric, among the trials that ran every round when any
        did, else among those that ran the most rounds. A trial stopped early is scored at the
        round it was cut: its score is not that of the configuration train-best trains (every
        round), and with overfitting or an early-stopping metric a short run can score better
        than a full one — ranking it with full runs would favour whatever the scheduler cut.
        Ray Tune's `get_best_result(scope="last")` compares every trial's last result as is;
        Katib's optimal trial likewise. Comparing the furthest trials only when none completed
        (a time budget or `max_t` below the rounds) keeps scores of equal length side by side,
        as successive halving's rungs do. A failed trial is never the best."""
        scored = [
            state
            for state in self.trials.values()
            if self.metric in state.metrics and state.status != "failed"
        ]
        if not scored:
            return None
        pool = [state for state in scored if state.status == "completed"]
        if not pool:
            furthest = max(state.rounds for state in scored)
            pool = [state for state in scored if state.rounds == furthest]
        sign = -1 if self.mode == "max" else 1
        return min(pool, key=lambda state: sign * state.metrics[self.metric])

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

    def trials_changed(self, total: int) -> None:
        self.trials_total = total
        self._emit({"event": "trials_total", "value": total})

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
    "smape",
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


class TooFewTrialsError(Exception):
    """A running sweep cannot run fewer trials than it already started."""

    def __init__(self, started: int) -> None:
        super().__init__(f"{started} trials started already")
        self.started = started


class LiveSweeps:
    """The running sweeps of this process: their searcher (which holds `max_concurrent` and the
    trial budget) and tracker, so `PATCH /api/v1/tuning/{id}` can change how many trials run at
    once, and how many run in all, while Tune runs. Both searcher kinds (Tune's
    BasicVariantGenerator; the ConcurrencyLimiter in front of Optuna) read `max_concurrent`
    each time Tune asks them for a trial: a raise starts more trials at the next step, a
    lowering lets running trials finish and starts none until fewer run. The budget
    (`TrialBudget`) is read at the same moments."""

    def __init__(self) -> None:
        self._sweeps: dict[str, tuple[TrialBudget, SweepTracker]] = {}
        self._lock = threading.Lock()

    def add(self, sweep_id: str, search: TrialBudget, tracker: SweepTracker) -> None:
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
            search.max_concurrent = value
        tracker.concurrency_changed(value)
        return True

    def set_trials(self, sweep_id: str, trials: int) -> bool:
        """Run `trials` trials in all; False as `set_max_concurrent`, TooFewTrialsError when more
        than that already started. Off the event loop, as `set_max_concurrent`."""
        with self._lock:
            live = self._sweeps.get(sweep_id)
            if live is None:
                return False
            search, tracker = live
            started = search.set_trials(trials)
            if started is not None:
                raise TooFewTrialsError(started)
        tracker.trials_changed(trials)
        return True
