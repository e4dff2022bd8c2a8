"""Wire shapes of tuning: a sweep is a training configuration plus a search space, a searcher, a
scheduler, an objective and budgets; the sweep answers with its trials table and best trial."""

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.jobs.store import JobStatus
from app.naming import Name
from app.training.schemas import ChartInfo, TrainingConfig

SpaceType = Literal["choice", "grid", "uniform", "loguniform", "randint", "quniform", "qloguniform"]
SearchAlgorithmName = Literal["grid", "random", "tpe", "gp"]
SchedulerName = Literal["fifo", "asha", "hyperband", "median_stopping", "pbt"]
TuningMetric = Literal["log_loss", "auc_roc", "rmse", "mae", "mape"]
TrialStatus = Literal["pending", "running", "completed", "stopped_early", "failed"]

# The most trials of one sweep that run at once (max_concurrent_trials' bound on the wire).
MAX_CONCURRENT_TRIALS = 64
_NEEDS_VALUES = {"choice", "grid"}
_NEEDS_BOUNDS = {"uniform", "loguniform", "randint", "quniform", "qloguniform"}
_NEEDS_Q = {"quniform", "qloguniform"}


class ParameterSpace(BaseModel):
    """One hyperparameter's domain. `choice`/`grid`: `values` (grid: every value is tried);
    `uniform`/`loguniform`: a number in [lower, upper] (log: sampled on a log scale, lower > 0);
    `randint`: an integer in [lower, upper], both included; `quniform`/`qloguniform`: a
    multiple of `q` in [lower, upper] (an integer hyperparameter needs an integer `q`)."""

    model_config = ConfigDict(extra="forbid")

    type: SpaceType
    values: list[Any] | None = Field(None, min_length=1, max_length=1000)
    lower: float | None = None
    upper: float | None = None
    q: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _fields_of_type(self) -> "ParameterSpace":
        if self.type in _NEEDS_VALUES:
            if self.values is None:
                raise ValueError(f"{self.type} needs values")
            if self.lower is not None or self.upper is not None or self.q is not None:
                raise ValueError(f"{self.type} takes values only, not lower/upper/q")
        else:
            if self.values is not None:
                raise ValueError(f"{self.type} takes lower and upper, not values")
            if self.lower is None or self.upper is None:
                raise ValueError(f"{self.type} needs lower and upper")
            if self.lower > self.upper or (self.lower == self.upper and self.type != "randint"):
                raise ValueError("lower must be below upper")
            if self.type in {"loguniform", "qloguniform"} and self.lower <= 0:
                raise ValueError(f"{self.type} needs lower > 0")
            if (self.q is not None) != (self.type in _NEEDS_Q):
                raise ValueError(
                    f"{self.type} needs q" if self.type in _NEEDS_Q else f"{self.type} takes no q"
                )
            if self.q is not None:
                # Ray Tune's quantized domains refuse bounds off the grid of q (ValueError in
                # ray.tune.search.sample.Float.quantized, with the same isclose test)
                for name, bound in (("lower", self.lower), ("upper", self.upper)):
                    if not math.isclose(bound / self.q, round(bound / self.q)):
                        raise ValueError(f"{name} {bound:g} is not a multiple of q {self.q:g}")
        return self


class SchedulerConfig(BaseModel):
    """When trials stop early. Times count boosting rounds (or forest steps): what a trial
    reports each round on the validation split.

    - `fifo`: every trial runs to the end.
    - `asha`: asynchronous successive halving (Li et al., 2020): at `grace_period`,
      `grace_period * reduction_factor`, … rounds a trial continues only when it is in the best
      1/`reduction_factor` of the trials that reached that round.
    - `hyperband`: asynchronous HyperBand, several ASHA brackets with different grace periods
      (Ray Tune's AsyncHyperBandScheduler with `brackets`); Tune's synchronous HyperBand pauses
      trials and resumes them from checkpoints, which an in-process boosting trial does not
      write.
    - `median_stopping`: after `grace_period` rounds, a trial whose best result is worse than
      the median of the other trials' running averages at that round stops (Golovin et al.,
      2017, Google Vizier).
    - `pbt`: Population Based Training (Jaderberg et al., 2017; Ray Tune's
      PopulationBasedTraining): every `perturbation_interval` rounds a trial in the bottom
      `quantile_fraction` of the running trials continues from the model of one in the top
      fraction, with that trial's hyperparameters perturbed (numbers times 0.8 or 1.2 within
      their domain, choices moved to a neighbouring value, or resampled with
      `resample_probability`). xgboost and lightgbm only (a trial resumes from its saved
      booster); search random or grid. The population is the trials running at once
      (`max_concurrent_trials`); n_estimators is inherited, never perturbed.
    """

    model_config = ConfigDict(extra="forbid")

    type: SchedulerName = "fifo"
    grace_period: int = Field(
        5, ge=1, description="rounds every trial runs before it can be stopped"
    )
    reduction_factor: float = Field(
        3, ge=2, le=10, description="asha, hyperband: 1/reduction_factor of trials go on"
    )
    max_t: int | None = Field(
        None,
        ge=1,
        description="asha, hyperband: rounds of the longest trial; default: the most rounds the "
        "search space allows (n_estimators at its upper bound)",
    )
    brackets: int = Field(3, ge=1, le=10, description="hyperband: number of brackets")
    min_samples_required: int = Field(
        3, ge=1, description="median_stopping: trials needed before the median is used"
    )
    # pbt: Ray Tune's PopulationBasedTraining names and defaults, time in rounds.
    perturbation_interval: int = Field(
        5, ge=1, description="pbt: rounds between a trial's exploit/explore steps"
    )
    burn_in_period: int = Field(
        0, ge=0, description="pbt: rounds before a trial is first considered for perturbation"
    )
    quantile_fraction: float = Field(
        0.25,
        ge=0,
        le=0.5,
        description="pbt: the bottom fraction of trials clones the top fraction (0: no exploit)",
    )
    synch: bool = Field(
        True,
        description="pbt: synchronous PBT (Jaderberg et al., appendix A.1): trials wait for "
        "each other at every perturbation step. Ray's default is asynchronous (false); here "
        "true, as with fewer free CPUs than trials the asynchronous version can resume the "
        "same trial from the same checkpoint again and again while the trial it clones waits",
    )
    resample_probability: float = Field(
        0.25,
        ge=0,
        le=1,
        description="pbt: chance a perturbed hyperparameter is resampled from its domain "
        "instead of multiplied by 0.8 or 1.2 (or moved to a neighbouring choice)",
    )


class SearchSettings(BaseModel):
    """The search of a sweep: space, searcher, scheduler, objective and budgets."""

    model_config = ConfigDict(extra="forbid")

    search_space: dict[str, ParameterSpace] | None = Field(
        None,
        description="hyperparameter name → domain, checked against the algorithm's catalog; "
        "default: the algorithm's default space (GET /api/v1/tuning/spaces)",
    )
    search: SearchAlgorithmName = Field(
        "random",
        description="grid: every combination of `grid`/`choice` values; random: independent "
        "samples; tpe: Optuna's Tree-structured Parzen Estimator; gp: Optuna's Gaussian-process "
        "sampler (Bayesian optimisation)",
    )
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    metric: TuningMetric | None = Field(
        None,
        description="what the sweep optimises, measured each round on a validation split carved "
        "from the training split (never the test split): log_loss (classification, the "
        "default), auc_roc (binary classification with xgboost, lightgbm or neural_network), "
        "rmse (regression, the default); forecasting: rmse (the default), mae or mape (as a "
        "share), measured once on the last `horizon` periods of the training part",
    )
    mode: Literal["min", "max"] | None = Field(
        None, description="default: min for log_loss and rmse, max for auc_roc"
    )
    validation_size: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="share of the training split held out to score trials (stratified for a "
        "stratified split, the latest rows for a time split); forecasting: not used, the "
        "last `horizon` periods of the training part are",
    )
    num_samples: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="trials to run (grid: times the whole grid is repeated); default 10, grid 1",
    )
    max_concurrent_trials: int = Field(
        2,
        ge=1,
        le=MAX_CONCURRENT_TRIALS,
        description="trials running at once, each on `resources`",
    )
    time_budget_s: float | None = Field(
        None, gt=0, description="after this many seconds no trial starts and running ones stop"
    )
    random_state: int = Field(
        42,
        ge=0,
        le=2**32 - 1,
        description="seed of the searcher: the same sweep with the same seed picks the same "
        "trials. tpe and gp propose max_concurrent_trials trials at a time and learn from a "
        "batch once all of it ended, so the order trials end in does not change their picks; "
        "with max_concurrent_trials above 1 and an early-stopping scheduler, which trials "
        "stop early (and so the scores tpe/gp learn from) depends on timing, so their later "
        "picks can differ",
    )


class TuningConfig(SearchSettings, TrainingConfig):
    """A sweep: the training configuration of `POST /api/v1/training/submit` (its
    `hyperparameters` are the fixed values of everything not searched) plus the search."""


class BaseModelVersion(BaseModel):
    """A registered model version, as the registry names it."""

    model_config = ConfigDict(extra="forbid")

    model_name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    version: str = Field(pattern=r"^[1-9][0-9]{0,8}$", examples=["3"])


class TuningFromBase(SearchSettings):
    """A sweep that starts from the configuration of an earlier training job — given by its id,
    or by a registered model version made by one — plus the search. The base's dataset, target,
    features, split, resources and algorithm are kept; its hyperparameters stay fixed except
    those searched; `hyperparameters` here fixes more (or other values) on top."""

    base_job_id: str | None = Field(
        None, description="a training job of this tenant (train-…), in any status"
    )
    base_model: BaseModelVersion | None = Field(
        None, description="a registered version made by a training job of this tenant"
    )
    name: Name | None = Field(
        None, min_length=1, max_length=200, description="default: <the base job's name>-sweep"
    )
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict,
        description="fixed values on top of the base's (a searched name is not fixed)",
    )

    @model_validator(mode="after")
    def _one_base(self) -> "TuningFromBase":
        if (self.base_job_id is None) == (self.base_model is None):
            raise ValueError("give exactly one of base_job_id and base_model")
        return self


class SweepBase(BaseModel):
    """Where a sweep's training configuration came from."""

    job_id: str = Field(description="the training job whose configuration the sweep started from")
    model_name: str | None = Field(None, description="when started from a registered version")
    version: str | None = None


class Perturbation(BaseModel):
    """A pbt exploit: the trial dropped its model and continued from another trial's, with that
    trial's hyperparameters perturbed."""

    round: int = Field(description="the trial's round when it was exploited")
    cloned_trial_id: str = Field(description="the trial whose model it continued from")
    cloned_round: int | None = Field(description="the round of the cloned model")
    params: dict[str, Any] = Field(description="the hyperparameters it continued with")


class TrialRow(BaseModel):
    """One trial of the trials table."""

    trial_id: str
    status: TrialStatus
    params: dict[str, Any] = Field(
        description="the sampled hyperparameters; pbt: those the trial ended with (see "
        "perturbations)"
    )
    metrics: dict[str, float] = Field(
        description="latest validation metrics; a completed trial has the full set "
        "(classification: log_loss, auc_roc, accuracy, f1_score…; regression: rmse, mae, r2…)"
    )
    rounds: int = Field(description="rounds (boosting rounds, forest steps) the trial ran")
    duration_seconds: float | None
    error: str | None = None
    perturbations: list[Perturbation] = Field(
        default_factory=list,
        description="pbt: each exploit, in order; the rounds after one continue from the cloned "
        "model's round, so the trial's history can repeat or skip rounds",
    )


class TrialHistory(BaseModel):
    trial_id: str
    rounds: list[int]
    values: list[float] = Field(description="the sweep's metric at each round")


class TuningProgress(BaseModel):
    trials_total: int = Field(description="num_samples (grid: the grid's size times num_samples)")
    trials_started: int
    trials_running: int
    trials_completed: int
    trials_stopped_early: int
    trials_failed: int
    best_trial: TrialRow | None = Field(
        description="by the sweep's metric and mode, among the trials that ran every round "
        "(a trial stopped early is scored at the round it was cut, not as the configuration "
        "train-best trains); when none did, among the trials that ran the most rounds; never a "
        "failed trial"
    )
    elapsed_seconds: float
    time_left_seconds: float | None = Field(
        description="until time_budget_s or the tenant's duration limit, whichever comes first"
    )
    last_event: dict[str, Any] | None = Field(
        description="{trial_id, event: started | round | stopped_early | completed | failed, "
        "round?, value?}, or {event: max_concurrent_trials | trials_total, value} after a PATCH"
    )
    max_concurrent_trials: int | None = Field(
        None, description="trials allowed at once now (a PATCH changes it while running)"
    )


class TuningSweep(BaseModel):
    """A sweep job: while running, `progress` and the trials table so far; once ended, every
    trial with its metric history and the best trial."""

    sweep_id: str
    tenant_id: str
    name: str
    algorithm: str
    task_type: str
    search: SearchAlgorithmName
    scheduler: SchedulerName
    metric: TuningMetric
    mode: Literal["min", "max"]
    status: JobStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: TuningProgress | None
    trials: list[TrialRow]
    best_trial: TrialRow | None = Field(
        description="by the sweep's metric and mode, among the trials that ran every round "
        "(a trial stopped early is scored at the round it was cut, not as the configuration "
        "train-best trains); when none did, among the trials that ran the most rounds; never a "
        "failed trial"
    )
    histories: list[TrialHistory] | None = Field(
        None, description="once ended: each trial's metric by round (where early stopping cut it)"
    )
    error: str | None
    duration_seconds: float | None
    mlflow_run_id: str | None = Field(description="the parent run; one child run per trial")
    base: SweepBase | None = Field(
        None, description="the training job (or registered version) the sweep started from"
    )


class RegisterBest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$",
        description="the registered model the trained version joins (created if new)",
    )


class TrainBestRequest(BaseModel):
    """Train a sweep's best (or a chosen) trial's configuration as a normal training job: the
    full training split, evaluated on the untouched test split."""

    model_config = ConfigDict(extra="forbid")

    trial_id: str | None = Field(None, description="default: the sweep's best trial")
    name: Name | None = Field(
        None, min_length=1, max_length=200, description="the job's name; default <sweep>-best"
    )
    # `register` on the wire; the attribute has another name, as BaseModel has a `register`.
    registration: RegisterBest | None = Field(
        None,
        alias="register",
        description="also register the model as a version (tags: sweep_id, trial_id, "
        "hyperparameters), ready to deploy",
    )


class DefaultSpace(BaseModel):
    algorithm: str
    search_space: dict[str, ParameterSpace]


class SweepChartList(BaseModel):
    """The charts of a completed sweep, in display order: optimisation_history,
    parallel_coordinates, parameter_importance (when at least two trials ran to the end and a
    hyperparameter took two values), learning_curves (when trials report rounds)."""

    sweep_id: str
    charts: list[ChartInfo]


class SweepUpdate(BaseModel):
    """A change to a running sweep."""

    model_config = ConfigDict(extra="forbid")

    max_concurrent_trials: int | None = Field(
        None, ge=1, le=MAX_CONCURRENT_TRIALS, description="trials running at once from now on"
    )
    num_samples: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="trials to run in all (grid: passes of the grid), from Tune's next step: "
        "raised, the same searcher proposes more; lowered, no trial starts once that many "
        "started and the sweep ends when they end; not below the trials already started (422)",
    )
