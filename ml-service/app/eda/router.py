"""EDA endpoints: profile a table or query, list and read stored profiles."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import HTMLResponse, JSONResponse

from app.charts.core import CHART_RESPONSES, negotiate
from app.datasets.warehouse import WAREHOUSE_RESPONSES
from app.deps import EdaDep, ProfileJobsDep, TenantDep, WarehouseDep
from app.eda.schemas import (
    CompareRequest,
    Comparison,
    ComparisonList,
    Profile,
    ProfileChartList,
    ProfileList,
    ProfileRequest,
)
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.jobs.schemas import Job

router = APIRouter(prefix="/api/v1/eda", tags=["eda"], responses=ERROR_RESPONSES)

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "no such profile for this tenant"}}
_CHART_CONTENT = {
    400: {"model": ErrorResponse, "description": "a malformed chart name"}
} | CHART_RESPONSES
_AcceptHeader = Annotated[
    str | None,
    Header(description="image/png, application/json (default) or the Vega-Lite type"),
]


# Plain `def` handlers: the work is SQLite, and FastAPI runs them in its thread pool. A profile
# runs the tenant's SQL, so it goes to the warehouse's own pool (health and MLflow never wait).
@router.post(
    "/profiles",
    status_code=status.HTTP_201_CREATED,
    response_model=Profile,
    responses=WAREHOUSE_RESPONSES
    | {
        202: {
            "model": Job,
            "description": "a `profiling` job (asked for with `Prefer: respond-async`, or more "
            "cells than MLS_EDA_SYNC_MAX_CELLS): follow `Location`; its result holds the "
            "`profile_id`",
        },
        429: {"model": ErrorResponse, "description": "the tenant is at its active-job limit"},
    },
)
async def create_profile(
    request: ProfileRequest,
    tenant_id: TenantDep,
    eda: EdaDep,
    profile_jobs: ProfileJobsDep,
    warehouses: WarehouseDep,
    prefer: Annotated[
        str | None,
        Header(description="`respond-async` (RFC 7240): a job (202) whatever the size"),
    ] = None,
) -> Profile | JSONResponse:
    """Profile a table or read-only query of the tenant's warehouse, in DuckDB, and store it;
    a large one (or one asked for with `Prefer: respond-async`) becomes a job (202)."""
    respond_async = prefer is not None and "respond-async" in prefer.lower()
    if await profile_jobs.runs_as_job(tenant_id, request, respond_async):
        record = await profile_jobs.submit(tenant_id, request)
        return JSONResponse(
            Job.of(record).model_dump(mode="json"),
            status_code=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/jobs/{record.job_id}"}
            | ({"Preference-Applied": "respond-async"} if respond_async else {}),
        )
    return await warehouses.offload(eda.profile, tenant_id, request)


@router.get("/profiles", response_model=ProfileList)
def list_profiles(
    tenant_id: TenantDep,
    eda: EdaDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="newest first")] = 100,
) -> ProfileList:
    """The tenant's stored profiles, newest first."""
    return eda.list(tenant_id, limit)


@router.get("/profiles/{profile_id}", response_model=Profile, responses=_NOT_FOUND)
def get_profile(profile_id: str, tenant_id: TenantDep, eda: EdaDep) -> Profile:
    """One stored profile."""
    return eda.get(tenant_id, profile_id)


@router.get("/profiles/{profile_id}/charts", response_model=ProfileChartList, responses=_NOT_FOUND)
def list_profile_charts(profile_id: str, tenant_id: TenantDep, eda: EdaDep) -> ProfileChartList:
    """The charts of a profile: histograms, top values, correlation heatmaps, missing values,
    target views; each as a PNG or its Vega-Lite spec."""
    return eda.charts(tenant_id, profile_id)


@router.get(
    "/profiles/{profile_id}/charts/{name}",
    response_class=Response,
    responses=_NOT_FOUND | _CHART_CONTENT,
)
def get_profile_chart(
    profile_id: str, name: str, tenant_id: TenantDep, eda: EdaDep, accept: _AcceptHeader = None
) -> Response:
    """One chart: `Accept: image/png` for the picture, JSON for the Vega-Lite spec."""
    media_type = negotiate(accept)
    content = eda.chart(tenant_id, profile_id, name, media_type)
    return Response(content=content, media_type=media_type, headers={"Vary": "Accept"})


@router.get(
    "/profiles/{profile_id}/report",
    response_class=HTMLResponse,
    responses=_NOT_FOUND
    | {200: {"content": {"text/html": {}}, "description": "one self-contained HTML page"}},
)
def get_profile_report(profile_id: str, tenant_id: TenantDep, eda: EdaDep) -> HTMLResponse:
    """The whole profile as one HTML page with its charts inline: opens offline in a browser."""
    return HTMLResponse(
        eda.report(tenant_id, profile_id),
        headers={"Content-Disposition": f'inline; filename="{profile_id}.html"'},
    )


_NO_COMPARISON = {
    404: {"model": ErrorResponse, "description": "no such comparison for this tenant"}
}


@router.post("/comparisons", status_code=status.HTTP_201_CREATED, response_model=Comparison)
def create_comparison(request: CompareRequest, tenant_id: TenantDep, eda: EdaDep) -> Comparison:
    """Compare two tables or queries column by column (PSI, KS / chi-square, Wasserstein,
    Jensen-Shannon) with serving's drift thresholds, and store the comparison."""
    return eda.compare(tenant_id, request)


@router.get("/comparisons", response_model=ComparisonList)
def list_comparisons(
    tenant_id: TenantDep,
    eda: EdaDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="newest first")] = 100,
) -> ComparisonList:
    """The tenant's stored comparisons, newest first."""
    return eda.list_comparisons(tenant_id, limit)


@router.get("/comparisons/{comparison_id}", response_model=Comparison, responses=_NO_COMPARISON)
def get_comparison(comparison_id: str, tenant_id: TenantDep, eda: EdaDep) -> Comparison:
    """One stored comparison."""
    return eda.get_comparison(tenant_id, comparison_id)


@router.get(
    "/comparisons/{comparison_id}/charts/{name}",
    response_class=Response,
    responses=_NO_COMPARISON | _CHART_CONTENT,
)
def get_comparison_chart(
    comparison_id: str, name: str, tenant_id: TenantDep, eda: EdaDep, accept: _AcceptHeader = None
) -> Response:
    """One chart of a comparison (`drift`, `shift_<column>`): PNG or Vega-Lite by Accept."""
    media_type = negotiate(accept)
    content = eda.comparison_chart(tenant_id, comparison_id, name, media_type)
    return Response(content=content, media_type=media_type, headers={"Vary": "Accept"})
