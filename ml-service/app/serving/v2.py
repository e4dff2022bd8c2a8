"""Open Inference Protocol (KServe v2) over the same deployments; the tenant is X-Tenant-ID.

A v2 model name is a deployment's `model_id`, a v2 model version one of its served versions.
Inputs are columns (`{"name", "shape", "datatype", "data"}`), turned into records and run
through the same predict path, so the same signature checks apply. What follows the protocol
rather than the rest of this API (https://kserve.github.io/website/docs/concepts/architecture/
data-plane/v2-protocol): errors are `{"error": "..."}` (see app/errors.py), readiness that is
false is a 400, an infer body without a `Content-Type` is read as JSON (stock clients such as
tritonclient send none), and `outputs` in the request selects the outputs returned.
"""

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app import __version__
from app.deps import TenantDep
from app.errors import V2_ERROR_RESPONSES, FieldError, V2ErrorResponse
from app.serving.model import PredictionInputError
from app.serving.schemas import MODEL_ID_PATTERN
from app.serving.service import LiveDeployment, ServingService

# strict_content_type=False: an infer body without a Content-Type is read as JSON.
router = APIRouter(
    prefix="/v2",
    tags=["inference-v2"],
    responses=V2_ERROR_RESPONSES,
    strict_content_type=False,
)
_NOT_FOUND = {404: {"model": V2ErrorResponse, "description": "unknown, or another tenant's"}}
_NOT_READY = {
    400: {"model": V2ErrorResponse, "description": "not ready, or a malformed X-Tenant-ID"}
}
_UNAVAILABLE = {
    503: {
        "model": V2ErrorResponse,
        "description": "replicas not running (yet), or at capacity (then with Retry-After)",
    }
}

ModelName = Annotated[str, Path(pattern=MODEL_ID_PATTERN, description="the deployment's model_id")]
ModelVersion = Annotated[str, Path(pattern=r"^[0-9]{1,9}$", description="a registry version")]
# Signature types (MLflow's) → v2 datatypes, and the datatypes an input of each may arrive in:
# a number may come as any numeric tensor, a boolean as BOOL or an integer 0/1.
_DATATYPES = {"string": "BYTES", "double": "FP64", "float": "FP32", "integer": "INT32",
              "long": "INT64", "boolean": "BOOL"}  # fmt: skip
_NUMERIC = {"FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64",
            "UINT8", "UINT16", "UINT32", "UINT64"}  # fmt: skip
_ACCEPTED = {"string": {"BYTES"}, "boolean": {"BOOL"} | (_NUMERIC - {"FP16", "FP32", "FP64"})}


async def _serving(request: Request) -> ServingService:
    return request.app.state.serving


ServingDep = Annotated[ServingService, Depends(_serving)]


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class InferInput(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    shape: list[int] = Field(description="[rows] or [rows, 1]; one feature per input")
    datatype: str
    data: list[Any]


class RequestedOutput(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    inputs: list[InferInput] = Field(min_length=1)
    outputs: list[RequestedOutput] | None = Field(
        default=None, description="the outputs to return (all when absent)"
    )


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


def _class_datatype(classes: list[Any] | None) -> str:
    """The v2 datatype of the `class` output: what the target's values are, as trained."""
    values = classes or []
    if values and all(isinstance(value, bool) for value in values):
        return "BOOL"
    if values and all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return "INT64"
    if values and all(isinstance(value, int | float) for value in values):
        return "FP64"
    return "BYTES"


def _outputs(live: LiveDeployment, version: str) -> list[TensorMetadata]:
    spec = live.spec(version)
    if spec.task_type == "classification":
        tensors = [("class", _class_datatype(spec.classes)), ("score", "FP64")]
    else:
        tensors = [("value", "FP64")]
    tensors.append(("prediction_id", "BYTES"))
    return [TensorMetadata(name=name, datatype=kind, shape=[-1]) for name, kind in tensors]


def _metadata(
    service: ServingService, tenant_id: str, name: str, version: str | None
) -> ModelMetadata:
    deployment = service.get(tenant_id, name)
    served = service.serving_version(tenant_id, name, version)
    live = service.live(tenant_id, name)
    return ModelMetadata(
        name=name,
        versions=[variant.version for variant in deployment.variants],
        platform="mlflow_pyfunc",
        inputs=[
            TensorMetadata(name=item.name, datatype=_DATATYPES.get(item.type, "BYTES"), shape=[-1])
            for item in deployment.inputs
        ],
        outputs=_outputs(live, served),
    )


def _readiness(
    service: ServingService, tenant_id: str, name: str, version: str | None
) -> JSONResponse:
    deployment = service.get(tenant_id, name)
    if version is None:
        ready, reason = deployment.status == "healthy", deployment.reason
    else:
        variant = next((item for item in deployment.variants if item.version == version), None)
        if variant is None:
            service.serving_version(tenant_id, name, version)  # 404 when never served
            return JSONResponse(
                status_code=400, content={"error": f"{name} version {version} receives no traffic"}
            )
        ready, reason = variant.status == "healthy", variant.reason
    if ready:
        return JSONResponse(status_code=200, content={"name": name, "ready": True})
    return JSONResponse(
        status_code=400, content={"error": f"{name} is not ready: {reason or 'starting'}"}
    )


def _input_problems(body: InferRequest, types: dict[str, str]) -> list[FieldError]:
    problems: list[FieldError] = []
    for index, item in enumerate(body.inputs):
        where = f"inputs.{index}"
        if len(item.shape) not in (1, 2) or (len(item.shape) == 2 and item.shape[1] != 1):
            problems.append(
                FieldError(field=f"{where}.shape", message="must be [rows] or [rows, 1]")
            )
        elif math.prod(item.shape) != len(item.data):
            problems.append(
                FieldError(
                    field=f"{where}.shape",
                    message=f"{item.shape} holds {math.prod(item.shape)} values, "
                    f"data has {len(item.data)}",
                )
            )
        kind = types.get(item.name)
        accepted = _ACCEPTED.get(kind, _NUMERIC) if kind is not None else None
        if accepted is not None and item.datatype not in accepted:
            problems.append(
                FieldError(
                    field=f"{where}.datatype",
                    message=f"{item.name} is {kind}: one of {', '.join(sorted(accepted))}",
                )
            )
    return problems


@router.get("", response_model=ServerMetadata)
async def v2_server_metadata() -> ServerMetadata:
    """Server name, version and protocol extensions (none)."""
    return ServerMetadata(name="ml-service", version=__version__, extensions=[])


@router.get("/health/live", response_model=ServerLiveness)
async def v2_live() -> ServerLiveness:
    """The process answers."""
    return ServerLiveness(live=True)


@router.get(
    "/health/ready",
    response_model=ServerReadiness,
    responses={400: {"model": ServerReadiness, "description": "not ready (Ray not connected)"}},
)
async def v2_ready(request: Request) -> JSONResponse:
    """200 when the service has started (Ray connected, stores open); 400 otherwise, as the
    protocol says readiness that is false is a 4xx."""
    ready = bool(getattr(request.app.state, "ray_connected", False))
    return JSONResponse(status_code=200 if ready else 400, content={"ready": ready})


@router.get("/models/{name}", response_model=ModelMetadata, responses=_NOT_FOUND)
async def v2_model_metadata(
    name: ModelName, tenant_id: TenantDep, service: ServingDep
) -> ModelMetadata:
    """Inputs from the signature; outputs by task type, of the version with most traffic."""
    return _metadata(service, tenant_id, name, None)


@router.get(
    "/models/{name}/versions/{version}", response_model=ModelMetadata, responses=_NOT_FOUND
)
async def v2_model_version_metadata(
    name: ModelName, version: ModelVersion, tenant_id: TenantDep, service: ServingDep
) -> ModelMetadata:
    """As the model's metadata, for a version the deployment served (else 404)."""
    return _metadata(service, tenant_id, name, version)


@router.get(
    "/models/{name}/ready", response_model=ModelReadiness, responses=_NOT_FOUND | _NOT_READY
)
async def v2_model_ready(
    name: ModelName, tenant_id: TenantDep, service: ServingDep
) -> JSONResponse:
    """200 when every variant with traffic has running replicas, 400 naming why otherwise."""
    return _readiness(service, tenant_id, name, None)


@router.get(
    "/models/{name}/versions/{version}/ready",
    response_model=ModelReadiness,
    responses=_NOT_FOUND | _NOT_READY,
)
async def v2_model_version_ready(
    name: ModelName, version: ModelVersion, tenant_id: TenantDep, service: ServingDep
) -> JSONResponse:
    """200 when the version receives traffic and runs; 400 otherwise; 404 if never served."""
    return _readiness(service, tenant_id, name, version)


async def _infer(
    name: str, version: str | None, body: InferRequest, tenant_id: str, service: ServingService
) -> InferResponse:
    deployment = service.get(tenant_id, name)
    problems = _input_problems(body, {item.name: item.type for item in deployment.inputs})
    if len({len(item.data) for item in body.inputs}) != 1:
        problems.append(
            FieldError(field="inputs", message="every input must hold the same number of rows")
        )
    if problems:
        raise PredictionInputError(problems)
    count = len(body.inputs[0].data)
    records = [{item.name: item.data[row] for item in body.inputs} for row in range(count)]
    result = await service.predict(tenant_id, name, {"instances": records}, body.id, version)
    live = service.live(tenant_id, name)
    kinds = {tensor.name: tensor.datatype for tensor in _outputs(live, result["version"])}
    wanted = [item.name for item in body.outputs] if body.outputs else list(kinds)
    unknown = [
        FieldError(
            field=f"outputs.{index}.name", message=f"not an output: one of {', '.join(kinds)}"
        )
        for index, output in enumerate(wanted)
        if output not in kinds
    ]
    if unknown:
        raise PredictionInputError(unknown)
    predictions = result["predictions"]
    return InferResponse(
        model_name=name,
        model_version=result["version"],
        id=body.id,
        outputs=[
            InferOutput(
                name=output,
                datatype=kinds[output],
                shape=[count],
                data=[prediction[output] for prediction in predictions],
            )
            for output in wanted
        ],
    )


@router.post(
    "/models/{name}/infer", response_model=InferResponse, responses=_NOT_FOUND | _UNAVAILABLE
)
async def v2_infer(
    name: ModelName, body: InferRequest, tenant_id: TenantDep, service: ServingDep
) -> InferResponse:
    """Columns in, columns out; `prediction_id` is returned for feedback. The body's `id` pins
    the A/B variant as X-Request-Key does."""
    return await _infer(name, None, body, tenant_id, service)


@router.post(
    "/models/{name}/versions/{version}/infer",
    response_model=InferResponse,
    responses=_NOT_FOUND | _UNAVAILABLE,
)
async def v2_version_infer(
    name: ModelName,
    version: ModelVersion,
    body: InferRequest,
    tenant_id: TenantDep,
    service: ServingDep,
) -> InferResponse:
    """As infer, answered by the named version (404 when the deployment does not serve it)."""
    return await _infer(name, version, body, tenant_id, service)
