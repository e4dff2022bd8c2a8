"""Prometheus metrics of the ML Service, served at GET /metrics.

Labels use route templates (`/api/v1/serving/{model_id}/predict`), never raw paths, so the
number of series stays bounded; per-model series live in `app.serving.service`.
"""

import time

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class HttpMetricsMiddleware:
    """Plain ASGI (not `@app.middleware`), so timing costs no extra task per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            # the router stores the matched route in the (shared) scope
            template = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )
