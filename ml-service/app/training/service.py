"""Training jobs: submission under the tenant quota, execution on Ray, cancellation."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import RayTaskError

from app.datasets.warehouse import WarehouseManager
from app.errors import ConflictError, InvalidFieldError, NotFoundError, QuotaExceededError
from app.jobs.store import (
    ACTIVE_STATUSES,
    JobRecord,
    JobStatus,
    JobStore,
    NewJob,
    TenantQuotaExceededError,
)
from app.tracking.lineage import code_version, content_hash
from app.tracking.mlflow_setup import Tracking
from app.training.algorithms import ALGORITHMS
from app.training.driver import DriverOutcome, DriverRequest, JobDriver
from app.training.features import TrainingData, TrainingDataError, prepare_training_data
from app.training.forecasting import ForecastData, prepare_forecast_data
from app.training.limits import (
    GB,
    TrainingTimeLimitError,
    check_dataset_size,
    check_resources,
    effective_limits,
)
from app.training.progress import TrainingProgressActor, remove_placement_groups
from app.training.schemas import AlgorithmInfo, TrainingConfig, TrainingEvent, TrainingJob
from app.training.validation import check_against_schema, check_algorithm

logger = logging.getLogger(__name__)

RESTART_ERROR = "the ML Service restarted while the job was running; submit it again"
SHUTDOWN_ERROR = "the ML Service shut down while the job was running; submit it again"
PROGRESS_POLL_SECONDS = 1.0
# How often an event stream looks at the job, and how long it may stay silent (a comment line
# keeps proxies and the AI Service's idle check from closing a stream of a slow job).
EVENTS_POLL_SECONDS = 0.5
EVENTS_HEARTBEAT_SECONDS = 15.0
# How long cancelling waits for Ray to confirm the job driver is gone.
CANCEL_WAIT_SECONDS = 30.0
MAX_ERROR_LENGTH = 500


@dataclass
class _ActiveJob:
    task: asyncio.Task
    driver: Any = None  # JobDriver actor handle
    outcome: "asyncio.Future[DriverOutcome] | None" = None
    progress: Any = field(default=None)


def _one_sentence(error: BaseException) -> str:
    if isinstance(error, RayTaskError) and error.cause is not None:
        error = error.cause
    if isinstance(error, InvalidFieldError | TrainingDataError | TrainingTimeLimitError):
        text = str(error)
    else:
        first_line = next((line for line in str(error).splitlines() if line.strip()), "")
        text = f"training failed: {type(error).__name__}: {first_line.strip()}".rstrip(": ")
    return text[:MAX_ERROR_LENGTH]


def _reported_progress(progress: dict[str, Any] | None) -> tuple | None:
    if not progress:
        return None
    return (progress.get("iteration"), progress.get("total_iterations"), progress.get("metrics"))


def job_response(record: JobRecord) -> TrainingJob:
    result = record.result or {}
    return TrainingJob(
        job_id=record.job_id,
        tenant_id=record.tenant_id,
        name=record.name,
        algorithm=record.algorithm,
        task_type=record.task_type,  # type: ignore[arg-type]
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
    )


class TrainingService:
    def __init__(
        self,
        store: JobStore,
        warehouses: WarehouseManager,
        tracking: Tracking,
        ray_results_dir: str,
        default_max_concurrent_jobs: int,
    ) -> None:
        self._store = store
        self._warehouses = warehouses
        self._tracking = tracking
        self._ray_results_dir = ray_results_dir
        self._default_max_concurrent_jobs = default_max_concurrent_jobs
        self._active: dict[str, _ActiveJob] = {}

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
        self, tenant_id: str, config: TrainingConfig, idempotency_key: str | None
    ) -> tuple[JobRecord, bool]:
        """The job and whether it was created by this call (False: an idempotent repeat)."""
        algorithm, hyperparameters = check_algorithm(config, tenant_id)
        if idempotency_key is not None:
            existing = await asyncio.to_thread(
                self._store.find_by_idempotency_key, tenant_id, idempotency_key
            )
            if existing is not None:
                return existing, False
        limits = effective_limits(config.limits, self._default_max_concurrent_jobs)
        # Totals of the whole cluster, not what is free now: a busy cluster only delays a job,
        # a request larger than the cluster would stay pending in Ray for ever.
        cluster = await asyncio.to_thread(ray.cluster_resources)
        check_resources(config.resources, limits, cluster)
        schema = await asyncio.to_thread(
            self._warehouses.describe, tenant_id, config.dataset, "dataset"
        )
        resolved = await asyncio.to_thread(
            check_against_schema,
            config,
            tenant_id,
            algorithm,
            hyperparameters,
            schema,
            self._warehouses,
        )
        types = {column.name: column.type for column in schema.columns}
        # What the job will load: a forecast reads the time column, a model its features.
        time_columns = [config.time_column] if config.time_column else []
        loaded = [*resolved.feature_columns, *time_columns, config.target_column]
        estimated_bytes = await asyncio.to_thread(
            self._warehouses.estimate_bytes,
            tenant_id,
            config.dataset,
            "dataset",
            [(name, types[name]) for name in loaded],
        )
        check_dataset_size(estimated_bytes, limits)
        new_job = NewJob(
            name=config.name,
            algorithm=algorithm.name,
            task_type=config.task_type,
            config={
                "request": config.model_dump(mode="json"),
                "feature_columns": resolved.feature_columns,
                "categorical_columns": resolved.categorical_columns,
                "hyperparameters": resolved.hyperparameters,
            },
        )
        limit = limits.max_concurrent_jobs
        try:
            record, created = await asyncio.to_thread(
                self._store.submit, tenant_id, idempotency_key, new_job, limit
            )
        except TenantQuotaExceededError:
            raise QuotaExceededError(
                f"tenant {tenant_id} already has {limit} active training jobs "
                f"(limit ML_MAX_TRAINING_JOBS={limit}); wait for one to finish or cancel one"
            ) from None
        if created:
            logger.info("training job %s queued for tenant %s", record.job_id, tenant_id)
            task = asyncio.create_task(self._run(record), name=record.job_id)
            self._active[record.job_id] = _ActiveJob(task=task)
        return record, created

    async def get(self, tenant_id: str, job_id: str) -> JobRecord:
        record = await asyncio.to_thread(self._store.get, tenant_id, job_id)
        if record is None:
            raise NotFoundError(f"training job {job_id} does not exist")
        return record

    async def events(self, record: JobRecord) -> AsyncIterator[TrainingEvent | None]:
        """The job's events from its current state to its end: a `status` event per status
        change, a `progress` event per new snapshot, then one `end` event with the final job.
        None means "nothing new for a while" (the router writes a keep-alive comment)."""
        last_status: JobStatus | None = None
        last_progress: tuple | None = None
        quiet_since = time.monotonic()
        while True:
            pending: list[str] = []
            # A new iteration or new metrics, not merely a later elapsed_seconds (which changes
            # with every poll of the job's progress).
            reported = _reported_progress(record.progress)
            if reported is not None and reported != last_progress:
                last_progress = reported
                pending.append("progress")
            if record.status != last_status:
                # The stream opens with the status; later, the last progress precedes the end.
                pending.insert(0 if last_status is None else len(pending), "status")
                last_status = record.status
            for kind in pending:
                yield self._event(kind, record)
                quiet_since = time.monotonic()
            if record.status not in ACTIVE_STATUSES:
                yield self._event("end", record)
                return
            if time.monotonic() - quiet_since >= EVENTS_HEARTBEAT_SECONDS:
                yield None
                quiet_since = time.monotonic()
            await asyncio.sleep(EVENTS_POLL_SECONDS)
            current = await asyncio.to_thread(self._store.get, record.tenant_id, record.job_id)
            if current is None:
                return
            record = current

    @staticmethod
    def _event(kind: str, record: JobRecord) -> TrainingEvent:
        job = job_response(record)
        return TrainingEvent(
            type=kind,  # type: ignore[arg-type]
            job_id=job.job_id,
            status=job.status,
            progress=job.progress,
            job=job if kind == "end" else None,
        )

    async def list_jobs(
        self, tenant_id: str, status: JobStatus | None, limit: int
    ) -> list[JobRecord]:
        return await asyncio.to_thread(self._store.list_jobs, tenant_id, status, limit)

    async def cancel(self, tenant_id: str, job_id: str) -> JobRecord:
        if not await asyncio.to_thread(self._store.cancel, tenant_id, job_id):
            record = await self.get(tenant_id, job_id)
            raise ConflictError(f"training job {job_id} already ended with status {record.status}")
        await self._stop(job_id)
        logger.info("training job %s cancelled", job_id)
        return await self.get(tenant_id, job_id)

    async def shutdown(self) -> None:
        """Fail and stop every job this process is running (before Ray goes away)."""
        for job_id in list(self._active):
            await asyncio.to_thread(self._store.fail, job_id, SHUTDOWN_ERROR)
        await asyncio.gather(*(self._stop(job_id) for job_id in list(self._active)))

    async def _stop(self, job_id: str) -> None:
        active = self._active.get(job_id)
        if active is None:
            return
        active.task.cancel()
        await asyncio.wait({active.task}, timeout=CANCEL_WAIT_SECONDS)

    async def _run(self, record: JobRecord) -> None:
        job_id = record.job_id
        started = time.monotonic()
        try:
            if not await asyncio.to_thread(self._store.mark_running, job_id):
                return
            outcome, summary, progress = await self._train(record, started)
            result = {
                "job_id": job_id,
                "status": "completed",
                "metrics": outcome.metrics,
                "feature_importance": outcome.feature_importance,
                "model_artifact_id": outcome.model_artifact_id,
                "forecast": outcome.forecast,
                "training_duration_seconds": round(time.monotonic() - started, 3),
                "data_summary": summary,
            }
            await asyncio.to_thread(self._store.complete, job_id, result, progress)
            logger.info("training job %s completed", job_id)
        except asyncio.CancelledError:
            await self._stop_driver(job_id)
            run_id = await self._run_id(record)
            if run_id is not None:
                await asyncio.to_thread(self._tracking.end_run, run_id, "KILLED")
            raise
        except Exception as error:
            if isinstance(error, TrainingTimeLimitError):
                logger.warning("training job %s: %s", job_id, error)
            else:
                logger.warning("training job %s failed", job_id, exc_info=error)
            # The driver goes first: it must not log to (and finish) the run being failed.
            await self._stop_driver(job_id)
            await asyncio.to_thread(self._store.fail, job_id, _one_sentence(error))
            run_id = await self._run_id(record)
            if run_id is not None:
                await asyncio.to_thread(self._tracking.end_run, run_id, "FAILED")
        finally:
            await self._stop_driver(job_id)
            active = self._active.pop(job_id, None)
            if active is not None and active.progress is not None:
                ray.kill(active.progress)

    async def _run_id(self, record: JobRecord) -> str | None:
        current = await asyncio.to_thread(self._store.get, record.tenant_id, record.job_id)
        return current.mlflow_run_id if current else None

    async def _stop_driver(self, job_id: str) -> None:
        """Kill the job's driver process and, with it, the Train actors it owns."""
        active = self._active.get(job_id)
        if active is None or active.driver is None:
            return
        driver, active.driver = active.driver, None
        ray.kill(driver, no_restart=True)
        if active.outcome is None:
            return
        done, _ = await asyncio.wait({active.outcome}, timeout=CANCEL_WAIT_SECONDS)
        for finished in done:
            if not finished.cancelled():
                finished.exception()  # read so asyncio does not warn about a killed driver
        if not done:
            logger.warning("job driver of %s did not stop within %ss", job_id, CANCEL_WAIT_SECONDS)
        if active.progress is not None:
            # The killed driver's Train run cannot free its placement group itself.
            groups = await active.progress.placement_groups.remote()
            await asyncio.to_thread(remove_placement_groups, groups)

    async def _train(
        self, record: JobRecord, started: float
    ) -> tuple[DriverOutcome, dict[str, int], dict[str, Any]]:
        job_id = record.job_id
        stored = record.config
        config = TrainingConfig.model_validate(stored["request"])
        features: list[str] = stored["feature_columns"]
        hyperparameters: dict[str, Any] = stored["hyperparameters"]
        algorithm = ALGORITHMS[record.algorithm]
        limits = effective_limits(config.limits, self._default_max_concurrent_jobs)
        forecasting = config.task_type == "forecasting"
        # A forecast reads the time column and the target; a model, the features and the target.
        columns = [config.time_column or ""] if forecasting else features
        frame = await asyncio.to_thread(
            self._warehouses.load_frame,
            record.tenant_id,
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
                features,
                stored["categorical_columns"],
                config.split.strategy,
                config.split.test_size,
                config.split.random_state,
            )
        run_id = await asyncio.to_thread(
            self._tracking.start_run, record.tenant_id, job_id, record.name, record.algorithm
        )
        await asyncio.to_thread(self._store.set_mlflow_run_id, job_id, run_id)

        active = self._active[job_id]
        total = algorithm.total_iterations(hyperparameters)
        active.progress = TrainingProgressActor.remote(total)
        active.driver = JobDriver.options(name=f"job-driver-{job_id}").remote()
        driver_result = active.driver.run.remote(
            DriverRequest(
                job_id=job_id,
                algorithm=algorithm.name,
                data=data,
                hyperparameters=hyperparameters,
                random_state=config.split.random_state,
                storage_path=self._ray_results_dir,
                tracking_uri=self._tracking.tracking_uri,
                mlflow_run_id=run_id,
                logged_params={
                    "dataset_query": config.dataset.query or "",
                    "dataset_table": config.dataset.table or "",
                    "dataset_hash": frame_hash,
                    "dataset_rows": len(frame),
                    "target_column": config.target_column,
                    "feature_columns": ",".join(features),
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
                        }
                    ),
                },
                config=stored,
                run_tags={"code_version": await asyncio.to_thread(code_version)},
                progress=active.progress,
                cpus=config.resources.cpus,
                memory_bytes=(
                    int(config.resources.memory_gb * GB)
                    if config.resources.memory_gb is not None
                    else None
                ),
                gpus=config.resources.gpus,
            )
        )
        active.outcome = asyncio.wrap_future(driver_result.future())
        progress: dict[str, Any] = {}
        while True:
            done, _ = await asyncio.wait({active.outcome}, timeout=PROGRESS_POLL_SECONDS)
            snapshot = await active.progress.snapshot.remote()
            progress = snapshot | {"elapsed_seconds": round(time.monotonic() - started, 3)}
            await asyncio.to_thread(self._store.set_progress, job_id, progress)
            if done:
                break
            elapsed = time.monotonic() - started
            if elapsed > limits.max_training_duration_seconds:
                raise TrainingTimeLimitError(elapsed, limits.max_training_duration_seconds)
        # Forecasting counts periods of the series (after summing rows per period).
        summary = {
            "total_samples": data.total_samples,
            "train_samples": len(data.train),
            "test_samples": len(data.test),
        }
        return active.outcome.result(), summary, progress
