"""Training endpoints: catalog, submit, list, get, events, cancel, result charts."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.charts.core import CHART_RESPONSES, negotiate
from app.deps import TenantDep, TrackingServiceDep, TrainingDep, WarehouseDep
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.jobs.sse import event_stream_response
from app.jobs.store import JobStatus
from app.training.chart_artifacts import list_charts, read_chart
from app.training.feature_sets import resolve_dataset
from app.training.schemas import (
    AlgorithmInfo,
    ChartList,
    TrainingConfig,
    TrainingEvent,
    TrainingJob,
    ValidatedTrainingConfig,
)
from app.training.service import job_response
from app.training.validation import validate_config

router = APIRouter(prefix="/api/v1/training", tags=["training"], responses=ERROR_RESPONSES)

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "no such job for this tenant"}}


@router.get("/algorithms", response_model=list[AlgorithmInfo])
async def list_training_algorithms(_: TenantDep, training: TrainingDep) -> list[AlgorithmInfo]:
    """The algorithms, their task types and hyperparameter specifications."""
    return training.catalog()


@router.post(
    "/submit",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TrainingJob,
    responses={
        200: {"model": TrainingJob, "description": "the job already submitted with this key"},
        403: {"model": ErrorResponse, "description": "dataset.tenant_id is another tenant"},
        429: {"model": ErrorResponse, "description": "the tenant is at its active-job limit"},
    },
)
async def submit_training_job(
    config: TrainingConfig,
    tenant_id: TenantDep,
    training: TrainingDep,
    response: Response,
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="same tenant + same key returns the same job instead of a new one",
        ),
    ] = None,
) -> TrainingJob:
    """Validate a training configuration against its dataset and queue the job. A
    `feature_set` dataset is built first (its point-in-time frame for the entity rows)."""
    config, feature_set = await asyncio.to_thread(
        resolve_dataset, request.app.state.features, tenant_id, config
    )
    record, created = await training.submit(
        tenant_id, config, idempotency_key, feature_set=feature_set
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return job_response(record)


@router.post(
    "/validate",
    response_model=ValidatedTrainingConfig,
    responses={403: {"model": ErrorResponse, "description": "dataset.tenant_id is another tenant"}},
)
async def validate_training_config(
    config: TrainingConfig, tenant_id: TenantDep, warehouses: WarehouseDep, request: Request
) -> ValidatedTrainingConfig:
    """Check a training configuration as submit would, without queueing anything: 200 with what
    would be trained, or 422 listing every field problem (algorithm, hyperparameters, columns,
    degenerate values). Resources and limits are checked at submit only. A `feature_set`
    dataset's frame is built, as submit builds it, and checked as a table."""
    config, _ = await asyncio.to_thread(
        resolve_dataset, request.app.state.features, tenant_id, config
    )
    validated = await asyncio.to_thread(validate_config, config, tenant_id, warehouses)
    resolved = validated.resolved
    return ValidatedTrainingConfig(
        algorithm=resolved.algorithm.name,
        task_type=config.task_type,
        target_column=config.target_column,
        feature_columns=resolved.feature_columns,
        categorical_columns=resolved.categorical_columns,
        hyperparameters=resolved.hyperparameters,
        split=config.split,
        row_count=validated.schema.row_count,
    )


@router.get("/jobs", response_model=list[TrainingJob])
async def list_training_jobs(
    tenant_id: TenantDep,
    training: TrainingDep,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TrainingJob]:
    """The tenant's jobs, newest first."""
    return [
        job_response(record) for record in await training.jobs.list(tenant_id, status_filter, limit)
    ]


@router.get("/jobs/{job_id}", response_model=TrainingJob, responses=_NOT_FOUND)
async def get_training_job(job_id: str, tenant_id: TenantDep, training: TrainingDep) -> TrainingJob:
    """One job: status, progress while running, results once completed."""
    return job_response(await training.jobs.get(tenant_id, job_id))


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses=_NOT_FOUND
    | {
        200: {
            "model": TrainingEvent,
            "description": "text/event-stream: one TrainingEvent per event (the SSE event name "
            "is its type); the stream ends after the `end` event",
            "content": {"text/event-stream": {}},
        }
    },
)
async def stream_training_events(
    job_id: str, tenant_id: TenantDep, training: TrainingDep
) -> StreamingResponse:
    """Server-Sent Events of one job: status changes, progress snapshots, then its end."""
    # Looked up before the stream starts, so another tenant's job is a plain 404.
    record = await training.jobs.get(tenant_id, job_id)
    return event_stream_response(training.events(record))


@router.delete(
    "/jobs/{job_id}",
    response_model=TrainingJob,
    responses=_NOT_FOUND | {409: {"model": ErrorResponse, "description": "the job already ended"}},
)
async def cancel_training_job(
    job_id: str, tenant_id: TenantDep, training: TrainingDep
) -> TrainingJob:
    """Cancel a queued or running job; its Ray work is killed before this answers."""
    return job_response(await training.jobs.cancel(tenant_id, job_id))


_NOT_COMPLETED = {409: {"model": ErrorResponse, "description": "the job has not completed"}}


@router.get(
    "/jobs/{job_id}/charts",
    response_model=ChartList,
    responses=_NOT_FOUND | _NOT_COMPLETED,
)
async def list_training_charts(
    job_id: str, tenant_id: TenantDep, training: TrainingDep, tracking: TrackingServiceDep
) -> ChartList:
    """The result charts of a completed job: name, title and the media types each comes in."""
    record = await training.jobs.get(tenant_id, job_id)
    return await asyncio.to_thread(list_charts, tracking, record)


@router.get(
    "/jobs/{job_id}/charts/{name}",
    response_class=Response,
    responses=_NOT_FOUND
    | _NOT_COMPLETED
    | {
        400: {"model": ErrorResponse, "description": "a malformed chart name"},
    }
    | CHART_RESPONSES,
)
async def get_training_chart(
    job_id: str,
    name: str,
    tenant_id: TenantDep,
    training: TrainingDep,
    tracking: TrackingServiceDep,
    accept: Annotated[
        str | None,
        Header(description="image/png, application/json (default) or the Vega-Lite type"),
    ] = None,
) -> Response:
    """One chart: `Accept: image/png` for the picture, JSON for the Vega-Lite spec it was drawn
    from."""
    record = await training.jobs.get(tenant_id, job_id)
    media_type = negotiate(accept)
    content = await asyncio.to_thread(read_chart, tracking, record, name, media_type)
    return Response(content=content, media_type=media_type, headers={"Vary": "Accept"})
