"""EDA endpoints: profile a table or query, list and read stored profiles."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.deps import EdaDep, TenantDep
from app.eda.schemas import Profile, ProfileList, ProfileRequest
from app.errors import ERROR_RESPONSES, ErrorResponse

router = APIRouter(prefix="/api/v1/eda", tags=["eda"], responses=ERROR_RESPONSES)

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "no such profile for this tenant"}}


# Plain `def` handlers: the work is DuckDB and SQLite, and FastAPI runs them in its thread pool.
@router.post("/profiles", status_code=status.HTTP_201_CREATED, response_model=Profile)
def create_profile(request: ProfileRequest, tenant_id: TenantDep, eda: EdaDep) -> Profile:
    """Profile a table or read-only query of the tenant's warehouse, in DuckDB, and store it."""
    return eda.profile(tenant_id, request)


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
