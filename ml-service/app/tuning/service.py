"""Tuning sweeps: submission rules, and the `tuning` kind of job on the shared runner.

`TuningService` checks a sweep (the training rules of `validate_config`, then the search space
against the algorithm's catalog, the searcher, scheduler and metric) and hands it to
`app.jobs.runner.JobRunner`: quota (a sweep counts as one active job), idempotency, cancel,
duration limit, progress events and restart recovery are the runner's. `TuningHandler.run` loads
and splits the data as a training job does, carves the validation rows out of the training
split and runs the trials on Ray Tune (`app.tuning.sweep`).
"""

import asyncio
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import ray
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
from pydantic import ValidationError
from ray import tune

from app.charts.core import CHART_NAME, MEDIA_TYPES, PNG, chart_title, render_png
from app.datasets.warehouse import WarehouseManager
from app.errors import (
    BadRequestError,
    ConflictError,
    FieldError,
    InvalidFieldError,
    InvalidFieldsError,
    NotFoundError,
)
from app.jobs.runner import JobContext, JobHandler, JobOutcome, JobRunner, TimeLimit
from app.jobs.store import JobRecord
from app.registry.service import RegistryService
from app.tracking.mlflow_setup import Tracking
from app.training.features import TrainingData, TrainingDataError
from app.training.forecasting import ForecastData
from app.training.limits import LimitsFor, check_dataset_size, check_resources
from app.training.schemas import ChartInfo, TrainingConfig
from app.training.service import TrainingService, load_job_data
from app.training.validation import validate_config
from app.tuning.charts import sweep_charts
from app.tuning.pbt import PBT_ALGORITHMS, perturbed
from app.tuning.schemas import (
    DefaultSpace,
    ParameterSpace,
    SweepChartList,
    SweepUpdate,
    TrainBestRequest,
    TuningConfig,
    TuningFromBase,
    TuningSweep,
)
from app.tuning.spaces import DEFAULT_SPACES, check_space, tunable
from app.tuning.sweep import (
    MAX_NUM_SAMPLES,
    LiveSweeps,
    StopFlag,
    SweepTracker,
    TooFewTrialsError,
    TrialBudget,
    default_metric,
    max_rounds,
    metric_mode,
    param_space,
    scheduler,
    searcher,
    total_trials,
)
from app.tuning.trial import carve_tail, carve_validation, sweep_trainable

logger = logging.getLogger(__name__)

KIND = "tuning"
# How long a stopped sweep waits for Tune to stop its trials and return.
STOP_WAIT_SECONDS = 30.0
# Metrics each task can optimise: measured every round by every tunable algorithm, so any
# scheduler can use them (auc_roc: binary classification by the algorithms of ROUND_AUC only);
# a forecaster's trial is scored once, on the held-out tail of the training part.
TASK_METRICS = {
    "classification": {"log_loss", "auc_roc"},
    "regression": {"rmse"},
    "forecasting": {"rmse", "mae", "mape"},
}
ROUND_AUC = {"xgboost", "lightgbm", "neural_network"}


def _fields(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidFieldsError(errors)


def check_search(config: TuningConfig, space: dict[str, ParameterSpace], rounds: int) -> None:
    """422 listing every field of the search that cannot work with this algorithm and task."""
    errors: list[FieldError] = []
    for name, domain in space.items():
        field = f"search_space.{name}"
        if config.search == "grid" and domain.type not in {"grid", "choice"}:
            errors.append(
                FieldError(field=field, message="a grid search takes grid or choice values only")
            )
        if config.search != "grid" and domain.type == "grid":
            errors.append(
                FieldError(
                    field=field,
                    message=f"grid values need search grid; a {config.search} search samples "
                    "from choice, uniform, loguniform, randint or their q variants",
                )
            )
        if name in config.hyperparameters:
            errors.append(
                FieldError(
                    field=field,
                    message=f"{name} is also fixed in hyperparameters; give it in one of them",
                )
            )
    metric = config.metric or default_metric(config.task_type)
    allowed = TASK_METRICS.get(config.task_type, set())
    if metric not in allowed:
        errors.append(
            FieldError(
                field="metric",
                message=f"{config.task_type} sweeps optimise {', '.join(sorted(allowed))}",
            )
        )
    elif metric == "auc_roc" and config.algorithm not in ROUND_AUC:
        errors.append(
            FieldError(
                field="metric",
                message=f"auc_roc is measured each round by {', '.join(sorted(ROUND_AUC))} "
                "only; use log_loss",
            )
        )
    if config.mode is not None and config.mode != metric_mode(metric):
        errors.append(
            FieldError(
                field="mode",
                message=f"{metric} is better when "
                f"{'higher' if metric_mode(metric) == 'max' else 'lower'}; "
                f"mode must be {metric_mode(metric)}",
            )
        )
    if config.scheduler.type != "fifo" and rounds <= 1:
        errors.append(
            FieldError(
                field="scheduler.type",
                message=f"{config.algorithm} fits in one step, so there is no round to stop a "
                "trial at; use fifo",
            )
        )
    elif config.scheduler.type == "pbt":
        errors += pbt_problems(config, space, rounds)
    scaling = config.scaling
    if scaling.num_workers > 1 or scaling.ray_train or config.resources.gpus > 0:
        errors.append(
            FieldError(
                field="scaling",
                message="trials fit in process on one worker with CPUs only; leave num_workers, "
                "ray_train and resources.gpus at their defaults",
            )
        )
    _fields(errors)


def pbt_problems(
    config: TuningConfig, space: dict[str, ParameterSpace], rounds: int
) -> list[FieldError]:
    """Why pbt cannot run this sweep: a trial that cannot resume from a checkpoint with new
    hyperparameters, a searcher that proposes trials itself (Ray's PBT refuses every searcher
    but the variant generator: it samples and mutates the configurations itself), nothing to
    perturb, or no round to perturb at before the end."""
    errors: list[FieldError] = []
    if config.algorithm not in PBT_ALGORITHMS:
        errors.append(
            FieldError(
                field="scheduler.type",
                message=f"pbt continues a trial from another trial's checkpoint with new "
                f"hyperparameters; a {config.algorithm} trial cannot be resumed that way "
                f"(offered for {', '.join(sorted(PBT_ALGORITHMS))})",
            )
        )
        return errors
    if config.search not in {"random", "grid"}:
        errors.append(
            FieldError(
                field="search",
                message=f"pbt chooses and perturbs the configurations itself; Ray Tune runs it "
                f"with random or grid starting points, not with {config.search}",
            )
        )
    if not perturbed(space):
        errors.append(
            FieldError(
                field="search_space",
                message="pbt perturbs the searched hyperparameters other than n_estimators; "
                "search at least one (e.g. learning_rate)",
            )
        )
    if config.scheduler.perturbation_interval >= rounds:
        errors.append(
            FieldError(
                field="scheduler.perturbation_interval",
                message=f"trials run {rounds} rounds; perturb more often than that",
            )
        )
    return errors


def sweep_response(record: JobRecord) -> TuningSweep:
    """The sweep in the API's shape: the trials table from the result once ended, from the
    latest progress while running."""
    stored = record.spec
    config = TuningConfig.model_validate(stored["request"])
    result = record.result or {}
    progress = record.progress
    trials = result.get("trials") or (progress or {}).get("trials") or []
    return TuningSweep(
        sweep_id=record.job_id,
        tenant_id=record.tenant_id,
        name=record.name,
        algorithm=stored["algorithm"],
        task_type=stored["task_type"],
        search=config.search,
        scheduler=config.scheduler.type,
        metric=stored["metric"],
        mode=stored["mode"],
        status=record.status,
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        progress=progress,  # type: ignore[arg-type]
        trials=trials,
        best_trial=result.get("best_trial") or (progress or {}).get("best_trial"),
        histories=result.get("histories"),
        error=record.error,
        duration_seconds=result.get("duration_seconds"),
        mlflow_run_id=record.mlflow_run_id,
        base=stored.get("base"),
    )


def best_training_config(record: JobRecord, params: dict[str, Any], name: str) -> TrainingConfig:
    """The sweep's training configuration with a trial's parameters fixed."""
    request = {
        key: value
        for key, value in record.spec["request"].items()
        if key in TrainingConfig.model_fields
    }
    request["hyperparameters"] = {**request.get("hyperparameters", {}), **params}
    request["name"] = name
    return TrainingConfig.model_validate(request)


class TuningService:
    def __init__(
        self,
        runner: JobRunner,
        warehouses: WarehouseManager,
        limits_for: LimitsFor,
        training: TrainingService,
        registry: RegistryService,
        live: LiveSweeps,
    ) -> None:
        self._training = training
        self._registry = registry
        self._live = live
        self.jobs = runner.of_kind(KIND)
        self._warehouses = warehouses
        self._limits_for = limits_for

    @staticmethod
    def default_spaces() -> list[DefaultSpace]:
        return [
            DefaultSpace(algorithm=name, search_space=space)
            for name, space in DEFAULT_SPACES.items()
        ]

    async def submit_from_base(
        self, tenant_id: str, body: TuningFromBase, idempotency_key: str | None
    ) -> tuple[JobRecord, bool]:
        """A sweep of an earlier training job's configuration (or the one that made a registered
        version): 422 naming base_job_id or base_model when there is none for this tenant."""
        field = "base_job_id" if body.base_job_id is not None else "base_model"
        base: dict[str, str]
        if body.base_model is not None:
            name, number = body.base_model.model_name, body.base_model.version
            try:
                version = await asyncio.to_thread(
                    self._registry.get_version, tenant_id, name, number
                )
            except NotFoundError as error:
                # "model … does not exist" or "model … has no version …"
                raise InvalidFieldError(field, error.detail) from None
            if version.job_id is None:
                raise InvalidFieldError(
                    field,
                    f"version {number} of {name} was registered from a run, not a training "
                    "job, so no training configuration is stored for it; give the "
                    "configuration (POST /api/v1/tuning)",
                )
            base = {"job_id": version.job_id, "model_name": name, "version": number}
        else:
            assert body.base_job_id is not None
            base = {"job_id": body.base_job_id}
        try:
            job = await self._training.jobs.get(tenant_id, base["job_id"])
        except NotFoundError:
            raise InvalidFieldError(
                field, f"training job {base['job_id']} does not exist"
            ) from None
        request = {
            key: value
            for key, value in job.spec["request"].items()
            if key in TrainingConfig.model_fields
        }
        # The base's hyperparameters stay fixed except the ones this sweep searches.
        searched = set(body.search_space or DEFAULT_SPACES.get(job.spec["algorithm"], {}))
        fixed = {
            name: value
            for name, value in request.get("hyperparameters", {}).items()
            if name not in searched
        }
        request["hyperparameters"] = fixed | body.hyperparameters
        request["name"] = body.name or f"{job.name[:194]}-sweep"
        settings = body.model_dump(
            mode="json", exclude={"base_job_id", "base_model", "name", "hyperparameters"}
        )
        try:
            config = TuningConfig.model_validate(request | settings)
        except ValidationError as error:
            # A configuration stored by an older version of the service no longer validates.
            raise InvalidFieldError(
                field,
                f"the configuration of {base['job_id']} is not valid any more: "
                f"{error.errors()[0]['msg']}",
            ) from None
        return await self.submit(tenant_id, config, idempotency_key, base)

    async def submit(
        self,
        tenant_id: str,
        config: TuningConfig,
        idempotency_key: str | None,
        base: dict[str, str] | None = None,
    ) -> tuple[JobRecord, bool]:
        """The sweep's job and whether this call created it (False: an idempotent repeat);
        `base`: the training job (and registered version) its configuration came from."""
        request = config.model_dump(mode="json")
        if idempotency_key is not None:
            existing = await self.jobs.replay(tenant_id, idempotency_key, request)
            if existing is not None:
                return existing, False
        limits = self._limits_for(tenant_id)
        cluster = await asyncio.to_thread(ray.cluster_resources)
        check_resources(config.resources, limits, cluster)
        validated = await asyncio.to_thread(validate_config, config, tenant_id, self._warehouses)
        resolved, schema = validated.resolved, validated.schema
        algorithm = resolved.algorithm
        if not tunable(algorithm):
            offered = ", ".join(sorted(DEFAULT_SPACES))
            raise InvalidFieldError(
                "algorithm",
                f"{algorithm.name} cannot be tuned yet: trials fit in process, offered for "
                f"{offered}",
            )
        space = config.search_space or DEFAULT_SPACES[algorithm.name]
        check_space(algorithm, space)
        rounds = max_rounds(algorithm, config.hyperparameters, space)
        check_search(config, space, rounds)
        types = {column.name: column.type for column in schema.columns}
        loaded = [*resolved.feature_columns, config.target_column]
        # A forecast's time column, or the column of a time split.
        for time_column in (config.time_column, config.split.time_column):
            if time_column and time_column not in loaded:
                loaded.append(time_column)
        estimated_bytes = await self._warehouses.offload(
            self._warehouses.estimate_bytes,
            tenant_id,
            config.dataset,
            "dataset",
            [(name, types[name]) for name in loaded],
        )
        check_dataset_size(estimated_bytes, limits)
        metric = config.metric or default_metric(config.task_type)
        spec = {
            "algorithm": algorithm.name,
            "task_type": config.task_type,
            "request": request,
            "feature_columns": resolved.feature_columns,
            "categorical_columns": resolved.categorical_columns,
            "hyperparameters": resolved.hyperparameters,
            "search_space": {
                name: domain.model_dump(mode="json") for name, domain in space.items()
            },
            "metric": metric,
            "mode": metric_mode(metric),
            "trials_total": total_trials(config, space),
            "max_rounds": rounds,
            **({"base": base} if base else {}),
        }
        return await self.jobs.submit(
            tenant_id,
            config.name,
            spec,
            idempotency_key,
            limits.max_concurrent_jobs,
            request,
        )

    async def update(self, tenant_id: str, sweep_id: str, body: SweepUpdate) -> JobRecord:
        """Change a running sweep from Tune's next step: `max_concurrent_trials`, and
        `num_samples` (raised: more trials from the same searcher; lowered: no new trial starts
        once that many started, and the sweep ends when they end); 422 naming num_samples below
        the trials already started; 409 when the sweep's trials are not running (queued, still
        loading its data, or ended)."""
        record = await self.jobs.get(tenant_id, sweep_id)
        if body.max_concurrent_trials is None and body.num_samples is None:
            raise InvalidFieldsError(
                [
                    FieldError(field=name, message="give the value to change to")
                    for name in ("max_concurrent_trials", "num_samples")
                ]
            )
        if record.status != "running":
            raise self._not_live(record)
        if body.num_samples is not None:
            config = TuningConfig.model_validate(record.spec["request"])
            space = {
                name: ParameterSpace.model_validate(domain)
                for name, domain in record.spec["search_space"].items()
            }
            trials = total_trials(config, space, body.num_samples)
            try:
                # In a worker thread: the change is published as a progress event, which waits
                # for this event loop to store it.
                live = await asyncio.to_thread(self._live.set_trials, sweep_id, trials)
            except TooFewTrialsError as error:
                per_sample = trials // body.num_samples
                raise InvalidFieldError(
                    "num_samples",
                    f"{error.started} trials started already"
                    + (f" ({per_sample} per grid pass)" if config.search == "grid" else "")
                    + "; num_samples can go no lower than that",
                ) from None
            if not live:
                raise self._not_live(record)
        if body.max_concurrent_trials is not None and not await asyncio.to_thread(
            self._live.set_max_concurrent, sweep_id, body.max_concurrent_trials
        ):
            raise self._not_live(record)
        return await self.jobs.get(tenant_id, sweep_id)

    @staticmethod
    def _not_live(record: JobRecord) -> ConflictError:
        return ConflictError(
            f"tuning sweep {record.job_id} is {record.status} and its trials are not running "
            "(queued, loading its data, or ended); max_concurrent_trials and num_samples "
            "change a running sweep"
        )

    async def charts(self, tenant_id: str, sweep_id: str) -> SweepChartList:
        """The charts of a completed sweep: name, title and the media types each comes in;
        409 before it completed."""
        specs = await asyncio.to_thread(
            self._chart_specs, await self.jobs.get(tenant_id, sweep_id)
        )
        return SweepChartList(
            sweep_id=sweep_id,
            charts=[
                ChartInfo(name=name, title=chart_title(spec), media_types=MEDIA_TYPES)
                for name, spec in specs.items()
            ],
        )

    async def chart(self, tenant_id: str, sweep_id: str, name: str, media_type: str) -> bytes:
        """One chart of a completed sweep as a PNG or its Vega-Lite spec (JSON)."""
        if not CHART_NAME.fullmatch(name):
            raise BadRequestError(f"name must match {CHART_NAME.pattern}")
        record = await self.jobs.get(tenant_id, sweep_id)
        specs = await asyncio.to_thread(self._chart_specs, record)
        if name not in specs:
            raise NotFoundError(
                f"tuning sweep {sweep_id} has no chart named {name!r}; it has: "
                f"{', '.join(specs) or 'none'}"
            )
        if media_type == PNG:
            return await asyncio.to_thread(render_png, specs[name])
        return json.dumps(specs[name], separators=(",", ":")).encode()

    @staticmethod
    def _chart_specs(record: JobRecord) -> dict[str, dict]:
        """Built from the stored trials table and histories on each request (a sweep's result
        does not change once it completed)."""
        if record.status != "completed":
            raise ConflictError(
                f"tuning sweep {record.job_id} is {record.status}; charts exist once it completes"
            )
        sweep = sweep_response(record)
        space = {
            name: ParameterSpace.model_validate(domain)
            for name, domain in record.spec["search_space"].items()
        }
        return sweep_charts(
            sweep.trials,
            sweep.histories or [],
            space,
            sweep.metric,
            sweep.mode,
            TuningConfig.model_validate(record.spec["request"]).random_state,
        )

    async def train_best(
        self,
        tenant_id: str,
        sweep_id: str,
        body: TrainBestRequest,
        actor: str,
        idempotency_key: str | None,
    ) -> tuple[JobRecord, bool]:
        """A training job of the best (or the chosen) trial's configuration; 409 while the
        sweep has not completed or when no trial was scored, 422 for an unknown trial_id."""
        record = await self.jobs.get(tenant_id, sweep_id)
        if record.status != "completed":
            raise ConflictError(
                f"tuning sweep {sweep_id} is {record.status}; train-best needs a completed sweep"
            )
        result = record.result or {}
        trials = {trial["trial_id"]: trial for trial in result.get("trials", [])}
        if body.trial_id is not None:
            trial = trials.get(body.trial_id)
            if trial is None:
                raise InvalidFieldError(
                    "trial_id", f"sweep {sweep_id} has no trial {body.trial_id}"
                )
        else:
            trial = result.get("best_trial")
            if trial is None:
                raise ConflictError(f"tuning sweep {sweep_id} has no scored trial")
        config = best_training_config(record, trial["params"], body.name or f"{record.name}-best")
        return await self._training.submit(
            tenant_id,
            config,
            idempotency_key,
            tuned_by={"sweep_id": sweep_id, "trial_id": trial["trial_id"]},
            register=(
                {"model_name": body.registration.model_name, "actor": actor}
                if body.registration
                else None
            ),
        )


class TuningHandler(JobHandler):
    """A sweep: load and split the data, carve the validation rows, open the MLflow parent run,
    run the trials on Ray Tune, log one child run per trial."""

    kind = KIND
    id_prefix = "sweep"
    uses_compute = True
    label = "tuning sweep"
    readable_errors = (InvalidFieldError, TrainingDataError)

    def __init__(
        self,
        warehouses: WarehouseManager,
        tracking: Tracking,
        ray_results_dir: str,
        limits_for: LimitsFor,
        live: LiveSweeps,
    ) -> None:
        self._warehouses = warehouses
        self._tracking = tracking
        self._ray_results_dir = ray_results_dir
        self._limits_for = limits_for
        self._live = live

    def time_limit(self, job: JobRecord) -> TimeLimit:
        seconds = self._limits_for(job.tenant_id).max_training_duration_seconds
        return TimeLimit(
            seconds, f"maximum training duration (MLS_MAX_TRAINING_DURATION={seconds})"
        )

    async def run(self, job: JobRecord, context: JobContext) -> JobOutcome:
        stored = job.spec
        config = TuningConfig.model_validate(stored["request"])
        data, _, _ = await load_job_data(self._warehouses, job, config)
        scored: TrainingData | ForecastData
        if isinstance(data, ForecastData):
            scored = carve_tail(data)
        else:
            scored = await asyncio.to_thread(
                carve_validation,
                data,
                config.split.strategy,
                config.validation_size,
                config.split.random_state,
            )
        run_id = await asyncio.to_thread(
            self._tracking.start_run, job.tenant_id, job.job_id, job.name, stored["algorithm"]
        )
        await context.set_mlflow_run_id(run_id)
        limit = self.time_limit(job).seconds
        budget = min(limit, config.time_budget_s) if config.time_budget_s else limit
        tracker = SweepTracker(
            stored["metric"],
            stored["mode"],
            stored["trials_total"],
            context.started,
            context.started + budget,
            lambda snapshot: context.report_progress_threadsafe(snapshot),
        )
        stop = StopFlag()
        search = searcher(config, stored["trials_total"])
        tracker.max_concurrent_trials = config.max_concurrent_trials
        tuner = self._tuner(job, config, scored, tracker, stop, search)
        self._live.add(job.job_id, search, tracker)
        fitting = asyncio.ensure_future(asyncio.to_thread(tuner.fit))
        try:
            await asyncio.shield(fitting)
        except asyncio.CancelledError:
            # Cancel, duration limit or shutdown: Tune stops every trial at its next report.
            stop.event.set()
            await asyncio.wait({fitting}, timeout=STOP_WAIT_SECONDS)
            raise
        finally:
            self._live.remove(job.job_id)
            if fitting.done():
                # Tune's experiment folder (its state, each trial's result files, pbt's
                # checkpoints) is never read again: the trials are in the job's result and
                # MLflow, and a restarted sweep fails rather than resumes (the runner's rule).
                shutil.rmtree(Path(self._ray_results_dir) / job.job_id, ignore_errors=True)
        final = tracker.snapshot(None) | {"elapsed_seconds": context.elapsed_seconds}
        states = list(tracker.trials.values())
        if states and all(state.status == "failed" for state in states):
            raise TrainingDataError(f"every trial failed; the first: {states[0].error}")
        await asyncio.to_thread(self._log_trials, job, run_id, config, tracker)
        best = tracker.best()
        return JobOutcome(
            result={
                "trials": [state.row() for state in states],
                "histories": [
                    {
                        "trial_id": state.trial_id,
                        "rounds": state.history_rounds,
                        "values": state.history_values,
                    }
                    for state in states
                ],
                "best_trial": best.row() if best else None,
                "duration_seconds": context.elapsed_seconds,
            },
            progress=final,
        )

    def _tuner(
        self,
        job: JobRecord,
        config: TuningConfig,
        data: TrainingData | ForecastData,
        tracker: SweepTracker,
        stop: StopFlag,
        search: TrialBudget,
    ) -> tune.Tuner:
        stored = job.spec
        space = {
            name: ParameterSpace.model_validate(domain)
            for name, domain in stored["search_space"].items()
        }
        trainable = tune.with_resources(
            tune.with_parameters(
                sweep_trainable(job.job_id),
                data=data,
                algorithm_name=stored["algorithm"],
                fixed=config.hyperparameters,
                random_state=config.split.random_state,
                metric=stored["metric"],
                cpus=config.resources.cpus,
                checkpoint_every=(
                    config.scheduler.perturbation_interval
                    if config.scheduler.type == "pbt"
                    else 0
                ),
            ),
            {"cpu": config.resources.cpus},
        )
        return tune.Tuner(
            trainable,
            param_space=param_space(config, space),
            tune_config=tune.TuneConfig(
                metric=stored["metric"],
                mode=stored["mode"],
                search_alg=search,
                scheduler=scheduler(config.scheduler, stored["max_rounds"], space, tracker),
                # The searcher is built for the most trials a sweep may run; TrialBudget starts
                # the sweep's number of them (which a PATCH changes).
                num_samples=MAX_NUM_SAMPLES,
                # Held by the searcher (app.tuning.sweep.searcher), not by Tune.
                max_concurrent_trials=None,
                time_budget_s=config.time_budget_s,
                # A trial's actor (its process and imports) serves the next trial.
                reuse_actors=True,
            ),
            run_config=tune.RunConfig(
                name=job.job_id,
                storage_path=self._ray_results_dir,
                callbacks=[tracker],
                stop=stop,
                verbose=0,
            ),
        )

    def _log_trials(
        self, job: JobRecord, parent_run_id: str, config: TuningConfig, tracker: SweepTracker
    ) -> None:
        """The parent run gets the sweep's settings and best result; each trial a child run
        (params, its metric by round, final metrics, status)."""
        client = MlflowClient(tracking_uri=self._tracking.tracking_uri)
        experiment_id = self._tracking.experiment_id(job.tenant_id)
        now = int(time.time() * 1000)
        metric = tracker.metric
        for state in tracker.trials.values():
            child = client.create_run(
                experiment_id,
                run_name=state.trial_id,
                tags={
                    "mlflow.parentRunId": parent_run_id,
                    "tenant_id": job.tenant_id,
                    "job_id": job.job_id,
                    "sweep_id": job.job_id,
                    "trial_id": state.trial_id,
                    "trial_status": state.status,
                    "algorithm": job.spec["algorithm"],
                    # pbt: its params are the last configuration; this many exploits before.
                    **(
                        {"perturbations": str(len(state.perturbations))}
                        if state.perturbations
                        else {}
                    ),
                },
            )
            history = [
                Metric(f"{metric}_by_round", value, now, step)
                for step, value in zip(state.history_rounds, state.history_values, strict=True)
            ]
            final = [Metric(name, value, now, 0) for name, value in state.metrics.items()]
            params = [Param(name, str(value)) for name, value in state.params.items()]
            for start in range(0, max(len(history), 1), 1000):
                client.log_batch(
                    child.info.run_id,
                    metrics=history[start : start + 1000] + (final if start == 0 else []),
                    params=params if start == 0 else [],
                )
            status = {"completed": "FINISHED", "stopped_early": "KILLED"}.get(
                state.status, "FAILED"
            )
            client.set_terminated(child.info.run_id, status=status)
        best = tracker.best()
        client.log_batch(
            parent_run_id,
            metrics=[
                Metric(f"best_{name}", value, now, 0)
                for name, value in (best.metrics if best else {}).items()
            ],
            params=[
                Param("search", config.search),
                Param("scheduler", config.scheduler.type),
                Param("metric", metric),
                Param("mode", tracker.mode),
                Param("num_samples", str(tracker.trials_total)),
                Param("max_concurrent_trials", str(config.max_concurrent_trials)),
                Param("random_state", str(config.random_state)),
            ],
            tags=[RunTag("sweep_id", job.job_id)]
            + ([RunTag("best_trial_id", best.trial_id)] if best else []),
        )
        client.set_terminated(parent_run_id, status="FINISHED")
