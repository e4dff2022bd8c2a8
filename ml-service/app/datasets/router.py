"""Dataset endpoints: describe a query or table, list the tenant's tables."""

import asyncio

from fastapi import APIRouter

from app.datasets.schemas import DatasetSchema, DatasetSource, TableInfo
from app.deps import TenantDep, WarehouseDep
from app.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"], responses=ERROR_RESPONSES)


@router.post("/schema", response_model=DatasetSchema)
async def describe_dataset(
    source: DatasetSource, tenant_id: TenantDep, warehouses: WarehouseDep
) -> DatasetSchema:
    """Row count and per-column type, kind, distinct and null counts of a query or table."""
    return await asyncio.to_thread(warehouses.describe, tenant_id, source, "")


@router.get("/tables", response_model=list[TableInfo])
async def list_dataset_tables(tenant_id: TenantDep, warehouses: WarehouseDep) -> list[TableInfo]:
    """The tables of the tenant's warehouse with their columns."""
    return await asyncio.to_thread(warehouses.list_tables, tenant_id)
