"""One runner for every kind of long task: queue → run → progress → time limit → cancel →
restart recovery, with a small handler per kind.

A new kind of job (tuning sweep, profile, feature materialisation...) is one `JobHandler`
subclass registered with the runner in `app.main`:

    class ProfileHandler(JobHandler):
        kind = "profile"            # the `kind` column; also what the generic API shows
        id_prefix = "profile"       # job ids read `profile-<12 hex>`
        uses_compute = True         # counts against the tenant's MLS_MAX_TRAINING_JOBS quota

        async def run(self, job: JobRecord, context: JobContext) -> JobOutcome:
            ...                                 # job.spec is what the service submitted
            await context.report_progress({"rows_done": 10, "rows_total": 100})
            return JobOutcome(result={"profile": ...})

and its service calls `runner.submit(...)`, `runner.get(...)`, `runner.cancel(...)`,
`runner.watch(...)`. The runner does the rest, the same for every kind:

- **Quota and idempotency** in one SQLite transaction (`JobStore.submit`): every queued or
  running job that uses compute counts, whatever its kind.
- **Running**: each job is an asyncio task of this process; the handler's `run` does the work
  (on Ray, or in a worker thread) and returns the result. Any exception fails the job with a
  one-sentence `error`; the handler's `readable_errors` are shown as they are, anything else as
  `<label> failed: <Type>: <first line>`.
- **Progress**: `context.report_progress` stores the snapshot (SQLite is the durable record)
  and pushes it, in-process, to every open `watch` of the job at once; nothing polls.
- **Time limit**: `handler.time_limit(job)`; past it the handler's task is cancelled (its
  `finally`/`except CancelledError` releases what it holds) and the job fails naming the limit.
- **Cancel**: the row becomes `cancelled` first (so a late result can never overwrite it), then
  the task is cancelled and awaited.
- **MLflow**: runs the handler announced with `context.set_mlflow_run_id` are ended `FAILED` or
  `KILLED` when the job fails or is cancelled.
- **Restart recovery**: at start-up, before any submission, `JobStore.fail_all_active(
  RESTART_ERROR)` fails every job a previous process left queued
  or running, with `RESTART_ERROR`; such a job never stays active and counts in no quota.
"""

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ray.exceptions import RayTaskError

from app.errors import (
    ConflictError,
    InvalidFieldError,
    NotFoundError,
    QuotaExceededError,
    without_server_paths,
)
from app.jobs.store import (
    IdempotencyKeyReusedError,
    JobRecord,
    JobStatus,
    JobStore,
    NewJob,
    TenantQuotaExceededError,
    check_same_request,
    request_hash,
)

logger = logging.getLogger(__name__)

RESTART_ERROR = "the ML Service restarted while the job was running; submit it again"
SHUTDOWN_ERROR = "the ML Service shut down while the job was running; submit it again"
# How long cancelling (or shutting down) waits for a job's task to release what it holds.
CANCEL_WAIT_SECONDS = 30.0
MAX_ERROR_LENGTH = 500
# A watch re-reads the store when nothing was pushed for this long (a job whose task is not in
# this process), and writes a keep-alive when it stayed silent for the longer one (so proxies and
# the AI Service's idle check keep the stream of a slow job open).
WATCH_REREAD_SECONDS = 2.0
WATCH_HEARTBEAT_SECONDS = 15.0

EventType = Literal["status", "progress", "end"]


@dataclass(frozen=True)
class TimeLimit:
    """A job's maximum running time; `name` completes "over the tenant's …" in its error."""

    seconds: float
    name: str


@dataclass(frozen=True)
class JobOutcome:
    """What a finished handler returns: the stored `result`, and the final progress snapshot
    (None keeps the last one reported)."""

    result: dict[str, Any]
    progress: dict[str, Any] | None = None


class JobTimeLimitError(Exception):
    def __init__(self, elapsed_seconds: float, limit: TimeLimit) -> None:
        super().__init__(f"stopped after {elapsed_seconds:.0f} s: over the tenant's {limit.name}")


class JobContext:
    """What a handler gets besides the job: progress reporting, its MLflow runs, its deadline."""

    def __init__(self, runner: "JobRunner", job: JobRecord, started: float) -> None:
        self._runner = runner
        self._job = job
        self._loop = asyncio.get_running_loop()
        self.started = started  # time.monotonic() when the job became running

    @property
    def elapsed_seconds(self) -> float:
        return round(time.monotonic() - self.started, 3)

    async def report_progress(self, progress: dict[str, Any]) -> None:
        """Store the job's latest progress and push it to every watcher."""
        if await asyncio.to_thread(self._runner.store.set_progress, self._job.job_id, progress):
            await self._runner.publish(self._job)

    def report_progress_threadsafe(self, progress: dict[str, Any]) -> None:
        """`report_progress` for a handler's worker thread; returns once it is stored."""
        asyncio.run_coroutine_threadsafe(self.report_progress(progress), self._loop).result()

    async def set_mlflow_run_id(self, run_id: str) -> None:
        """Record an MLflow run of the job: shown on the job, ended with it if it fails."""
        await asyncio.to_thread(self._runner.store.add_mlflow_run_id, self._job.job_id, run_id)


class JobHandler(ABC):
    """One kind of job. Subclasses set the class attributes and implement `run`."""

    kind: ClassVar[str]
    id_prefix: ClassVar[str]
    uses_compute: ClassVar[bool] = True
    # How errors read: "<label> failed: ..." ("training", "batch prediction").
    label: ClassVar[str]
    # Exceptions whose message is written for the user and shown as it is.
    readable_errors: ClassVar[tuple[type[BaseException], ...]] = ()

    def time_limit(self, job: JobRecord) -> TimeLimit | None:
        """The job's maximum running time; None: no limit."""
        return None

    @abstractmethod
    async def run(self, job: JobRecord, context: JobContext) -> JobOutcome:
        """Do the job. Cancelled (asyncio) on cancel, time limit and shutdown: release what the
        job holds on Ray before re-raising."""


@dataclass
class _Running:
    task: asyncio.Task
    watchers: set[asyncio.Queue] = field(default_factory=set)


def _key_reused(error: IdempotencyKeyReusedError) -> InvalidFieldError:
    return InvalidFieldError(
        "Idempotency-Key",
        f"this key was used for job {error.job_id} with a different request body; "
        "use a new key for a new request",
    )


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        handlers: list[JobHandler],
        end_mlflow_run: Callable[[str, str], None],
    ) -> None:
        """`end_mlflow_run(run_id, status)` ends a run `FAILED` or `KILLED` (Tracking.end_run)."""
        self.store = store
        self._handlers = {handler.kind: handler for handler in handlers}
        self._end_mlflow_run = end_mlflow_run
        self._running: dict[str, _Running] = {}
        self._watchers: dict[str, set[asyncio.Queue]] = {}

    def handler(self, kind: str) -> JobHandler:
        return self._handlers[kind]

    def of_kind(self, kind: str) -> "JobsOfKind":
        """This runner scoped to one kind of job (see `JobsOfKind`)."""
        return JobsOfKind(self, kind)

    async def submit(
        self,
        tenant_id: str,
        kind: str,
        name: str,
        spec: dict[str, Any],
        idempotency_key: str | None,
        max_active_jobs: int,
        request: dict[str, Any] | None = None,
    ) -> tuple[JobRecord, bool]:
        """Queue a job and start it; with a known idempotency key, the existing job (False).
        429 (QuotaExceededError) when the tenant's active jobs that use compute are at
        `max_active_jobs` (MLS_MAX_TRAINING_JOBS or MLS_TENANT_LIMITS). `request` is the body as
        validated (`model_dump(mode="json")`): a known key with another body is a 422 naming
        `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header, "the request body
        differs")."""
        handler = self._handlers[kind]
        new_job = NewJob(
            kind,
            handler.id_prefix,
            name,
            spec,
            handler.uses_compute,
            request_hash(request) if request is not None else None,
        )
        try:
            record, created = await asyncio.to_thread(
                self.store.submit, tenant_id, idempotency_key, new_job, max_active_jobs
            )
        except IdempotencyKeyReusedError as error:
            raise _key_reused(error) from None
        except TenantQuotaExceededError:
            raise QuotaExceededError(
                f"tenant {tenant_id} already has {max_active_jobs} active jobs "
                f"({self._compute_kinds()}; its max_concurrent_jobs, from "
                "MLS_MAX_TRAINING_JOBS or MLS_TENANT_LIMITS); wait for one to finish or cancel one"
            ) from None
        if created:
            logger.info("%s job %s queued for tenant %s", kind, record.job_id, tenant_id)
            task = asyncio.create_task(self._run(handler, record), name=record.job_id)
            self._running[record.job_id] = _Running(task)
        return record, created

    def _compute_kinds(self) -> str:
        """The labels of the kinds the quota counts, for its 429 message."""
        return ", ".join(h.label for h in self._handlers.values() if h.uses_compute)

    async def replay(
        self, tenant_id: str, kind: str, idempotency_key: str, request: dict[str, Any]
    ) -> JobRecord | None:
        """The tenant's job of this kind with this key, or None; 422 naming `Idempotency-Key`
        when it was submitted with another body. Lets a kind skip its checks for a replay."""
        existing = await asyncio.to_thread(
            self.store.find_by_idempotency_key, tenant_id, kind, idempotency_key
        )
        if existing is not None:
            try:
                check_same_request(existing, request_hash(request))
            except IdempotencyKeyReusedError as error:
                raise _key_reused(error) from None
        return existing

    async def find(self, tenant_id: str, job_id: str, kind: str | None = None) -> JobRecord | None:
        return await asyncio.to_thread(self.store.get, tenant_id, job_id, kind)

    async def get(self, tenant_id: str, job_id: str, kind: str | None = None) -> JobRecord:
        """The tenant's job (of `kind`, if given); 404 otherwise."""
        record = await self.find(tenant_id, job_id, kind)
        if record is None:
            what = f"{self._handlers[kind].label} job" if kind else "job"
            raise NotFoundError(f"{what} {job_id} does not exist")
        return record

    async def list_jobs(
        self, tenant_id: str, kind: str, status: JobStatus | None, limit: int
    ) -> list[JobRecord]:
        return await asyncio.to_thread(self.store.list_jobs, tenant_id, kind, status, limit)

    async def cancel(self, tenant_id: str, job_id: str, kind: str | None = None) -> JobRecord:
        """Cancel a queued or running job and wait until it released its resources; 404 when
        unknown, 409 when it already ended."""
        record = await self.get(tenant_id, job_id, kind)
        if not await asyncio.to_thread(self.store.cancel, tenant_id, job_id):
            record = await self.get(tenant_id, job_id, kind)
            label = self._handlers[record.kind].label
            raise ConflictError(f"{label} job {job_id} already ended with status {record.status}")
        await self._stop(job_id)
        await self.publish(record)
        logger.info("%s job %s cancelled", record.kind, job_id)
        return await self.get(tenant_id, job_id, kind)

    async def shutdown(self) -> None:
        """Fail and stop every job this process is running (before Ray goes away)."""
        for job_id in list(self._running):
            await asyncio.to_thread(self.store.fail, job_id, SHUTDOWN_ERROR)
        await asyncio.gather(*(self._stop(job_id) for job_id in list(self._running)))

    async def publish(self, job: JobRecord) -> None:
        """Push the job's current row to every watcher of it (after any change)."""
        watchers = self._watchers.get(job.job_id)
        if not watchers:
            return
        current = await self.find(job.tenant_id, job.job_id)
        if current is not None:
            for queue in watchers:
                queue.put_nowait(current)

    async def watch(self, record: JobRecord) -> AsyncIterator[tuple[EventType, JobRecord] | None]:
        """The job's events from its current state to its end: `status` per status change,
        `progress` per new snapshot, then one `end` with the final job. None means "nothing
        new for a while" (write a keep-alive)."""
        queue: asyncio.Queue[JobRecord] = asyncio.Queue()
        self._watchers.setdefault(record.job_id, set()).add(queue)
        try:
            # Read after subscribing, so no change between the two is missed.
            record = await self.find(record.tenant_id, record.job_id) or record
            last_status: JobStatus | None = None
            last_progress: dict[str, Any] | None = None
            quiet_since = time.monotonic()
            while True:
                pending: list[EventType] = []
                # A new report, not merely a later elapsed time.
                progress = _without_clock(record.progress)
                if progress and progress != last_progress:
                    last_progress = progress
                    pending.append("progress")
                if record.status != last_status:
                    # The stream opens with the status; later, the last progress precedes it.
                    pending.insert(0 if last_status is None else len(pending), "status")
                    last_status = record.status
                for event in pending:
                    yield event, record
                    quiet_since = time.monotonic()
                if not record.active:
                    yield "end", record
                    return
                if time.monotonic() - quiet_since >= WATCH_HEARTBEAT_SECONDS:
                    yield None
                    quiet_since = time.monotonic()
                try:
                    record = await asyncio.wait_for(queue.get(), WATCH_REREAD_SECONDS)
                    while not queue.empty():  # a slow reader gets the latest row, not a backlog
                        record = queue.get_nowait()
                except TimeoutError:
                    current = await self.find(record.tenant_id, record.job_id)
                    if current is None:
                        return
                    record = current
        finally:
            watchers = self._watchers.get(record.job_id)
            if watchers is not None:
                watchers.discard(queue)
                if not watchers:
                    del self._watchers[record.job_id]

    async def _stop(self, job_id: str) -> None:
        running = self._running.get(job_id)
        if running is None:
            return
        running.task.cancel()
        await asyncio.wait({running.task}, timeout=CANCEL_WAIT_SECONDS)

    async def _run(self, handler: JobHandler, record: JobRecord) -> None:
        job_id = record.job_id
        started = time.monotonic()
        limit = handler.time_limit(record)
        try:
            if not await asyncio.to_thread(self.store.mark_running, job_id):
                return
            await self.publish(record)
            context = JobContext(self, record, started)
            try:
                async with asyncio.timeout(limit.seconds if limit else None) as scope:
                    outcome = await handler.run(record, context)
            except TimeoutError:
                if limit is not None and scope.expired():
                    raise JobTimeLimitError(time.monotonic() - started, limit) from None
                raise
            await asyncio.to_thread(self.store.complete, job_id, outcome.result, outcome.progress)
            logger.info("%s job %s completed", handler.kind, job_id)
        except asyncio.CancelledError:
            await self._end_runs(record, "KILLED")
            raise
        except Exception as error:
            if isinstance(error, (JobTimeLimitError, *handler.readable_errors)):
                logger.warning("%s job %s: %s", handler.kind, job_id, error)
            else:
                logger.warning("%s job %s failed", handler.kind, job_id, exc_info=error)
            # The run first: once the job reads failed, its MLflow run does too.
            await self._end_runs(record, "FAILED")
            await asyncio.to_thread(self.store.fail, job_id, _one_sentence(handler, error))
        finally:
            self._running.pop(job_id, None)
            await self.publish(record)

    async def _end_runs(self, record: JobRecord, status: str) -> None:
        current = await self.find(record.tenant_id, record.job_id)
        for run_id in current.mlflow_run_ids if current else []:
            await asyncio.to_thread(self._end_mlflow_run, run_id, status)


def _without_clock(progress: dict[str, Any] | None) -> dict[str, Any] | None:
    if not progress:
        return None
    return {key: value for key, value in progress.items() if key != "elapsed_seconds"}


def _one_sentence(handler: JobHandler, error: BaseException) -> str:
    if isinstance(error, RayTaskError) and error.cause is not None:
        error = error.cause
    if isinstance(error, (JobTimeLimitError, *handler.readable_errors)):
        text = str(error)
    else:
        first_line = next((line for line in str(error).splitlines() if line.strip()), "")
        text = f"{handler.label} failed: {type(error).__name__}: {first_line.strip()}".rstrip(": ")
    # the job's error is shown to its caller: library messages name files of this server
    return without_server_paths(text)[:MAX_ERROR_LENGTH]


class JobsOfKind:
    """The runner as one concern sees it: every call scoped to that concern's kind, so another
    kind's id reads as missing (404 naming the concern's label). A concern's service holds one
    as `self.jobs = runner.of_kind(KIND)` and its router reads, lists and cancels through it."""

    def __init__(self, runner: JobRunner, kind: str) -> None:
        self._runner = runner
        self.kind = kind

    async def replay(
        self, tenant_id: str, idempotency_key: str, request: dict[str, Any]
    ) -> JobRecord | None:
        """`JobRunner.replay` for this kind."""
        return await self._runner.replay(tenant_id, self.kind, idempotency_key, request)

    async def submit(
        self,
        tenant_id: str,
        name: str,
        spec: dict[str, Any],
        idempotency_key: str | None,
        max_active_jobs: int,
        request: dict[str, Any],
    ) -> tuple[JobRecord, bool]:
        """`JobRunner.submit` for this kind: the job and whether this call created it."""
        return await self._runner.submit(
            tenant_id, self.kind, name, spec, idempotency_key, max_active_jobs, request
        )

    async def get(self, tenant_id: str, job_id: str) -> JobRecord:
        """The tenant's job of this kind; 404 otherwise."""
        return await self._runner.get(tenant_id, job_id, self.kind)

    async def list(self, tenant_id: str, status: JobStatus | None, limit: int) -> list[JobRecord]:
        """The tenant's jobs of this kind, newest first, at most `limit`."""
        return await self._runner.list_jobs(tenant_id, self.kind, status, limit)

    async def cancel(self, tenant_id: str, job_id: str) -> JobRecord:
        """`JobRunner.cancel` for this kind: 404 when unknown, 409 when already ended."""
        return await self._runner.cancel(tenant_id, job_id, self.kind)
