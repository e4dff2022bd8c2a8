"""Wire shapes of the generic jobs API (`/api/v1/jobs`), the same for every kind of job."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.jobs.store import JobRecord, JobStatus


class Job(BaseModel):
    """Any kind of job. Its kind's own API (`/api/v1/training/jobs/{id}`,
    `/api/v1/serving/batch/{id}`) shows the same job in that kind's shape."""

    job_id: str = Field(
        description="`train-…` training, `batch-…` batch prediction, `sweep-…` tuning, "
        "`profile-…` profiling, `materialize-…` feature materialisation"
    )
    kind: str = Field(
        description="training | batch_prediction | tuning | profiling | feature_materialization"
    )
    tenant_id: str
    name: str
    status: JobStatus
    progress: dict[str, Any] | None = Field(
        description="the kind's latest snapshot: training `iteration`/`total_iterations`/"
        "`metrics`/…, batch prediction `rows_done`/`rows_total`, profiling and feature "
        "materialisation `stage`/`stages_done`/`stages_total`"
    )
    result: dict[str, Any] | None = Field(description="once completed")
    error: str | None
    mlflow_run_ids: list[str]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, record: JobRecord) -> "Job":
        return cls(
            job_id=record.job_id,
            kind=record.kind,
            tenant_id=record.tenant_id,
            name=record.name,
            status=record.status,
            progress=record.progress,
            result=record.result,
            error=record.error,
            mlflow_run_ids=record.mlflow_run_ids,
            created_at=record.created_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
        )


class JobEvent(BaseModel):
    """One event of a job's stream (GET /api/v1/jobs/{job_id}/events): the SSE event name is
    `type`, the data this object."""

    type: Literal["status", "progress", "end"] = Field(
        description="status: the status changed; progress: a new progress snapshot; "
        "end: the job ended (last event), `job` holds it with its result or error"
    )
    job_id: str
    kind: str
    status: JobStatus
    progress: dict[str, Any] | None
    job: Job | None = Field(None, description="only on `end`")
