"""Request dependencies: the tenant from its header, and the services held on app.state."""

from typing import Annotated

from fastapi import Depends, Header, Request

from app.config import TENANT_ID_PATTERN, Settings
from app.datasets.warehouse import WarehouseManager
from app.eda.service import EdaService, ProfileJobs
from app.errors import BadRequestError
from app.registry.service import RegistryService
from app.tracking.service import TrackingService
from app.training.service import TrainingService
from app.tuning.service import TuningService

TENANT_HEADER = "X-Tenant-ID"


async def tenant_id_from_header(
    x_tenant_id: Annotated[
        str | None,
        Header(
            alias=TENANT_HEADER,
            description="tenant the call acts for; resolved by the AI Service",
        ),
    ] = None,
) -> str:
    # async only so FastAPI calls it inline: a plain def goes to a worker thread per request.
    # Checked here rather than by Header(pattern=...) so a bad header is the contract's 400,
    # not a 422 about a request field.
    if x_tenant_id is None:
        raise BadRequestError(f"the {TENANT_HEADER} header is required")
    if not TENANT_ID_PATTERN.fullmatch(x_tenant_id):
        raise BadRequestError(f"the {TENANT_HEADER} header must match {TENANT_ID_PATTERN.pattern}")
    return x_tenant_id


# The getters are async only so FastAPI calls them inline instead of in a worker thread.
async def _warehouses(request: Request) -> WarehouseManager:
    return request.app.state.warehouses


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _training(request: Request) -> TrainingService:
    return request.app.state.training


async def _tuning(request: Request) -> TuningService:
    return request.app.state.tuning


async def _tracking_service(request: Request) -> TrackingService:
    return request.app.state.tracking_service


async def _registry(request: Request) -> RegistryService:
    return request.app.state.registry


async def _eda(request: Request) -> EdaService:
    return request.app.state.eda


async def _profile_jobs(request: Request) -> ProfileJobs:
    return request.app.state.profile_jobs


TenantDep = Annotated[str, Depends(tenant_id_from_header)]
SettingsDep = Annotated[Settings, Depends(_settings)]
WarehouseDep = Annotated[WarehouseManager, Depends(_warehouses)]
TrainingDep = Annotated[TrainingService, Depends(_training)]
TuningDep = Annotated[TuningService, Depends(_tuning)]
TrackingServiceDep = Annotated[TrackingService, Depends(_tracking_service)]
RegistryDep = Annotated[RegistryService, Depends(_registry)]
EdaDep = Annotated[EdaService, Depends(_eda)]
ProfileJobsDep = Annotated[ProfileJobs, Depends(_profile_jobs)]
