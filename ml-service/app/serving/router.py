"""Serving endpoints: deployments, predict, feedback, metrics, drift, A/B and releases."""

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response, status

from app.deps import TenantDep
from app.errors import ERROR_RESPONSES, ErrorResponse, InvalidFieldError
from app.serving.batch import BatchPredictor, batch_response
from app.serving.monitoring import (
    KS_P_VALUE_ALERT,
    KS_STATISTIC_ALERT,
    MIN_DRIFT_ROWS,
    PSI_ALERT,
    feature_drift,
)
from app.serving.schemas import (
    MODEL_ID_PATTERN,
    BatchPrediction,
    BatchPredictionCreate,
    Deployment,
    DeploymentCreate,
    DeploymentList,
    DriftReport,
    FeatureDrift,
    FeedbackItem,
    FeedbackResult,
    PredictResponse,
    Release,
    ReplicaTargets,
    ServingMetrics,
    TrafficSplit,
    VariantMetrics,
)
from app.serving.service import ServingService, window_seconds

router = APIRouter(prefix="/api/v1/serving", tags=["serving"], responses=ERROR_RESPONSES)

ModelIdPath = Annotated[str, Path(pattern=MODEL_ID_PATTERN, description="deployment id")]
_NOT_FOUND = {404: {"model": ErrorResponse, "description": "unknown, or another tenant's"}}
_UNAVAILABLE = {503: {"model": ErrorResponse, "description": "replicas not running (yet)"}}
_PREDICT_UNAVAILABLE = {
    503: {
        "model": ErrorResponse,
        "description": "replicas not running (yet), or at capacity (then with Retry-After)",
    }
}
PREDICT_EXAMPLES = {
    "single": {
        "summary": "one customer",
        "value": {
            "tenure_months": 3,
            "monthly_charges": 89.5,
            "total_charges": 268.5,
            "contract_type": "month-to-month",
        },
    },
    "instances": {
        "summary": "several customers",
        "value": {
            "instances": [
                {"tenure_months": 3, "monthly_charges": 89.5, "total_charges": 268.5,
                 "contract_type": "month-to-month"},
                {"tenure_months": 48, "monthly_charges": 45.0, "total_charges": 2160.0,
                 "contract_type": "two-year"},
            ]
        },
    },
    "entities": {
        "summary": "by entity key (a model trained on a feature set)",
        "value": {"entities": {"customer_id": ["CUST-00001", "CUST-00002"]}},
    },
}  # fmt: skip


async def serving(request: Request) -> ServingService:
    return request.app.state.serving


async def batches(request: Request) -> BatchPredictor:
    return request.app.state.batches


ServingDep = Annotated[ServingService, Depends(serving)]
BatchDep = Annotated[BatchPredictor, Depends(batches)]


@router.post(
    "/deployments",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Deployment,
    responses=_NOT_FOUND
    | {409: {"model": ErrorResponse, "description": "the id is taken, or no signature"}},
)
async def create_deployment(
    body: DeploymentCreate, tenant_id: TenantDep, service: ServingDep
) -> Deployment:
    """Deploy a registry version on Ray Serve; poll GET until `status` is healthy."""
    return await service.deploy(tenant_id, body)


@router.get("/deployments", response_model=DeploymentList)
async def list_deployments(tenant_id: TenantDep, service: ServingDep) -> DeploymentList:
    """The tenant's deployments with their variants and status."""
    return DeploymentList(deployments=service.list_deployments(tenant_id))


@router.get("/deployments/{model_id}", response_model=Deployment, responses=_NOT_FOUND)
async def get_deployment(
    model_id: ModelIdPath, tenant_id: TenantDep, service: ServingDep
) -> Deployment:
    """One deployment: status (deploying, healthy, unhealthy with a reason) and variants."""
    return service.get(tenant_id, model_id)


@router.delete(
    "/deployments/{model_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND
)
async def delete_deployment(
    model_id: ModelIdPath, tenant_id: TenantDep, service: ServingDep
) -> Response:
    """Undeploy: stop every Serve application of the deployment and forget its spec."""
    await service.undeploy(tenant_id, model_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchPrediction,
    responses=_NOT_FOUND | {200: {"model": BatchPrediction, "description": "idempotent repeat"}},
)
async def create_batch_prediction(
    body: BatchPredictionCreate,
    tenant_id: TenantDep,
    service: ServingDep,
    batches: BatchDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="same tenant + same key returns the same batch instead of a new one",
        ),
    ] = None,
) -> BatchPrediction:
    """Predict every row of a SQL source or table into `predictions.<output_table>`."""
    spec = await service.batch_spec(tenant_id, body)
    record, created = await batches.submit(tenant_id, body, spec, idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return batch_response(record)


_BATCH_ID = Annotated[str, Path(pattern=r"^batch-[0-9a-f]{12}$")]


@router.get("/batch/{batch_id}", response_model=BatchPrediction, responses=_NOT_FOUND)
async def get_batch_prediction(
    batch_id: _BATCH_ID, tenant_id: TenantDep, batches: BatchDep
) -> BatchPrediction:
    """Progress and row counts of a batch prediction."""
    return batch_response(await batches.jobs.get(tenant_id, batch_id))


@router.delete(
    "/batch/{batch_id}",
    response_model=BatchPrediction,
    responses=_NOT_FOUND | {409: {"model": ErrorResponse, "description": "the batch ended"}},
)
async def cancel_batch_prediction(
    batch_id: _BATCH_ID, tenant_id: TenantDep, batches: BatchDep
) -> BatchPrediction:
    """Cancel a queued or running batch; it stops before its next chunk and writes no table."""
    return batch_response(await batches.jobs.cancel(tenant_id, batch_id))


@router.post(
    "/{model_id}/predict",
    response_model=PredictResponse,
    responses=_NOT_FOUND | _PREDICT_UNAVAILABLE,
)
async def predict(
    model_id: ModelIdPath,
    tenant_id: TenantDep,
    service: ServingDep,
    body: Annotated[dict[str, Any], Body(openapi_examples=PREDICT_EXAMPLES)],
    x_request_key: Annotated[
        str | None,
        Header(max_length=200, description="the same key always reaches the same A/B variant"),
    ] = None,
) -> Response:
    """One feature record or `{"instances": [...]}`; input checked against the signature. A model
    trained on a feature set also takes `{"entities": {<join key>: [values]}}`: its features are
    looked up online in that feature set version (422 naming each entity without values, 409 if
    the version was never materialised)."""
    result = await service.predict(tenant_id, model_id, body, x_request_key)
    # serialised here: the outputs are plain JSON already, a response model would copy them
    return Response(content=json.dumps(result), media_type="application/json")


@router.get(
    "/{model_id}/targets",
    response_model=ReplicaTargets,
    responses=_NOT_FOUND
    | {409: {"model": ErrorResponse, "description": "predictions must come through here"}},
)
async def get_replica_targets(
    model_id: ModelIdPath, tenant_id: TenantDep, service: ServingDep
) -> ReplicaTargets:
    """Where the deployment's replicas answer `POST <url>/predict` themselves (Ray Serve's direct
    ingress), with the same token, tenant and signature checks and the same answer as this
    service's predict: the AI Service's fast path for a deployment whose traffic all goes to one
    version. 409 with the reason otherwise (embedded runtime, A/B split, forecaster, starting)."""
    return await service.replica_targets(tenant_id, model_id)


@router.post("/{model_id}/feedback", response_model=FeedbackResult, responses=_NOT_FOUND)
async def record_feedback(
    model_id: ModelIdPath,
    body: Annotated[list[FeedbackItem], Body(max_length=10_000)],
    tenant_id: TenantDep,
    service: ServingDep,
) -> FeedbackResult:
    """Ground truth for logged predictions: `[{prediction_id, actual}]`; `actual` is one of
    the model's classes (in the target's own values) or, for regression, a number."""
    service.check_feedback(tenant_id, model_id, [item.actual for item in body])
    recorded, unknown = await asyncio.to_thread(
        service.monitoring.add_feedback,
        tenant_id,
        model_id,
        [(item.prediction_id, item.actual) for item in body],
    )
    return FeedbackResult(recorded=recorded, unknown_prediction_ids=unknown)


@router.get("/{model_id}/metrics", response_model=ServingMetrics, responses=_NOT_FOUND)
async def get_serving_metrics(
    model_id: ModelIdPath,
    tenant_id: TenantDep,
    service: ServingDep,
    window: Annotated[str, Query(max_length=8, description="e.g. 15m, 1h, 7d")] = "1h",
) -> ServingMetrics:
    """Live accuracy (or RMSE/MAE) over feedback, latency percentiles, throughput, errors,
    per variant."""
    seconds = window_seconds(window)
    task_type = service.task_type(tenant_id, model_id)
    per_variant = await asyncio.to_thread(
        service.monitoring.metrics, tenant_id, model_id, seconds, task_type
    )
    return ServingMetrics(
        model_id=model_id,
        window=window,
        task_type=task_type,
        variants=[VariantMetrics(version=v, **values) for v, values in per_variant.items()],
    )


@router.get("/{model_id}/drift", response_model=DriftReport, responses=_NOT_FOUND)
async def get_drift(
    model_id: ModelIdPath,
    tenant_id: TenantDep,
    service: ServingDep,
    window: Annotated[str, Query(max_length=8)] = "1h",
    version: Annotated[str | None, Query(pattern=r"^[1-9][0-9]{0,9}$")] = None,
) -> DriftReport:
    """Per feature PSI and KS of logged inputs in the window against the training split."""
    seconds = window_seconds(window)
    chosen = service.serving_version(tenant_id, model_id, version)
    reference = await asyncio.to_thread(service.monitoring.reference, tenant_id, model_id, chosen)
    if reference is None:
        raise InvalidFieldError("version", f"no training reference for version {chosen}")
    rows = await asyncio.to_thread(
        service.monitoring.logged_inputs, tenant_id, model_id, chosen, seconds
    )
    features = await asyncio.to_thread(feature_drift, reference, rows)
    alerts = [
        f"{item['feature']}: PSI {item['psi']:.3f}"
        + (
            f", KS {item['ks_statistic']:.3f} (p={item['ks_p_value']:.2g})"
            if item["ks_statistic"] is not None
            else ""
        )
        for item in features
        if item["drifted"]
    ]
    return DriftReport(
        model_id=model_id,
        version=chosen,
        window=window,
        rows=len(rows),
        thresholds={
            "psi": PSI_ALERT,
            "ks_p_value": KS_P_VALUE_ALERT,
            "ks_statistic": KS_STATISTIC_ALERT,
            "min_rows": MIN_DRIFT_ROWS,
        },
        features=[FeatureDrift(**item) for item in features],
        alerts=alerts,
    )


@router.put("/{model_id}/traffic", response_model=Deployment, responses=_NOT_FOUND | _UNAVAILABLE)
async def set_traffic(
    model_id: ModelIdPath, body: TrafficSplit, tenant_id: TenantDep, service: ServingDep
) -> Deployment:
    """A/B split between versions by weight; versions not yet running are deployed first."""
    return await service.set_traffic(tenant_id, model_id, body)


@router.post("/{model_id}/release", response_model=Deployment, responses=_NOT_FOUND | _UNAVAILABLE)
async def release_version(
    model_id: ModelIdPath, body: Release, tenant_id: TenantDep, service: ServingDep
) -> Deployment:
    """Blue-green: start the version, switch all traffic to it, keep the old one warm."""
    return await service.release(tenant_id, model_id, body)


@router.post(
    "/{model_id}/rollback",
    response_model=Deployment,
    responses=_NOT_FOUND | {409: {"model": ErrorResponse, "description": "nothing to roll back"}},
)
async def rollback_deployment(
    model_id: ModelIdPath, tenant_id: TenantDep, service: ServingDep
) -> Deployment:
    """Return to the previous traffic split in one call (its replicas are still warm)."""
    return await service.rollback(tenant_id, model_id)
