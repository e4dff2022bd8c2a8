"""Prometheus metrics of the ML Service, served at GET /metrics.

Labels use route templates (`/api/v1/serving/{model_id}/predict`), never raw paths, so the
number of series stays bounded; per-model series live in `app.serving.service`.
"""

import time

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

HTTP_REQUESTS = Histogram(
    "mls_http_request_duration_seconds",
    "HTTP requests handled by the ML Service",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PREDICTIONS = Counter(
    "mls_predictions_total",
    "Records predicted by served models",
    ["tenant_id", "model_id", "version", "outcome"],
)
PREDICTION_LATENCY = Histogram(
    "mls_prediction_latency_seconds",
    "Time of one predict call to a model's replicas",
    ["tenant_id", "model_id", "version"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def http_metrics_middleware(request: Request, call_next) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    HTTP_REQUESTS.labels(request.method, template, str(response.status_code)).observe(
        time.perf_counter() - started
    )
    return response
