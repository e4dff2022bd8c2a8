"""Liveness (the process answers) and readiness (Ray, job store, MLflow, warehouses)."""

import asyncio
import logging
from collections.abc import Callable
from typing import Literal

import ray
from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/health", tags=["health"])

CheckState = Literal["up", "down"]


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, CheckState]


@router.get("/live", response_model=Liveness)
async def get_liveness() -> Liveness:
    return Liveness(status="ok")


async def _check(name: str, probe: Callable[[], None] | None) -> CheckState:
    if probe is None:
        return "down"
    try:
        await asyncio.wait_for(asyncio.to_thread(probe), timeout=5)
    except Exception as error:
        logger.warning("readiness check %s failed: %s", name, error)
        return "down"
    return "up"


def _ray_probe() -> None:
    if not ray.is_initialized():
        raise RuntimeError("Ray is not initialised")


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "a dependency is down"}},
)
async def get_readiness(request: Request, response: Response) -> Readiness:
    state = request.app.state
    job_store = getattr(state, "job_store", None)
    tracking = getattr(state, "tracking", None)
    warehouses = getattr(state, "warehouses", None)
    started = getattr(state, "ray_connected", False)
    checks = {
        "ray": await _check("ray", _ray_probe if started else None),
        "job_store": await _check("job_store", job_store.ping if job_store else None),
        "mlflow": await _check("mlflow", tracking.ping if tracking else None),
        "warehouses": await _check("warehouses", warehouses.ping if warehouses else None),
    }
    ready = all(value == "up" for value in checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(status="ready" if ready else "not_ready", checks=checks)
