"""The FastAPI application and its lifecycle."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import mlflow
import ray
from fastapi import FastAPI
from fastapi.routing import APIRoute

from app import __version__
from app.auth import OPEN_PATHS, ServiceTokenMiddleware, service_token
from app.config import Settings, load_settings
from app.datasets.demo_data import seed_demo_warehouse
from app.datasets.router import router as datasets_router
from app.datasets.upload import remove_stale_uploads
from app.datasets.warehouse import WarehouseManager
from app.eda.router import router as eda_router
from app.eda.service import EdaService, ProfileJobs, ProfilingHandler
from app.eda.store import EdaStore
from app.errors import (
    ErrorResponse,
    V2ErrorResponse,
    add_server_folder,
    install_error_handlers,
    is_inference_v2_path,
)
from app.features.feast_process import FeastProcess
from app.features.importance import FeatureImportanceService
from app.features.materialization import MaterializationHandler, MaterializationJobs
from app.features.router import router as features_router
from app.features.service import FeatureSetService
from app.features.store import FeatureSetStore
from app.health.router import router as health_router
from app.jobs.router import router as jobs_router
from app.jobs.runner import RESTART_ERROR, JobRunner
from app.jobs.store import JobStore
from app.logging import RequestContextMiddleware, configure_logging
from app.metrics import HttpMetricsMiddleware
from app.metrics import router as metrics_router
from app.ray_runtime import connect_ray
from app.registry.audit import AuditLog
from app.registry.router import router as registry_router
from app.registry.service import RegistryService
from app.serving.batch import BatchPredictionHandler, BatchPredictor
from app.serving.monitoring import MonitoringStore
from app.serving.router import router as serving_router
from app.serving.service import ServingService
from app.serving.store import DeploymentStore
from app.serving.timing import ServerTimingMiddleware
from app.serving.v2 import router as inference_v2_router
from app.tracking.mlflow_setup import Tracking
from app.tracking.router import router as tracking_router
from app.tracking.service import TrackingService
from app.training.router import router as training_router
from app.training.service import TrainingHandler, TrainingService
from app.training.warm import WarmPool
from app.tuning.router import router as tuning_router
from app.tuning.service import TuningHandler, TuningService
from app.tuning.sweep import LiveSweeps

logger = logging.getLogger(__name__)


def _seed_demo(warehouses: WarehouseManager, tenant_id: str) -> list[str]:
    with warehouses.writable_connection(tenant_id) as connection:
        return seed_demo_warehouse(connection)


@asynccontextmanager
async def _service_lifecycle(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = JobStore(settings.job_store_path)
    # Before anything can submit: no job a previous process left active stays active.
    interrupted = await asyncio.to_thread(store.fail_all_active, RESTART_ERROR)
    if interrupted:
        logger.warning("marked %d interrupted jobs failed: %s", len(interrupted), interrupted)

    stale = await asyncio.to_thread(remove_stale_uploads, settings.uploads_tmp_dir)
    if stale:
        logger.warning("removed %d partial uploads left by the last run", stale)
    warehouses = WarehouseManager(settings.warehouses_dir, settings.warehouse_limits)
    settings.warehouses_dir.mkdir(parents=True, exist_ok=True)
    if settings.seed_demo_data:
        for tenant_id in settings.demo_tenants:
            created = await asyncio.to_thread(_seed_demo, warehouses, tenant_id)
            if created:
                logger.info("seeded demo warehouse of %s: %s", tenant_id, created)

    # MLflow's registry store resolves `models:/<id>` sources through the global tracking URI
    # (not the client's), so registering a LoggedModel needs it set for the whole process.
    mlflow.set_tracking_uri(settings.tracking_uri)
    tracking = Tracking(settings.tracking_uri, settings.mlflow_dir / "artifacts")
    await asyncio.to_thread(tracking.ping)
    if settings.seed_demo_data:
        for tenant_id in settings.demo_tenants:
            await asyncio.to_thread(tracking.experiment_id, tenant_id)

    app.state.settings = settings
    add_server_folder(settings.data_dir)
    app.state.service_token = service_token(settings.service_token, settings.data_dir)
    # read per request by ServerTimingMiddleware (app/serving/timing.py)
    app.state.serving_timing = settings.serving_timing
    app.state.job_store = store
    app.state.warehouses = warehouses
    app.state.eda = EdaService(warehouses, EdaStore(settings.data_dir / "eda.sqlite"))
    app.state.tracking = tracking
    tracking_service = TrackingService(tracking)
    app.state.tracking_service = tracking_service
    app.state.registry = RegistryService(tracking_service, store, AuditLog(settings.job_store_path))
    feast = FeastProcess(settings.feature_store_python, settings.online_store)
    app.state.features = FeatureSetService(
        FeatureSetStore(settings.data_dir / "features.sqlite"),
        warehouses,
        feast,
        settings.features_dir,
    )
    app.state.feature_importance = FeatureImportanceService(
        app.state.registry, store, app.state.eda, app.state.features
    )
    # in the background: the service is ready before Feast is imported
    warm_feast = asyncio.create_task(asyncio.to_thread(feast.warm))
    ray_started_here = await asyncio.to_thread(connect_ray, settings)
    app.state.ray_connected = True
    settings.ray_results_dir.mkdir(parents=True, exist_ok=True)
    warm_pool = WarmPool(settings.warm_worker_idle_seconds)
    app.state.warm_pool = warm_pool
    live_sweeps = LiveSweeps()
    runner = JobRunner(
        store,
        [
            TrainingHandler(
                warehouses,
                tracking,
                str(settings.ray_results_dir),
                settings.effective_limits,
                warm_pool,
                app.state.registry.register_run,
            ),
            BatchPredictionHandler(warehouses),
            TuningHandler(
                warehouses,
                tracking,
                str(settings.ray_results_dir),
                settings.effective_limits,
                live_sweeps,
            ),
            ProfilingHandler(app.state.eda, warehouses),
            MaterializationHandler(app.state.features),
        ],
        tracking.end_run,
    )
    app.state.jobs = runner
    app.state.profile_jobs = ProfileJobs(
        runner, app.state.eda, warehouses, settings.effective_limits, settings.eda_sync_max_cells
    )
    app.state.materializations = MaterializationJobs(
        runner, app.state.features, settings.effective_limits
    )
    app.state.training = TrainingService(runner, warehouses, settings.effective_limits)
    app.state.tuning = TuningService(
        runner,
        warehouses,
        settings.effective_limits,
        app.state.training,
        app.state.registry,
        live_sweeps,
    )
    deployment_store = DeploymentStore(settings.serving_store_path)
    monitoring = MonitoringStore(settings.monitoring_dir, settings.prediction_sampling_rate)
    serving = ServingService(
        deployment_store, monitoring, app.state.registry, settings.tracking_uri,
        app.state.features, app.state.service_token,
    )  # fmt: skip
    app.state.serving = serving
    app.state.batches = BatchPredictor(runner, settings.effective_limits, warehouses)
    # Stored deployments come back in the background: Serve start-up takes seconds, and the
    # service is ready before they are (their status says deploying until then).
    serving.load_stored()
    restore = asyncio.create_task(serving.restore())
    logger.info("ML Service ready", extra={"fields": {"data_dir": settings.data_dir}})
    try:
        yield
    finally:
        restore.cancel()
        await serving.shutdown()
        monitoring.close()
        deployment_store.close()
        await runner.shutdown()
        warm_pool.shutdown()
        await warm_feast
        await asyncio.to_thread(feast.close)
        warehouses.close()
        app.state.ray_connected = False
        if ray_started_here:
            ray.shutdown()


def _operation_id(route: APIRoute) -> str:
    # Handler names are unique verbs; the generated TypeScript client uses them as method names.
    return route.name


def _document_auth_and_errors(app: FastAPI) -> None:
    """Complete the generated document with what no single route declares: the bearer token on
    every operation that needs it, with its 401, and error answers as they really leave.

    Every error body is JSON (app/errors.py), also on routes whose success is a stream, a page or
    an image; FastAPI files a route's declared errors under that route's success media type, so
    they are moved to `application/json` here, once for all routes.
    """
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {})["securitySchemes"] = {
            "serviceToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "MLS_SERVICE_TOKEN, shared with the AI Service",
            }
        }
        # Both error models are in the document already: every router declares one of them.
        for path, operations in schema["paths"].items():
            error_body = V2ErrorResponse if is_inference_v2_path(path) else ErrorResponse
            for operation in operations.values():
                for status, response in operation["responses"].items():
                    content = response.get("content")
                    if status[0] in "45" and content and "application/json" not in content:
                        response["content"] = {"application/json": next(iter(content.values()))}
                if path in OPEN_PATHS:
                    continue
                operation["security"] = [{"serviceToken": []}]
                operation["responses"].setdefault(
                    "401",
                    {
                        "description": "no or a wrong service token",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{error_body.__name__}"}
                            }
                        },
                    },
                )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application; settings are read from the environment at start-up unless given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolved = settings or load_settings()
        configure_logging(log_format=resolved.log_format)
        async with _service_lifecycle(app, resolved):
            yield

    app = FastAPI(
        title="ML Service",
        version=__version__,
        description="Training on Ray, tracking in MLflow, tenant warehouses in DuckDB. "
        "Every /api/v1 call carries X-Tenant-ID.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(HttpMetricsMiddleware)
    # Added last, so it runs first: nothing of an unauthenticated request is processed.
    app.add_middleware(ServiceTokenMiddleware)
    # outermost, so a predict's `ingress` hop includes the middlewares above
    app.add_middleware(ServerTimingMiddleware)
    app.include_router(health_router)
    # The predict routes first: Starlette tries routers in order and each included router tries
    # its routes' patterns, so a predict behind the other eight routers cost about 0.3 ms of
    # matching, more than the model (issue 17); their prefixes (/api/v1/serving, /v2) are no
    # other router's, so the order changes no match.
    app.include_router(serving_router)
    app.include_router(inference_v2_router)
    app.include_router(metrics_router)
    app.include_router(datasets_router)
    app.include_router(training_router)
    app.include_router(tuning_router)
    app.include_router(jobs_router)
    app.include_router(tracking_router)
    app.include_router(registry_router)
    app.include_router(eda_router)
    app.include_router(features_router)
    _document_auth_and_errors(app)
    return app


app = create_app()
