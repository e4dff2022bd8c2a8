"""Registry endpoints: models, versions, stages, aliases and the audit trail."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from app.deps import RegistryDep, TenantDep
from app.errors import ERROR_RESPONSES, ErrorResponse
from app.registry.schemas import (
    AliasAssignment,
    AuditTrail,
    ModelDeletion,
    ModelUpdate,
    ModelVersion,
    RegisteredModel,
    RegisteredModelList,
    Stage,
    StageChange,
    VersionCreate,
)

router = APIRouter(prefix="/api/v1/registry", tags=["registry"], responses=ERROR_RESPONSES)

_NOT_FOUND = {
    400: {"model": ErrorResponse, "description": "a malformed name, version or alias"},
    404: {"model": ErrorResponse, "description": "unknown, or another tenant's"},
}
_CONFLICT = {409: {"model": ErrorResponse, "description": "a Production version is involved"}}

ActorDep = Annotated[
    str,
    Header(
        alias="X-Actor",
        max_length=200,
        description="who is calling, recorded in the audit trail",
    ),
]


@router.post(
    "/models/{name}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=ModelVersion,
    responses=_NOT_FOUND
    | {409: {"model": ErrorResponse, "description": "the job or run has no model"}},
)
async def register_model_version(
    name: str,
    body: VersionCreate,
    tenant_id: TenantDep,
    registry: RegistryDep,
    actor: ActorDep = "unknown",
) -> ModelVersion:
    """Register the model of a training job or run; creates the model on first use."""
    return await asyncio.to_thread(registry.register, tenant_id, name, body, actor)


@router.get("/models", response_model=RegisteredModelList)
async def list_registered_models(
    tenant_id: TenantDep,
    registry: RegistryDep,
    name: Annotated[str | None, Query(max_length=128, description="substring")] = None,
    tag: Annotated[str | None, Query(max_length=500, description="key=value")] = None,
    stage: Annotated[Stage | None, Query(description="a version in this stage")] = None,
    metric: Annotated[
        str | None, Query(max_length=200, description="a version's metric, e.g. auc_roc>0.8")
    ] = None,
) -> RegisteredModelList:
    """The tenant's registered models, searched by name, tag, stage and metric."""
    return RegisteredModelList(
        models=await asyncio.to_thread(registry.list_models, tenant_id, name, tag, stage, metric)
    )


@router.get("/models/{name}", response_model=RegisteredModel, responses=_NOT_FOUND)
async def get_registered_model(
    name: str, tenant_id: TenantDep, registry: RegistryDep
) -> RegisteredModel:
    """One model with its versions, aliases and Production version."""
    return await asyncio.to_thread(registry.get_model, tenant_id, name)


@router.patch("/models/{name}", response_model=RegisteredModel, responses=_NOT_FOUND)
async def update_registered_model(
    name: str,
    body: ModelUpdate,
    tenant_id: TenantDep,
    registry: RegistryDep,
    actor: ActorDep = "unknown",
) -> RegisteredModel:
    """Change a model's description or tags."""
    return await asyncio.to_thread(registry.update_model, tenant_id, name, body, actor)


@router.delete("/models/{name}", response_model=ModelDeletion, responses=_NOT_FOUND | _CONFLICT)
async def delete_registered_model(
    name: str,
    tenant_id: TenantDep,
    registry: RegistryDep,
    dry_run: Annotated[
        bool, Query(description="say what would be removed, remove nothing")
    ] = False,
    actor: ActorDep = "unknown",
) -> ModelDeletion:
    """Delete a model and its versions and aliases (409 while a version is in Production)."""
    return await asyncio.to_thread(registry.delete_model, tenant_id, name, dry_run, actor)


@router.get("/models/{name}/versions/{version}", response_model=ModelVersion, responses=_NOT_FOUND)
async def get_model_version(
    name: str, version: str, tenant_id: TenantDep, registry: RegistryDep
) -> ModelVersion:
    """One version: stage, aliases, signature, metrics and lineage."""
    return await asyncio.to_thread(registry.get_version, tenant_id, name, version)


@router.patch(
    "/models/{name}/versions/{version}", response_model=ModelVersion, responses=_NOT_FOUND
)
async def update_model_version(
    name: str,
    version: str,
    body: ModelUpdate,
    tenant_id: TenantDep,
    registry: RegistryDep,
    actor: ActorDep = "unknown",
) -> ModelVersion:
    """Change a version's description or tags."""
    return await asyncio.to_thread(registry.update_version, tenant_id, name, version, body, actor)


@router.delete(
    "/models/{name}/versions/{version}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_NOT_FOUND | _CONFLICT,
)
async def delete_model_version(
    name: str,
    version: str,
    tenant_id: TenantDep,
    registry: RegistryDep,
    actor: ActorDep = "unknown",
) -> Response:
    """Delete a version (409 while it is in Production)."""
    await asyncio.to_thread(registry.delete_version, tenant_id, name, version, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/models/{name}/versions/{version}/stage", response_model=ModelVersion, responses=_NOT_FOUND
)
async def transition_model_version_stage(
    name: str,
    version: str,
    body: StageChange,
    tenant_id: TenantDep,
    registry: RegistryDep,
    actor: ActorDep = "unknown",
) -> ModelVersion:
    """Move a version to a stage; promoting to Production archives the previous one."""
    return await asyncio.to_thread(registry.transition, tenant_id, name, version, body, actor)


@router.put("/models/{name}/aliases/{alias}", response_model=RegisteredModel, responses=_NOT_FOUND)
async def set_model_alias(
    name: str,
    alias: str,
    body: AliasAssignment,
    tenant_id: TenantDep,
    registry: RegistryDep,
    actor: ActorDep = "unknown",
) -> RegisteredModel:
    """Point a free alias (champion, challenger...) at a version."""
    return await asyncio.to_thread(registry.set_alias, tenant_id, name, alias, body.version, actor)


@router.delete(
    "/models/{name}/aliases/{alias}", response_model=RegisteredModel, responses=_NOT_FOUND
)
async def delete_model_alias(
    name: str,
    alias: str,
    tenant_id: TenantDep,
    registry: RegistryDep,
    actor: ActorDep = "unknown",
) -> RegisteredModel:
    """Remove a free alias."""
    return await asyncio.to_thread(registry.delete_alias, tenant_id, name, alias, actor)


@router.get("/models/{name}/audit", response_model=AuditTrail, responses=_NOT_FOUND)
async def get_model_audit_trail(
    name: str, tenant_id: TenantDep, registry: RegistryDep
) -> AuditTrail:
    """Every registration, stage change, alias change and deletion, oldest first."""
    return await asyncio.to_thread(registry.audit_trail, tenant_id, name)
