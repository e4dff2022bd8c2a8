"""Tuning endpoints: default spaces, submit a sweep, list, get, cancel, charts, train-best. A
sweep's progress events stream from the generic `GET /api/v1/jobs/{sweep_id}/events`."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.charts.core import CHART_RESPONSES, negotiate
from app.deps import TenantDep, TuningDep
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.jobs.store import JobStatus
from app.training.feature_sets import resolve_dataset
from app.training.schemas import TrainingJob
from app.training.service import job_response
from app.tuning.schemas import (
    DefaultSpace,
    SweepChartList,
    SweepUpdate,
    TrainBestRequest,
    TuningConfig,
    TuningFromBase,
    TuningSweep,
)
from app.tuning.service import sweep_response

router = APIRouter(prefix="/api/v1/tuning", tags=["tuning"], responses=ERROR_RESPONSES)

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "no such sweep for this tenant"}}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="same tenant + same key returns the same job instead of a new one",
    ),
]


@router.get("/spaces", response_model=list[DefaultSpace])
async def list_default_search_spaces(_: TenantDep, tuning: TuningDep) -> list[DefaultSpace]:
    """The algorithms that can be tuned and the search space a sweep uses when it gives none."""
    return tuning.default_spaces()


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TuningSweep,
    responses={
        200: {"model": TuningSweep, "description": "the sweep already submitted with this key"},
        403: {"model": ErrorResponse, "description": "dataset.tenant_id is another tenant"},
        429: {"model": ErrorResponse, "description": "the tenant is at its active-job limit"},
    },
)
async def submit_tuning_sweep(
    config: TuningConfig,
    tenant_id: TenantDep,
    tuning: TuningDep,
    response: Response,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> TuningSweep:
    """Check a sweep (training rules, search space against the catalog, search, scheduler,
    metric) and queue it as a job. A `feature_set` dataset is built first, as for training."""
    config, _ = await asyncio.to_thread(
        resolve_dataset, request.app.state.features, tenant_id, config
    )
    record, created = await tuning.submit(tenant_id, config, idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return sweep_response(record)


@router.post(
    "/from-base",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TuningSweep,
    responses={
        200: {"model": TuningSweep, "description": "the sweep already submitted with this key"},
        429: {"model": ErrorResponse, "description": "the tenant is at its active-job limit"},
    },
)
async def submit_tuning_sweep_from_base(
    body: TuningFromBase,
    tenant_id: TenantDep,
    tuning: TuningDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TuningSweep:
    """A sweep starting from the training configuration of an earlier training job
    (`base_job_id`) or of the job that made a registered version (`base_model`); 422 naming
    the field when this tenant has none, then the same checks as `POST /api/v1/tuning`."""
    record, created = await tuning.submit_from_base(tenant_id, body, idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return sweep_response(record)


@router.get("", response_model=list[TuningSweep])
async def list_tuning_sweeps(
    tenant_id: TenantDep,
    tuning: TuningDep,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TuningSweep]:
    """The tenant's sweeps, newest first."""
    return [
        sweep_response(record) for record in await tuning.jobs.list(tenant_id, status_filter, limit)
    ]


@router.get("/{sweep_id}", response_model=TuningSweep, responses=_NOT_FOUND)
async def get_tuning_sweep(sweep_id: str, tenant_id: TenantDep, tuning: TuningDep) -> TuningSweep:
    """One sweep: trials table (params, metrics, status, rounds, duration), best trial, time
    left while running; every trial's metric history once ended."""
    return sweep_response(await tuning.jobs.get(tenant_id, sweep_id))


@router.patch(
    "/{sweep_id}",
    response_model=TuningSweep,
    responses=_NOT_FOUND
    | {409: {"model": ErrorResponse, "description": "the sweep's trials are not running"}},
)
async def update_tuning_sweep(
    sweep_id: str, body: SweepUpdate, tenant_id: TenantDep, tuning: TuningDep
) -> TuningSweep:
    """Raise or lower `max_concurrent_trials` (more trials start, or running ones finish before
    another starts) and `num_samples` (the same searcher proposes more trials, or none starts
    once that many started) of a running sweep, from Tune's next step; 422 for `num_samples`
    below the trials already started."""
    return sweep_response(await tuning.update(tenant_id, sweep_id, body))


@router.delete(
    "/{sweep_id}",
    response_model=TuningSweep,
    responses=_NOT_FOUND
    | {409: {"model": ErrorResponse, "description": "the sweep already ended"}},
)
async def cancel_tuning_sweep(
    sweep_id: str, tenant_id: TenantDep, tuning: TuningDep
) -> TuningSweep:
    """Cancel a queued or running sweep; every running trial is stopped before this answers."""
    return sweep_response(await tuning.jobs.cancel(tenant_id, sweep_id))


@router.post(
    "/{sweep_id}/train-best",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TrainingJob,
    responses=_NOT_FOUND
    | {
        200: {"model": TrainingJob, "description": "the job already submitted with this key"},
        409: {"model": ErrorResponse, "description": "the sweep has not completed"},
        429: {"model": ErrorResponse, "description": "the tenant is at its active-job limit"},
    },
)
async def train_best_trial(
    sweep_id: str,
    body: TrainBestRequest,
    tenant_id: TenantDep,
    tuning: TuningDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    actor: Annotated[
        str, Header(alias="X-Actor", max_length=200, description="recorded when registering")
    ] = "unknown",
) -> TrainingJob:
    """Train the best trial's configuration on the full training split as a training job
    (evaluated on the untouched test split, its run tagged with the sweep and trial); with
    `register`, the model also becomes a registered version."""
    record, created = await tuning.train_best(tenant_id, sweep_id, body, actor, idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return job_response(record)


_NOT_COMPLETED = {409: {"model": ErrorResponse, "description": "the sweep has not completed"}}


@router.get(
    "/{sweep_id}/charts", response_model=SweepChartList, responses=_NOT_FOUND | _NOT_COMPLETED
)
async def list_tuning_charts(
    sweep_id: str, tenant_id: TenantDep, tuning: TuningDep
) -> SweepChartList:
    """The charts of a completed sweep: optimisation history, parallel coordinates, parameter
    importance (fANOVA), learning curves; each as a PNG or its Vega-Lite spec."""
    return await tuning.charts(tenant_id, sweep_id)


@router.get(
    "/{sweep_id}/charts/{name}",
    response_class=Response,
    responses=_NOT_FOUND
    | _NOT_COMPLETED
    | {
        400: {"model": ErrorResponse, "description": "a malformed chart name"},
    }
    | CHART_RESPONSES,
)
async def get_tuning_chart(
    sweep_id: str,
    name: str,
    tenant_id: TenantDep,
    tuning: TuningDep,
    accept: Annotated[
        str | None,
        Header(description="image/png, application/json (default) or the Vega-Lite type"),
    ] = None,
) -> Response:
    """One chart: `Accept: image/png` for the picture, JSON for the Vega-Lite spec it was drawn
    from."""
    media_type = negotiate(accept)
    content = await tuning.chart(tenant_id, sweep_id, name, media_type)
    return Response(content=content, media_type=media_type, headers={"Vary": "Accept"})
