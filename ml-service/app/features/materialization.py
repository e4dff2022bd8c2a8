"""Materialisation of a feature set version into the tenant's online store, as the
`feature_materialization` job kind of the job runner (quota, progress, cancel, failure with its
reason, restart recovery: app/jobs/runner.py)."""

import asyncio
import threading

from app.features.schemas import MaterializationRequest
from app.features.service import MATERIALIZATION_STAGES, FeatureSetService
from app.jobs.runner import JobContext, JobHandler, JobOutcome, JobRunner
from app.jobs.store import JobRecord
from app.training.limits import LimitsFor

MATERIALIZATION_KIND = "feature_materialization"


class MaterializationCancelledError(Exception):
    """The job was cancelled; raised between two stages."""


class MaterializationHandler(JobHandler):
    """Runs FeatureSetService.materialize in a thread (not on the warehouse's pool: most of it
    is waiting for Feast), a progress stage per step (export, windows, materialize). Feast's
    own call is not interruptible: a cancel stops the job at the next stage, and a cancelled
    job records no materialisation."""

    kind = MATERIALIZATION_KIND
    id_prefix = "materialize"
    uses_compute = True
    label = "materialisation"
    # It fails on the user's source (a changed column, a bad query) or Feast's answer about it.
    readable_errors = (Exception,)

    def __init__(self, features: FeatureSetService) -> None:
        self._features = features

    async def run(self, job: JobRecord, context: JobContext) -> JobOutcome:
        spec = job.spec
        request = MaterializationRequest.model_validate(spec["request"])
        stop = threading.Event()
        total = len(MATERIALIZATION_STAGES)

        def on_stage(name: str) -> None:
            if stop.is_set():
                raise MaterializationCancelledError(job.job_id)
            context.report_progress_threadsafe(
                {"stage": name, "stages_done": MATERIALIZATION_STAGES.index(name),
                 "stages_total": total}
            )  # fmt: skip

        work = asyncio.ensure_future(
            asyncio.to_thread(
                self._features.materialize,
                job.tenant_id,
                spec["feature_set"],
                spec["version"],
                request.mode,
                job.job_id,
                on_stage,
            )
        )
        try:
            # Shielded: on cancel the work stops at its next stage and is awaited first.
            done = await asyncio.shield(work)
        except asyncio.CancelledError:
            stop.set()
            await asyncio.wait({work})
            raise
        return JobOutcome(
            result=done.model_dump(mode="json"),
            progress={"stage": "done", "stages_done": total, "stages_total": total},
        )


class MaterializationJobs:
    """Submits `feature_materialization` jobs (MaterializationHandler runs them)."""

    def __init__(
        self, runner: JobRunner, features: FeatureSetService, limits_for: LimitsFor
    ) -> None:
        self.jobs = runner.of_kind(MATERIALIZATION_KIND)
        self._features = features
        self._limits_for = limits_for

    async def submit(
        self,
        tenant_id: str,
        name: str,
        version: int,
        request: MaterializationRequest,
        idempotency_key: str | None,
    ) -> tuple[JobRecord, bool]:
        """Queue the materialisation of an existing version (404 otherwise); it counts in the
        tenant's active-job quota (429 over it). False: the job of a repeated Idempotency-Key."""
        await asyncio.to_thread(self._features.version, tenant_id, name, version)
        limits = self._limits_for(tenant_id)
        spec = {"feature_set": name, "version": version, "request": request.model_dump()}
        return await self.jobs.submit(
            tenant_id, f"{name}_v{version}", spec, idempotency_key,
            limits.max_concurrent_jobs, spec,
        )  # fmt: skip
