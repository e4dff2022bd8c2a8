"""Training jobs: submission rules, and the `training` kind of job on the shared runner.

`TrainingService` checks a submission (algorithm, schema, resources, dataset size) and hands it
to `app.jobs.runner.JobRunner`, which owns the quota, idempotency, cancel, time limit, progress
events and restart recovery. `TrainingHandler.run` is what a training job does once running:
load and split the data, open the MLflow run and train in a job driver on Ray.
"""

import asyncio
import json
import logging
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayTaskError
from ray.train.v2.api.exceptions import WorkerGroupError

from app.datasets.warehouse import WarehouseManager
from app.errors import InvalidFieldError
from app.features.schemas import FEATURE_SET_TAG, FEATURE_SET_VERSION_TAG
from app.jobs.progress import JobProgress, ProgressHub, remove_placement_groups
from app.jobs.runner import JobContext, JobHandler, JobOutcome, JobRunner, TimeLimit
from app.jobs.store import JobRecord
from app.tracking.lineage import code_version, content_hash
from app.tracking.mlflow_setup import Tracking
from app.training.algorithms import ALGORITHMS
from app.training.algorithms.base import Algorithm
from app.training.driver import DriverOutcome, DriverRequest, JobDriver
from app.training.features import TrainingData, TrainingDataError, prepare_training_data
from app.training.forecasting import ForecastData, prepare_forecast_data
from app.training.limits import GB, LimitsFor, check_dataset_size, check_resources
from app.training.schemas import (
    AlgorithmInfo,
    FeatureSetRef,
    TrainingConfig,
    TrainingEvent,
    TrainingJob,
)
from app.training.validation import validate_config
from app.training.warm import WarmPool

logger = logging.getLogger(__name__)

KIND = "training"
# How long the service waits for the job driver to confirm it is gone.
DRIVER_STOP_SECONDS = 30.0
# A progress long-poll returns after this long without a report, to notice the job's end.
PROGRESS_WAIT_SECONDS = 1.0


def _time_columns(config: TrainingConfig, features: list[str]) -> list[str]:
    """The column that orders the rows, loaded besides the features: a forecast's time_column,
    or a time split's (unless it is a feature already)."""
    if config.time_column:
        return [config.time_column]
    time_column = config.split.time_column
    if time_column and time_column not in features:
        return [time_column]
    return []


def job_response(record: JobRecord) -> TrainingJob:
    result = record.result or {}
    return TrainingJob(
        job_id=record.job_id,
        tenant_id=record.tenant_id,
        name=record.name,
        algorithm=record.spec["algorithm"],
        task_type=record.spec["task_type"],
        status=record.status,
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        # Jobs stored before the estimate existed have none.
        progress=(  # type: ignore[arg-type]
            {"estimated_remaining_seconds": None} | record.progress if record.progress else None
        ),
        error=record.error,
        metrics=result.get("metrics"),
        feature_importance=result.get("feature_importance"),
        model_artifact_id=result.get("model_artifact_id"),
        forecast=result.get("forecast"),
        training_duration_seconds=result.get("training_duration_seconds"),
        data_summary=result.get("data_summary"),
        mlflow_run_id=record.mlflow_run_id,
        tuned_by=record.spec.get("tuned_by"),
        feature_set=record.spec.get("feature_set"),
        registered_version=result.get("registered_version"),
    )


def on_warm_worker(algorithm: Algorithm, config: TrainingConfig) -> bool:
    """Single-worker CPU jobs of algorithms that can fit in process run on a warm worker; GPU
    jobs, multi-worker jobs and `scaling.ray_train` keep the job driver and Ray Train."""
    return (
        algorithm.fits_in_process
        and config.scaling.num_workers == 1
        and not config.scaling.ray_train
        and config.resources.gpus == 0
    )


def check_scaling(config: TrainingConfig, algorithm: Algorithm, cluster: dict[str, float]) -> None:
    """422 naming `scaling.num_workers` when the algorithm cannot train data-parallel, or the
    workers' CPUs together exceed the whole cluster (they would wait in Ray's queue for ever)."""
    workers = config.scaling.num_workers
    if workers == 1:
        return
    if not algorithm.data_parallel:
        raise InvalidFieldError(
            "scaling.num_workers",
            f"{algorithm.name} trains on one worker; data-parallel training (num_workers > 1) "
            "is offered for xgboost, lightgbm and neural_network",
        )
    cpus = workers * config.resources.cpus
    if cpus > cluster.get("CPU", 0.0):
        raise InvalidFieldError(
            "scaling.num_workers",
            f"{workers} workers of {config.resources.cpus} CPU need {cpus} CPUs, but the "
            f"cluster has {cluster.get('CPU', 0.0):g}; the job could never start",
        )


def worker_cause(error: BaseException) -> BaseException:
    """The exception a training worker raised, under Ray's wrappers (a task error, Ray Train's
    `WorkerGroupError: Training failed due to worker errors`), so the job's error names it."""
    while True:
        if isinstance(error, RayTaskError) and error.cause is not None:
            error = error.cause
        elif isinstance(error, WorkerGroupError) and error.worker_failures:
            error = next(iter(error.worker_failures.values()))
        else:
            return error


async def load_job_data(
    warehouses: WarehouseManager, job: JobRecord, config: TrainingConfig
) -> tuple[TrainingData | ForecastData, str, int]:
    """A training-shaped job's split data (its spec holds the resolved `feature_columns` and
    `categorical_columns`), the content hash of what was read and its row count."""
    stored = job.spec
    forecasting = config.task_type == "forecasting"
    # A forecast reads the time column and the target; a model, the features (and the column
    # ordering a time split) and the target.
    features = stored["feature_columns"]
    columns = [*features, *_time_columns(config, features)]
    frame = await warehouses.offload(
        warehouses.load_frame,
        job.tenant_id,
        config.dataset,
        "dataset",
        [*columns, config.target_column],
    )
    frame_hash = await asyncio.to_thread(content_hash, frame)
    data: TrainingData | ForecastData
    if forecasting:
        assert config.frequency is not None and config.horizon is not None
        data = await asyncio.to_thread(
            prepare_forecast_data,
            frame,
            config.time_column or "",
            config.target_column,
            config.frequency,
            config.horizon,
        )
    else:
        data = await asyncio.to_thread(
            prepare_training_data,
            frame,
            config.task_type,
            config.target_column,
            stored["feature_columns"],
            stored["categorical_columns"],
            config.split.strategy,
            config.split.test_size,
            config.split.random_state,
            config.split.time_column,
        )
    return data, frame_hash, len(frame)


def feature_set_tags(spec: dict[str, Any]) -> dict[str, str]:
    """Run tags naming the feature set version a job trained on (none for other datasets)."""
    if "feature_set" not in spec:
        return {}
    return {
        FEATURE_SET_TAG: spec["feature_set"]["name"],
        FEATURE_SET_VERSION_TAG: str(spec["feature_set"]["version"]),
    }


def _lineage_tags(spec: dict[str, Any]) -> dict[str, str]:
    """Version tags of a registered train-best model: the sweep, the trial and its parameters."""
    tags = dict(spec.get("tuned_by", {}))
    tags["hyperparameters"] = json.dumps(spec["hyperparameters"], sort_keys=True)
    return tags


class TrainingService:
    def __init__(
        self, runner: JobRunner, warehouses: WarehouseManager, limits_for: LimitsFor
    ) -> None:
        self._runner = runner
        self.jobs = runner.of_kind(KIND)
        self._warehouses = warehouses
        self._limits_for = limits_for

    @staticmethod
    def catalog() -> list[AlgorithmInfo]:
        return [
            AlgorithmInfo(
                name=algorithm.name,
                task_types=list(algorithm.task_types),
                framework=algorithm.framework,
                hyperparameters=[spec.info() for spec in algorithm.hyperparameters],
            )
            for algorithm in ALGORITHMS.values()
        ]

    async def submit(
        self,
        tenant_id: str,
        config: TrainingConfig,
        idempotency_key: str | None,
        tuned_by: dict[str, str] | None = None,
        register: dict[str, str] | None = None,
        feature_set: FeatureSetRef | None = None,
    ) -> tuple[JobRecord, bool]:
        """The job and whether it was created by this call (False: an idempotent repeat).
        `tuned_by` ({sweep_id, trial_id}) is tagged on the run; `register` ({model_name,
        actor}) registers the model as a version of that model once trained; `feature_set`
        (the version a `feature_set` dataset was built from, feature_sets.resolve_dataset) is
        kept with the job and tagged on its run."""
        request = config.model_dump(mode="json")
        if idempotency_key is not None:
            existing = await self.jobs.replay(tenant_id, idempotency_key, request)
            if existing is not None:
                return existing, False
        limits = self._limits_for(tenant_id)
        # Totals of the whole cluster, not what is free now: a busy cluster only delays a job,
        # a request larger than the cluster would stay pending in Ray for ever.
        cluster = await asyncio.to_thread(ray.cluster_resources)
        check_resources(config.resources, limits, cluster)
        validated = await asyncio.to_thread(validate_config, config, tenant_id, self._warehouses)
        resolved, schema = validated.resolved, validated.schema
        algorithm = resolved.algorithm
        check_scaling(config, algorithm, cluster)
        types = {column.name: column.type for column in schema.columns}
        # What the job will load: a forecast reads the time column, a model its features.
        features = resolved.feature_columns
        loaded = [*features, *_time_columns(config, features), config.target_column]
        estimated_bytes = await self._warehouses.offload(
            self._warehouses.estimate_bytes,
            tenant_id,
            config.dataset,
            "dataset",
            [(name, types[name]) for name in loaded],
        )
        check_dataset_size(estimated_bytes, limits)
        spec = {
            "algorithm": algorithm.name,
            "task_type": config.task_type,
            "request": request,
            "feature_columns": resolved.feature_columns,
            "categorical_columns": resolved.categorical_columns,
            "hyperparameters": resolved.hyperparameters,
            **({"tuned_by": tuned_by} if tuned_by else {}),
            **({"register": register} if register else {}),
            **({"feature_set": feature_set.model_dump()} if feature_set else {}),
        }
        return await self.jobs.submit(
            tenant_id,
            config.name,
            spec,
            idempotency_key,
            limits.max_concurrent_jobs,
            request,
        )

    async def events(self, record: JobRecord) -> AsyncIterator[TrainingEvent | None]:
        """The job's events from its current state to its end (`JobRunner.watch`), in the
        training API's shape; None means "nothing new for a while"."""
        async for event in self._runner.watch(record):
            if event is None:
                yield None
                continue
            kind, current = event
            job = job_response(current)
            yield TrainingEvent(
                type=kind,
                job_id=job.job_id,
                status=job.status,
                progress=job.progress,
                job=job if kind == "end" else None,
            )


class TrainingHandler(JobHandler):
    """A training job: load and split the data, open the MLflow run, train in a job driver (a
    Ray actor that owns the job's Ray Train run) and evaluate. Killing the driver releases
    everything the job holds on Ray."""

    kind = KIND
    id_prefix = "train"
    uses_compute = True
    label = "training"
    readable_errors = (InvalidFieldError, TrainingDataError)

    def __init__(
        self,
        warehouses: WarehouseManager,
        tracking: Tracking,
        ray_results_dir: str,
        limits_for: LimitsFor,
        warm: WarmPool,
        register: Callable[[str, str, str, dict[str, str], str], dict[str, str]],
    ) -> None:
        """`register(tenant_id, model_name, run_id, tags, actor)` registers a run's model as a
        version and returns {model_name, version} (RegistryService.register)."""
        self._register = register
        self._warehouses = warehouses
        self._tracking = tracking
        self._ray_results_dir = ray_results_dir
        self._limits_for = limits_for
        self._warm = warm
        self._hub: Any = None  # the ProgressHub actor, started with the first job

    def time_limit(self, job: JobRecord) -> TimeLimit:
        # The configuration when the job starts running (a restart may have changed it).
        seconds = self._limits_for(job.tenant_id).max_training_duration_seconds
        return TimeLimit(
            seconds, f"maximum training duration (MLS_MAX_TRAINING_DURATION={seconds})"
        )

    async def run(self, job: JobRecord, context: JobContext) -> JobOutcome:
        driver = None
        progress = None
        outcome: asyncio.Future | None = None
        try:
            stored = job.spec
            # Jobs queued before limits left the request body still carry theirs; the
            # configuration's apply now.
            request = {key: value for key, value in stored["request"].items() if key != "limits"}
            config = TrainingConfig.model_validate(request)
            data, frame_hash, rows = await load_job_data(self._warehouses, job, config)
            run_id = await asyncio.to_thread(
                self._tracking.start_run, job.tenant_id, job.job_id, job.name, stored["algorithm"]
            )
            await context.set_mlflow_run_id(run_id)
            algorithm = ALGORITHMS[stored["algorithm"]]
            if self._hub is None:
                self._hub = ProgressHub.remote()
            progress = JobProgress(self._hub, job.job_id)
            await self._hub.open.remote(
                job.job_id, algorithm.total_iterations(stored["hyperparameters"])
            )
            # A train-best job's run names the sweep and trial it comes from.
            tags = (
                {"code_version": await asyncio.to_thread(code_version)}
                | stored.get("tuned_by", {})
                | feature_set_tags(stored)
            )
            request = self._driver_request(
                job, config, data, run_id, frame_hash, rows, tags, progress
            )
            if on_warm_worker(algorithm, config):
                outcome = asyncio.ensure_future(self._warm.run(request))
            else:
                driver = JobDriver.options(name=f"job-driver-{job.job_id}").remote()
                outcome = asyncio.wrap_future(driver.run.remote(request).future())
            snapshot = await self._follow(progress, outcome, context)
            try:
                result: DriverOutcome = outcome.result()
            except Exception as error:
                raise worker_cause(error) from error
            registered = None
            if "register" in stored:
                registered = await asyncio.to_thread(
                    self._register,
                    job.tenant_id,
                    stored["register"]["model_name"],
                    run_id,
                    _lineage_tags(stored),
                    stored["register"]["actor"],
                )
            # Forecasting counts periods of the series (after summing rows per period).
            summary = {
                "total_samples": data.total_samples,
                "train_samples": len(data.train),
                "test_samples": len(data.test),
            }
            return JobOutcome(
                result={
                    "job_id": job.job_id,
                    "status": "completed",
                    "metrics": result.metrics,
                    "feature_importance": result.feature_importance,
                    "model_artifact_id": result.model_artifact_id,
                    "forecast": result.forecast,
                    "training_duration_seconds": context.elapsed_seconds,
                    "data_summary": summary,
                    **({"registered_version": registered} if registered else {}),
                },
                progress=snapshot,
            )
        finally:
            # Cancelled, failed or done: the worker goes first (it must not log to, and finish,
            # a run being failed); a driver takes the Train actors it owns with it.
            if driver is not None:
                await asyncio.shield(self._stop_driver(job.job_id, driver, outcome, progress))
                # Ray Train's run folder (its checkpoints and result files) is never read again:
                # the model is in MLflow, and a restarted job fails rather than resumes.
                shutil.rmtree(Path(self._ray_results_dir) / job.job_id, ignore_errors=True)
            elif outcome is not None and not outcome.done():
                outcome.cancel()  # the warm pool kills the worker that runs it
                await asyncio.shield(asyncio.wait({outcome}, timeout=DRIVER_STOP_SECONDS))
            if progress is not None:
                self._hub.close.remote(job.job_id)

    @staticmethod
    async def _follow(
        progress: Any, outcome: asyncio.Future, context: JobContext
    ) -> dict[str, Any]:
        """Pass each progress report on as it comes (a long-poll on the progress actor) until
        the driver returns; the final snapshot."""
        version = 0
        snapshot: dict[str, Any] = {}
        while True:
            poll = asyncio.ensure_future(
                progress.next_snapshot.remote(version, PROGRESS_WAIT_SECONDS)
            )
            try:
                await asyncio.wait({outcome, poll}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                poll.cancel()
                raise
            if outcome.done():
                poll.cancel()
                final = await progress.snapshot.remote()
                return final | {"elapsed_seconds": context.elapsed_seconds}
            new_version, snapshot = poll.result()
            if new_version != version:
                version = new_version
                await context.report_progress(
                    snapshot | {"elapsed_seconds": context.elapsed_seconds}
                )

    async def _stop_driver(
        self, job_id: str, driver: Any, outcome: asyncio.Future | None, progress: Any
    ) -> None:
        """Kill the job's driver process and, with it, the Train actors it owns."""
        ray.kill(driver, no_restart=True)
        if outcome is None:
            return
        done, _ = await asyncio.wait({outcome}, timeout=DRIVER_STOP_SECONDS)
        for finished in done:
            if not finished.cancelled():
                finished.exception()  # read so asyncio does not warn about a killed driver
        if not done:
            logger.warning("job driver of %s did not stop within %ss", job_id, DRIVER_STOP_SECONDS)
        if progress is not None:
            # A killed driver's Train run cannot free its placement group itself.
            groups = await progress.placement_groups.remote()
            await asyncio.to_thread(remove_placement_groups, groups)

    def _driver_request(
        self,
        job: JobRecord,
        config: TrainingConfig,
        data: TrainingData | ForecastData,
        run_id: str,
        frame_hash: str,
        rows: int,
        run_tags: dict[str, str],
        progress: Any,
    ) -> DriverRequest:
        stored = job.spec
        forecasting = config.task_type == "forecasting"
        return DriverRequest(
            job_id=job.job_id,
            algorithm=stored["algorithm"],
            data=data,
            hyperparameters=stored["hyperparameters"],
            random_state=config.split.random_state,
            storage_path=self._ray_results_dir,
            tracking_uri=self._tracking.tracking_uri,
            mlflow_run_id=run_id,
            logged_params={
                "dataset_query": config.dataset.query or "",
                "dataset_table": config.dataset.table or "",
                "dataset_hash": frame_hash,
                "dataset_rows": rows,
                "target_column": config.target_column,
                "feature_columns": ",".join(stored["feature_columns"]),
                "random_state": config.split.random_state,
                **(
                    {
                        "time_column": config.time_column,
                        "horizon": config.horizon,
                        "frequency": config.frequency,
                        "split_strategy": "time",
                    }
                    if forecasting
                    else {
                        "split_strategy": config.split.strategy,
                        "test_size": config.split.test_size,
                        **(
                            {"split_time_column": config.split.time_column}
                            if config.split.time_column
                            else {}
                        ),
                    }
                ),
            },
            config=stored,
            run_tags=run_tags,
            progress=progress,
            cpus=config.resources.cpus,
            memory_bytes=(
                int(config.resources.memory_gb * GB)
                if config.resources.memory_gb is not None
                else None
            ),
            gpus=config.resources.gpus,
            num_workers=config.scaling.num_workers,
        )
