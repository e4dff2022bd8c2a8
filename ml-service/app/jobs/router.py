"""Generic job endpoints: any job by id, its Server-Sent Events and its cancellation, whatever
its kind."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import StreamingResponse

from app.deps import TenantDep
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.jobs.runner import JobRunner
from app.jobs.schemas import Job, JobEvent
from app.jobs.sse import event_stream_response
from app.jobs.store import JobRecord

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=ERROR_RESPONSES)

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "no such job for this tenant"}}
JobIdPath = Annotated[str, Path(pattern=r"^[a-z][a-z_]*-[0-9a-f]{12}$")]


async def _runner(request: Request) -> JobRunner:
    return request.app.state.jobs


RunnerDep = Annotated[JobRunner, Depends(_runner)]


@router.get("/{job_id}", response_model=Job, responses=_NOT_FOUND)
async def get_job(job_id: JobIdPath, tenant_id: TenantDep, runner: RunnerDep) -> Job:
    """One job of any kind: status, latest progress, result or error."""
    return Job.of(await runner.get(tenant_id, job_id))


@router.delete(
    "/{job_id}",
    response_model=Job,
    responses=_NOT_FOUND | {409: {"model": ErrorResponse, "description": "the job already ended"}},
)
async def cancel_job(job_id: JobIdPath, tenant_id: TenantDep, runner: RunnerDep) -> Job:
    """Cancel a queued or running job of any kind; its work is stopped before this answers."""
    return Job.of(await runner.cancel(tenant_id, job_id))


async def _events(runner: JobRunner, record: JobRecord) -> AsyncIterator[JobEvent | None]:
    async for event in runner.watch(record):
        if event is None:
            yield None
            continue
        kind, current = event
        yield JobEvent(
            type=kind,
            job_id=current.job_id,
            kind=current.kind,
            status=current.status,
            progress=current.progress,
            job=Job.of(current) if kind == "end" else None,
        )


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses=_NOT_FOUND
    | {
        200: {
            "model": JobEvent,
            "description": "text/event-stream: one JobEvent per event (the SSE event name is "
            "its type); the stream ends after the `end` event. Progress is pushed the moment "
            "the job reports it.",
            "content": {"text/event-stream": {}},
        }
    },
)
async def stream_job_events(
    job_id: JobIdPath, tenant_id: TenantDep, runner: RunnerDep
) -> StreamingResponse:
    """Server-Sent Events of one job of any kind: status changes, progress, then its end."""
    # Looked up before the stream starts, so another tenant's job is a plain 404.
    record = await runner.get(tenant_id, job_id)
    return event_stream_response(_events(runner, record))
