"""Feature set endpoints: define (a new version on change), list, read versions, build a
point-in-time training set into the tenant's warehouse, materialise a version into the online
store (a job) and look features up online (Feast's get-online-features shape)."""

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.charts.core import CHART_RESPONSES, PNG, negotiate, render_png
from app.datasets.warehouse import WAREHOUSE_RESPONSES
from app.deps import TenantDep, TrainingDep
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.features.importance import FeatureImportanceService
from app.features.importance_schemas import FeatureImportance
from app.features.materialization import MaterializationJobs
from app.features.schemas import (
    FEATURE_SET_NAME_PATTERN,
    FeatureSetDefinition,
    FeatureSetLineage,
    FeatureSetSummary,
    FeatureSetVersion,
    MaterializationRequest,
    OnlineFeaturesRequest,
    OnlineFeaturesResponse,
    TrainingSet,
    TrainingSetRequest,
)
from app.features.service import FeatureSetService
from app.jobs.schemas import Job
from app.tracking.ids import MODEL_NAME

router = APIRouter(
    prefix="/api/v1/features",
    tags=["features"],
    responses=ERROR_RESPONSES | WAREHOUSE_RESPONSES,
)

# How many of the tenant's latest training jobs a lineage answer looks through.
LINEAGE_JOBS = 1000
_NOT_FOUND = {404: {"model": ErrorResponse, "description": "no such feature set (or version)"}}
NameParam = Annotated[str, Path(pattern=FEATURE_SET_NAME_PATTERN)]
VersionParam = Annotated[int, Path(ge=1)]


def _service(request: Request) -> FeatureSetService:
    return request.app.state.features


@router.post(
    "/sets",
    status_code=status.HTTP_201_CREATED,
    response_model=FeatureSetVersion,
    responses={
        200: {"model": FeatureSetVersion, "description": "unchanged: the latest version"},
        409: {"model": ErrorResponse, "description": "another request made this version"},
    },
)
async def create_feature_set(
    definition: FeatureSetDefinition, tenant_id: TenantDep, request: Request, response: Response
) -> FeatureSetVersion:
    """Define a feature set, or change one: a changed definition becomes the next version (201);
    the same definition again answers the latest version (200). Columns are checked against the
    source (422 naming the field) and the version is registered in the tenant's Feast project."""
    version, created = await asyncio.to_thread(_service(request).create, tenant_id, definition)
    if not created:
        response.status_code = status.HTTP_200_OK
    return version


@router.get("/sets", response_model=list[FeatureSetSummary])
async def list_feature_sets(tenant_id: TenantDep, request: Request) -> list[FeatureSetSummary]:
    """The tenant's feature sets with their latest version."""
    return await asyncio.to_thread(_service(request).summaries, tenant_id)


@router.get("/sets/{name}", response_model=FeatureSetVersion, responses=_NOT_FOUND)
async def get_feature_set(
    name: NameParam, tenant_id: TenantDep, request: Request
) -> FeatureSetVersion:
    """The latest version of a feature set."""
    return await asyncio.to_thread(_service(request).version, tenant_id, name, None)


@router.get("/sets/{name}/versions", response_model=list[FeatureSetVersion], responses=_NOT_FOUND)
async def list_feature_set_versions(
    name: NameParam, tenant_id: TenantDep, request: Request
) -> list[FeatureSetVersion]:
    """Every version of a feature set, oldest first."""
    return await asyncio.to_thread(_service(request).versions, tenant_id, name)


@router.get(
    "/sets/{name}/versions/{version}", response_model=FeatureSetVersion, responses=_NOT_FOUND
)
async def get_feature_set_version(
    name: NameParam, version: VersionParam, tenant_id: TenantDep, request: Request
) -> FeatureSetVersion:
    """One version of a feature set."""
    return await asyncio.to_thread(_service(request).version, tenant_id, name, version)


@router.post(
    "/sets/{name}/versions/{version}/training-sets",
    status_code=status.HTTP_201_CREATED,
    response_model=TrainingSet,
    responses=_NOT_FOUND,
)
async def create_training_set(
    name: NameParam,
    version: VersionParam,
    body: TrainingSetRequest,
    tenant_id: TenantDep,
    request: Request,
) -> TrainingSet:
    """Point-in-time training set (Feast's `get_historical_features`): every entity row with each
    feature's value as known at the row's event timestamp, never a later one, written to
    `training_sets.<output_table>` where training can read it as a table."""
    return await asyncio.to_thread(_service(request).training_set, tenant_id, name, version, body)


@router.get(
    "/sets/{name}/versions/{version}/lineage",
    response_model=FeatureSetLineage,
    responses=_NOT_FOUND,
)
async def get_feature_set_lineage(
    name: NameParam,
    version: VersionParam,
    tenant_id: TenantDep,
    request: Request,
    training: TrainingDep,
) -> FeatureSetLineage:
    """The training jobs (of the tenant's latest 1,000) that trained on this version, their
    MLflow runs and the registered model versions made from them."""
    found = await asyncio.to_thread(_service(request).version, tenant_id, name, version)
    jobs = await training.jobs.list(tenant_id, None, LINEAGE_JOBS)
    registry = request.app.state.registry
    return await asyncio.to_thread(
        _service(request).lineage,
        found,
        jobs,
        lambda run_id: registry.versions_of_run(tenant_id, run_id),
    )


@router.post(
    "/sets/{name}/versions/{version}/materialize",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Job,
    responses=_NOT_FOUND
    | {
        200: {"model": Job, "description": "the job already submitted with this key"},
        429: {"model": ErrorResponse, "description": "the tenant is at its active-job limit"},
    },
)
async def materialize_feature_set_version(
    name: NameParam,
    version: VersionParam,
    body: MaterializationRequest,
    tenant_id: TenantDep,
    request: Request,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="same tenant + same key returns the same job instead of a new one",
        ),
    ] = None,
) -> Job:
    """Load a version's features into the tenant's online store as of now, as a
    `feature_materialization` job (`materialize-…`): it counts in the tenant's job quota,
    reports its stages (export, windows, materialize) as progress, and is followed and
    cancelled through /api/v1/jobs/{job_id}."""
    jobs: MaterializationJobs = request.app.state.materializations
    record, created = await jobs.submit(tenant_id, name, version, body, idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return Job.of(record)


@router.post(
    "/online",
    response_model=OnlineFeaturesResponse,
    responses={
        409: {"model": ErrorResponse, "description": "a version is not materialised"},
        503: {"model": ErrorResponse, "description": "the online store cannot be reached"},
    },
)
async def get_online_features(
    body: OnlineFeaturesRequest, tenant_id: TenantDep, request: Request
) -> OnlineFeaturesResponse:
    """Feast's get-online-features in the tenant's project: each feature's latest materialised
    value per entity, with its status (NOT_FOUND for an entity without one) and event
    timestamp. References read `<feature set>_v<version>:<feature>`."""
    return await asyncio.to_thread(_service(request).online, tenant_id, body)


class ImportanceQuery(BaseModel):
    """Which model to explain (by target or by name) and, optionally, which feature set."""

    model_config = ConfigDict(extra="forbid")

    target: str | None = Field(
        None, max_length=300, description="the column to explain, e.g. churned"
    )
    model_name: str | None = Field(
        None, pattern=MODEL_NAME.pattern, description="a registered model instead of the target's"
    )
    model_version: str | None = Field(
        None,
        pattern=r"^[1-9][0-9]{0,8}$",
        description="its version (default: the one in Production, else the latest)",
    )
    feature_set: str | None = Field(
        None,
        pattern=FEATURE_SET_NAME_PATTERN,
        description="also the association of this feature set's features with the target",
    )
    feature_set_version: int | None = Field(None, ge=1, description="default: the latest")


_IMPORTANCE_ERRORS = {
    404: {
        "model": ErrorResponse,
        "description": "nothing matches: the message names the field (target, model_name, "
        "model_version, feature_set, feature_set_version)",
    }
}


def _importance(request: Request) -> FeatureImportanceService:
    return request.app.state.feature_importance


def _answer(tenant_id: str, query: ImportanceQuery, request: Request) -> FeatureImportance:
    return _importance(request).answer(
        tenant_id,
        query.target,
        query.model_name,
        query.model_version,
        query.feature_set,
        query.feature_set_version,
    )


@router.get("/importance", response_model=FeatureImportance, responses=_IMPORTANCE_ERRORS)
async def get_feature_importance(
    query: Annotated[ImportanceQuery, Query()], tenant_id: TenantDep, request: Request
) -> FeatureImportance:
    """What matters for a target: the importance the target's model found (the one in
    Production, else the latest registered, else the latest completed training job; or the
    model named), saying which model and why, and with `feature_set` its features' association
    with the target from the data profiler, on the version's point-in-time training frame."""
    return await asyncio.to_thread(_answer, tenant_id, query, request)


@router.get(
    "/importance/charts/{name}",
    response_class=Response,
    responses=_IMPORTANCE_ERRORS | CHART_RESPONSES,
)
async def get_feature_importance_chart(
    name: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")],
    query: Annotated[ImportanceQuery, Query()],
    tenant_id: TenantDep,
    request: Request,
    accept: Annotated[
        str | None,
        Header(description="image/png, application/json (default) or the Vega-Lite type"),
    ] = None,
) -> Response:
    """One chart of the importance answer for the same query: `feature_importance` (the
    model's) or `target_associations` (the feature set's), as a PNG or its Vega-Lite spec."""
    media_type = negotiate(accept)

    def draw() -> bytes:
        answer = _answer(tenant_id, query, request)
        spec = _importance(request).chart(answer, name)
        return render_png(spec) if media_type == PNG else json.dumps(spec).encode()

    content = await asyncio.to_thread(draw)
    return Response(content=content, media_type=media_type, headers={"Vary": "Accept"})
