"""Open Inference Protocol (KServe v2) over the same deployments; the tenant is X-Tenant-ID.

A v2 model name is a deployment's `model_id`. Inputs are columns (`{"name", "shape",
"datatype", "data"}`), turned into records and run through the same predict path.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.deps import TenantDep
from app.errors import ERROR_RESPONSES, FieldError
from app.serving.schemas import MODEL_ID_PATTERN
from app.serving.service import PredictionInputError, ServingService

router = APIRouter(prefix="/v2", tags=["inference-v2"], responses=ERROR_RESPONSES)

ModelName = Annotated[str, Path(pattern=MODEL_ID_PATTERN, description="the deployment's model_id")]
_DATATYPES = {"string": "BYTES", "double": "FP64", "float": "FP32", "integer": "INT32",
              "long": "INT64", "boolean": "BOOL"}  # fmt: skip


async def _serving(request: Request) -> ServingService:
    return request.app.state.serving


ServingDep = Annotated[ServingService, Depends(_serving)]


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class InferInput(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    shape: list[int]
    datatype: str
    data: list[Any]


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    inputs: list[InferInput] = Field(min_length=1)


class InferOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    data: list[Any]


class InferResponse(BaseModel):
    model_name: str
    model_version: str
    id: str | None = None
    outputs: list[InferOutput]


class ServerLiveness(BaseModel):
    live: bool


class ServerReadiness(BaseModel):
    ready: bool


class ModelReadiness(BaseModel):
    name: str
    ready: bool


@router.get("/health/live", response_model=ServerLiveness)
async def v2_live() -> ServerLiveness:
    """The process answers."""
    return ServerLiveness(live=True)


@router.get("/health/ready", response_model=ServerReadiness)
async def v2_ready(request: Request) -> ServerReadiness:
    """The service has started (Ray connected, stores open)."""
    return ServerReadiness(ready=bool(getattr(request.app.state, "ray_connected", False)))


@router.get("/models/{name}", response_model=ModelMetadata)
async def v2_model_metadata(
    name: ModelName, tenant_id: TenantDep, service: ServingDep
) -> ModelMetadata:
    """Inputs from the serving version's signature; outputs by task type."""
    deployment = service.get(tenant_id, name)
    outputs = (
        [TensorMetadata(name="class", datatype="BYTES", shape=[-1]),
         TensorMetadata(name="score", datatype="FP64", shape=[-1])]
        if deployment.task_type == "classification"
        else [TensorMetadata(name="value", datatype="FP64", shape=[-1])]
    ) + [TensorMetadata(name="prediction_id", datatype="BYTES", shape=[-1])]  # fmt: skip
    return ModelMetadata(
        name=name,
        versions=[variant.version for variant in deployment.variants],
        platform="mlflow_pyfunc",
        inputs=[
            TensorMetadata(name=item.name, datatype=_DATATYPES.get(item.type, "BYTES"), shape=[-1])
            for item in deployment.inputs
        ],
        outputs=outputs,
    )


@router.get("/models/{name}/ready", response_model=ModelReadiness)
async def v2_model_ready(
    name: ModelName, tenant_id: TenantDep, service: ServingDep
) -> JSONResponse:
    """200 when every variant with traffic has running replicas, 503 otherwise."""
    ready = service.get(tenant_id, name).status == "healthy"
    return JSONResponse(status_code=200 if ready else 503, content={"name": name, "ready": ready})


@router.post("/models/{name}/infer", response_model=InferResponse)
async def v2_infer(
    name: ModelName, body: InferRequest, tenant_id: TenantDep, service: ServingDep
) -> InferResponse:
    """Columns in, columns out; `prediction_id` is returned for feedback."""
    rows = {len(item.data) for item in body.inputs}
    if len(rows) != 1:
        raise PredictionInputError(
            [FieldError(field="inputs", message="every input must hold the same number of rows")]
        )
    count = rows.pop()
    records = [{item.name: item.data[row] for item in body.inputs} for row in range(count)]
    result = await service.predict(tenant_id, name, {"instances": records}, body.id)
    predictions = result["predictions"]
    if service.task_type(tenant_id, name) == "classification":
        columns = [("class", "BYTES", [p["class"] for p in predictions]),
                   ("score", "FP64", [p["score"] for p in predictions])]  # fmt: skip
    else:
        columns = [("value", "FP64", [p["value"] for p in predictions])]
    columns.append(("prediction_id", "BYTES", [p["prediction_id"] for p in predictions]))
    return InferResponse(
        model_name=name,
        model_version=result["version"],
        id=body.id,
        outputs=[
            InferOutput(name=column, datatype=kind, shape=[count], data=data)
            for column, kind, data in columns
        ],
    )
