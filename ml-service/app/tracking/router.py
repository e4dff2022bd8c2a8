"""Tracking endpoints: experiments, runs, metric history, artifacts, comparison, logged models."""

import asyncio
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response, status

from app.deps import TenantDep, TrackingServiceDep
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.tracking.schemas import (
    ArtifactList,
    Experiment,
    ExperimentCreate,
    ExperimentList,
    LoggedModelInfo,
    MetricHistory,
    Run,
    RunCompareRequest,
    RunComparison,
    RunPage,
    RunSearch,
)

router = APIRouter(prefix="/api/v1/tracking", tags=["tracking"], responses=ERROR_RESPONSES)

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "unknown, or another tenant's"}}
_BAD_ID = {400: {"model": ErrorResponse, "description": "a malformed id or artifact path"}}

ArtifactPath = Annotated[
    str, Query(max_length=1000, description="relative POSIX path inside the artifact root")
]


@router.post(
    "/experiments",
    status_code=status.HTTP_201_CREATED,
    response_model=Experiment,
    responses={409: {"model": ErrorResponse, "description": "the name exists"}},
)
async def create_experiment(
    body: ExperimentCreate, tenant_id: TenantDep, tracking: TrackingServiceDep
) -> Experiment:
    """Create an experiment of the tenant (stored in MLflow as `<tenant>/<name>`)."""
    return await asyncio.to_thread(tracking.create_experiment, tenant_id, body)


@router.get("/experiments", response_model=ExperimentList)
async def list_experiments(tenant_id: TenantDep, tracking: TrackingServiceDep) -> ExperimentList:
    """The tenant's experiments, including `training`, where the training jobs log."""
    return ExperimentList(experiments=await asyncio.to_thread(tracking.list_experiments, tenant_id))


@router.get(
    "/experiments/{experiment_id}", response_model=Experiment, responses=_NOT_FOUND | _BAD_ID
)
async def get_experiment(
    experiment_id: str, tenant_id: TenantDep, tracking: TrackingServiceDep
) -> Experiment:
    """One experiment of the tenant."""
    return await asyncio.to_thread(tracking.get_experiment, tenant_id, experiment_id)


@router.post("/runs/search", response_model=RunPage, responses=_NOT_FOUND | _BAD_ID)
async def search_runs(
    body: RunSearch, tenant_id: TenantDep, tracking: TrackingServiceDep
) -> RunPage:
    """Runs of the tenant's experiments by MLflow filter, ordered and paginated."""
    return await asyncio.to_thread(tracking.search_runs, tenant_id, body)


@router.post("/runs/compare", response_model=RunComparison, responses=_NOT_FOUND | _BAD_ID)
async def compare_runs(
    body: RunCompareRequest, tenant_id: TenantDep, tracking: TrackingServiceDep
) -> RunComparison:
    """Params and metrics of 2..10 runs side by side, with per-iteration chart data."""
    return await asyncio.to_thread(tracking.compare, tenant_id, body.run_ids)


@router.get("/runs/{run_id}", response_model=Run, responses=_NOT_FOUND | _BAD_ID)
async def get_run(run_id: str, tenant_id: TenantDep, tracking: TrackingServiceDep) -> Run:
    """One run: params, latest metrics, tags, job, model and dataset lineage."""
    return await asyncio.to_thread(tracking.get_run, tenant_id, run_id)


@router.get(
    "/runs/{run_id}/metrics/{metric_key}/history",
    response_model=MetricHistory,
    responses=_NOT_FOUND | _BAD_ID,
)
async def get_metric_history(
    run_id: str, metric_key: str, tenant_id: TenantDep, tracking: TrackingServiceDep
) -> MetricHistory:
    """Every logged value of one metric, by step."""
    return await asyncio.to_thread(tracking.metric_history, tenant_id, run_id, metric_key)


@router.get("/runs/{run_id}/artifacts", response_model=ArtifactList, responses=_NOT_FOUND | _BAD_ID)
async def list_run_artifacts(
    run_id: str, tenant_id: TenantDep, tracking: TrackingServiceDep, path: ArtifactPath = ""
) -> ArtifactList:
    """The files of a run's artifact folder (its root when `path` is empty)."""
    return await asyncio.to_thread(tracking.list_artifacts, tenant_id, run_id, path)


_DOWNLOAD = {200: {"content": {"application/octet-stream": {}}, "description": "the file's bytes"}}


def _file_response(data: bytes, content_type: str, file_name: str) -> Response:
    return Response(
        content=data,
        media_type=content_type,
        # RFC 5987 form, so no character of the name can break out of the header value.
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(file_name)}"},
    )


@router.get(
    "/runs/{run_id}/artifacts/content",
    response_class=Response,
    responses=_NOT_FOUND | _BAD_ID | _DOWNLOAD,
)
async def download_run_artifact(
    run_id: str, path: ArtifactPath, tenant_id: TenantDep, tracking: TrackingServiceDep
) -> Response:
    """One artifact file (configuration, evaluation, classification report...)."""
    return _file_response(*await asyncio.to_thread(tracking.read_artifact, tenant_id, run_id, path))


@router.get(
    "/models/{model_artifact_id}", response_model=LoggedModelInfo, responses=_NOT_FOUND | _BAD_ID
)
async def get_logged_model(
    model_artifact_id: str, tenant_id: TenantDep, tracking: TrackingServiceDep
) -> LoggedModelInfo:
    """The LoggedModel behind a training result's `model_artifact_id`, with its versions."""
    return await asyncio.to_thread(tracking.logged_model, tenant_id, model_artifact_id)


@router.get(
    "/models/{model_artifact_id}/artifacts",
    response_model=ArtifactList,
    responses=_NOT_FOUND | _BAD_ID,
)
async def list_model_artifacts(
    model_artifact_id: str,
    tenant_id: TenantDep,
    tracking: TrackingServiceDep,
    path: ArtifactPath = "",
) -> ArtifactList:
    """The files of a LoggedModel (MLmodel, the model file...), one folder level."""
    return await asyncio.to_thread(
        tracking.list_model_artifacts, tenant_id, model_artifact_id, path
    )


@router.get(
    "/models/{model_artifact_id}/artifacts/content",
    response_class=Response,
    responses=_NOT_FOUND | _BAD_ID | _DOWNLOAD,
)
async def download_model_artifact(
    model_artifact_id: str, path: ArtifactPath, tenant_id: TenantDep, tracking: TrackingServiceDep
) -> Response:
    """One file of a LoggedModel: the trained model itself, MLmodel, its environment files."""
    return _file_response(
        *await asyncio.to_thread(tracking.read_model_artifact, tenant_id, model_artifact_id, path)
    )
