"""Dataset endpoints: describe a query or table, list, upload, describe and delete tables."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.datasets import sql
from app.datasets.schemas import (
    DatasetSchema,
    DatasetSource,
    TableDeletion,
    TableDetail,
    TableInfo,
    UploadedTable,
)
from app.datasets.upload import (
    csv_options,
    receive_upload,
    upload_format,
    upload_options,
    upload_request_body,
)
from app.datasets.warehouse import UPLOAD_SCHEMA, WAREHOUSE_RESPONSES
from app.deps import SettingsDep, TenantDep, WarehouseDep
from app.errors import ERROR_RESPONSES, ErrorResponse

router = APIRouter(
    prefix="/api/v1/datasets",
    tags=["datasets"],
    responses=ERROR_RESPONSES | WAREHOUSE_RESPONSES,
)

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "no such table for this tenant"}}


@router.post("/schema", response_model=DatasetSchema)
async def describe_dataset(
    source: DatasetSource, tenant_id: TenantDep, warehouses: WarehouseDep
) -> DatasetSchema:
    """Row count and per-column type, kind, distinct and null counts of a query or table."""
    return await warehouses.offload(warehouses.describe, tenant_id, source, "")


@router.get("/tables", response_model=list[TableInfo])
async def list_dataset_tables(tenant_id: TenantDep, warehouses: WarehouseDep) -> list[TableInfo]:
    """The tables of the tenant's warehouse with their columns."""
    return await warehouses.offload(warehouses.list_tables, tenant_id)


@router.post(
    "/tables",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadedTable,
    openapi_extra={"requestBody": upload_request_body()},
    responses={
        409: {"model": ErrorResponse, "description": "the table exists and if_exists is `fail`"},
        413: {"model": ErrorResponse, "description": "the file is larger than the limit"},
    },
)
async def upload_dataset_table(
    request: Request,
    tenant_id: TenantDep,
    warehouses: WarehouseDep,
    settings: SettingsDep,
    max_bytes: Annotated[
        int | None,
        Query(ge=1, description="largest accepted file in bytes; can only lower the service's own"),
    ] = None,
) -> UploadedTable:
    """Load a CSV or Parquet file into the tenant's warehouse as `uploads.<table>`.

    The file is streamed to disk (reading stops past the limit), loaded in one transaction, and
    removed afterwards; a malformed file leaves no table behind. The answer shows the table as
    read (schema, first rows) and every column stored as another type than the file's text, with
    why; two-label columns (Yes/No) stay text and dates in an ambiguous day/month order stay text.
    """
    limit = min(settings.max_upload_bytes, max_bytes or settings.max_upload_bytes)
    upload = await receive_upload(request, settings.uploads_tmp_dir, limit)
    try:
        options = upload_options(upload.fields)
        table = sql.upload_table_name(options.table, "table")
        file_format = upload_format(upload, options)
        return await warehouses.offload(
            warehouses.import_file,
            tenant_id,
            upload.path,
            upload.filename,
            table,
            file_format,
            options.if_exists == "replace",
            csv_options(upload, options),
        )
    finally:
        upload.discard()


@router.get("/tables/{table}", response_model=TableDetail, responses=_NOT_FOUND)
async def get_dataset_table(
    table: str, tenant_id: TenantDep, warehouses: WarehouseDep
) -> TableDetail:
    """One table with row count and column statistics; a bare name means `uploads.<name>`."""
    schema_name, name = sql.table_path_parts(table, UPLOAD_SCHEMA)
    return await warehouses.offload(warehouses.describe_table, tenant_id, schema_name, name)


@router.delete(
    "/tables/{table}",
    response_model=TableDeletion,
    responses=_NOT_FOUND
    | {403: {"model": ErrorResponse, "description": "neither an upload nor a batch output"}},
)
async def delete_dataset_table(
    table: str, tenant_id: TenantDep, warehouses: WarehouseDep
) -> TableDeletion:
    """Drop an uploaded table (schema `uploads`) or a batch prediction output (`predictions`);
    other tables cannot be deleted."""
    schema_name, name = sql.table_path_parts(table, UPLOAD_SCHEMA)
    await warehouses.offload(warehouses.delete_upload, tenant_id, schema_name, name)
    return TableDeletion(deleted=f"{schema_name}.{name}")
