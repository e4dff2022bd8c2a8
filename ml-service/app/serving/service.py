"""Deployments on Ray Serve, the predict path, A/B routing and blue-green releases.

Each deployed registry version is one Serve application named `<tenant>.<model_id>.v<n>`; the
ML Service calls its replicas through `DeploymentHandle`s. With Ray Serve's direct ingress on,
the replicas also answer HTTP themselves under `/<tenant>/<model_id>/v<n>` (app/serving/replica.py),
and `replica_targets` tells the AI Service where, while one version takes all of a deployment's
traffic. A deployment (`model_id`) routes each request to one of its variants by weight; a
request key hashes to the same variant every time. Specs live in `DeploymentStore` and are
redeployed when the service starts.

A deployment with runtime `embedded` loads its versions inside this process instead (see
`RUNTIME_DESCRIPTION`); routing, monitoring, releases and rollback are the same for both.
"""

import asyncio
import hashlib
import json
import logging
import math
import random
import re
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import ray
from ray import serve
from ray.serve._private.common import RequestProtocol
from ray.serve.context import _get_global_client
from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentHandle

from app import DIRECT_INGRESS, SERVE_ENV
from app.errors import (
    ConflictError,
    FieldError,
    MLServiceError,
    NotFoundError,
    without_server_paths,
)
from app.features.schemas import FEATURE_SET_TAG, FEATURE_SET_VERSION_TAG
from app.features.service import FeatureSetService
from app.metrics import PREDICTION_LATENCY, PREDICTIONS
from app.ray_runtime import ML_SERVICE_DIR
from app.registry.service import RegistryService
from app.serving.model import (
    ModelSpec,
    PredictionInputError,
    load_model,
    records_of,
    validate_records,
)
from app.serving.monitoring import MonitoringStore, label_text
from app.serving.replica import DirectIngress, ModelReplica
from app.serving.schemas import (
    Autoscaling,
    BatchPredictionCreate,
    Deployment,
    DeploymentCreate,
    ModelReference,
    ReplicaTargets,
    Resources,
    SignatureField,
    TrafficSplit,
    Variant,
    VariantWeight,
)
from app.serving.store import DeploymentRecord, DeploymentStore, now
from app.serving.timing import REQUEST_TIMING, RequestTiming
from app.training.features import DRIFT_REFERENCE_ARTIFACT, FEATURE_SPEC_ARTIFACT
from app.training.schemas import FeatureSetRef

logger = logging.getLogger(__name__)

STARTING_REASON = "replicas are starting"
_WINDOW = re.compile(r"^([1-9][0-9]{0,5})([smhd])$")
_WINDOW_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class FeedbackInputError(PredictionInputError):
    """422 naming every feedback entry whose `actual` the model cannot have: `0.actual: ...`."""

    lead = "the feedback does not fit the model"


class ServiceUnavailableError(MLServiceError):
    status_code = 503


class DeploymentAtCapacityError(ServiceUnavailableError):
    """503 with Retry-After: the deployment's replicas and its queue are full (Ray Serve refused
    the request at once, see `REPLICA_LIMITS`). The caller should back off rather than retry at
    once; adding replicas (or autoscaling) raises the capacity."""

    def __init__(self, model_id: str, retry_after_s: float | None) -> None:
        super().__init__(f"deployment {model_id} is at capacity; retry shortly or add replicas")
        self.retry_after_seconds = max(1, math.ceil(retry_after_s or 1))


def window_seconds(window: str) -> float:
    match = _WINDOW.fullmatch(window)
    if match is None:
        from app.errors import InvalidFieldError

        raise InvalidFieldError("window", "use a number and s, m, h or d, e.g. 1h")
    return int(match.group(1)) * _WINDOW_SECONDS[match.group(2)]


def app_name(tenant_id: str, model_id: str, version: str) -> str:
    """The Serve application of one deployed version. Joined by `.`, which neither a tenant id nor
    a model id may hold, so no two (tenant, model, version) share a name; `--` did not do that
    (tenant `a` with model `b--c` and tenant `a--b` with model `c` were both `a--b--c--v1`)."""
    return f"{tenant_id}.{model_id}.v{version}"


def route_prefix(tenant_id: str, model_id: str, version: str) -> str:
    """The HTTP path under which a version's replicas answer on their own ports."""
    return f"/{tenant_id}/{model_id}/v{version}"


# An `instances` list up to this size is predicted on the event loop by an embedded model (about
# 0.1 ms for a row of a 100-tree model); a longer one goes to a worker thread so that it does not
# hold up the requests behind it.
EMBEDDED_INLINE_ROWS = 32


class ServeReplicas:
    """A version running as a Ray Serve application (runtime `ray_serve`) of deployment
    `model_id`."""

    def __init__(self, handle: DeploymentHandle, model_id: str) -> None:
        self._handle = handle
        self._model_id = model_id

    async def predict(self, records: list[dict[str, Any]]) -> list[dict]:
        """The replicas' outputs; DeploymentAtCapacityError (503 with Retry-After) when Serve
        refuses the request because the replicas and their queue are full."""
        try:
            return await self._handle.predict.remote(records)
        except BackPressureError as error:
            raise DeploymentAtCapacityError(self._model_id, error.retry_after_s) from None

    async def predict_timed(
        self, records: list[dict[str, Any]], timing: RequestTiming
    ) -> list[dict]:
        """`predict`, adding the hops to the replica and back and the model's time to `timing`
        (wall clocks of this process and the replica's: one host)."""
        sent = time.time()
        try:
            outputs, entered, compute = await self._handle.predict_timed.remote(records)
        except BackPressureError as error:
            raise DeploymentAtCapacityError(self._model_id, error.retry_after_s) from None
        received = time.time()
        timing.add("to_replica", entered - sent)
        timing.add("compute", compute)
        timing.add("from_replica", received - entered - compute)
        return outputs


class EmbeddedModel:
    """A version loaded inside the ML Service's process (runtime `embedded`): no replica hop."""

    def __init__(self, spec: ModelSpec) -> None:
        self._model = load_model(spec)

    async def predict(self, records: list[dict[str, Any]]) -> list[dict]:
        if len(records) <= EMBEDDED_INLINE_ROWS:
            return self._model.predict_records(records)
        return await asyncio.to_thread(self._model.predict_records, records)

    async def predict_timed(
        self, records: list[dict[str, Any]], timing: RequestTiming
    ) -> list[dict]:
        """`predict`, adding the model's time to `timing`."""
        outputs = await self.predict(records)
        timing.lap("compute")
        return outputs


Predictor = ServeReplicas | EmbeddedModel


@dataclass
class LiveDeployment:
    """What the predict path needs, held in memory: no store or registry read per request."""

    record: DeploymentRecord
    # version -> what answers for it, once it is running
    handles: dict[str, Predictor] = field(default_factory=dict)
    # version -> failure reason of its Serve application
    failures: dict[str, str] = field(default_factory=dict)

    def spec(self, version: str) -> ModelSpec:
        return ModelSpec(**self.record.spec["models"][version])

    @property
    def runtime(self) -> str:
        # deployments stored before the option existed ran on Ray Serve
        return self.record.spec.get("runtime", "ray_serve")


def choose_variant(variants: list[dict[str, Any]], key: str | None) -> str:
    """The version answering a request: by weight; the same key always gets the same one."""
    live = [item for item in variants if item["weight"] > 0]
    if len(live) == 1:
        return str(live[0]["version"])
    if key is None:
        point = random.random() * 100
    else:
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        point = int.from_bytes(digest, "big") / 2**64 * 100
    total = 0.0
    for item in live:
        total += item["weight"]
        if point < total:
            return str(item["version"])
    return str(live[-1]["version"])


class ServingService:
    def __init__(
        self,
        store: DeploymentStore,
        monitoring: MonitoringStore,
        registry: RegistryService,
        tracking_uri: str,
        features: FeatureSetService,
        service_token: str,
    ) -> None:
        self._store = store
        self._service_token = service_token
        self._features = features
        self._monitoring = monitoring
        self._registry = registry
        self._tracking_uri = tracking_uri
        self._live: dict[tuple[str, str], LiveDeployment] = {}
        self._serve_lock = asyncio.Lock()
        self._serve_started = False
        self._tasks: set[asyncio.Task] = set()

    @property
    def monitoring(self) -> MonitoringStore:
        return self._monitoring

    # --- Serve ----------------------------------------------------------------------------

    def _start_serve(self) -> None:
        if self._serve_started:
            return
        # Without direct ingress, no HTTP proxy: requests arrive through the ML Service's own
        # port and go to replicas through handles, so Serve listens on nothing. With it, Serve
        # starts replicas' HTTP servers only when the proxy is enabled (Ray 2.60,
        # ReplicaActor._maybe_start_direct_ingress_servers), so one proxy runs on this node, on a
        # spare loopback port: nothing is sent to it, and every replica checks the service token
        # and tenant itself. The replicas' ports are on the same host (loopback).
        serve.start(
            proxy_location="HeadOnly" if DIRECT_INGRESS else "Disabled",
            http_options={"host": "127.0.0.1", "port": 0},
        )
        self._serve_started = True

    def _run_app(self, record: DeploymentRecord, version: str) -> Predictor:
        spec = ModelSpec(**record.spec["models"][version])
        if record.spec.get("runtime") == "embedded":
            return EmbeddedModel(spec)
        self._start_serve()
        autoscaling = record.spec.get("autoscaling")
        resources = Resources(**record.spec["resources"])
        actor_options: dict[str, Any] = {
            "num_cpus": resources.cpu,
            # replicas run in Serve's own job: put the service's code on their import path, and
            # Serve's transport settings, which a cluster joined by RAY_ADDRESS may lack
            "runtime_env": {"env_vars": {"PYTHONPATH": str(ML_SERVICE_DIR), **SERVE_ENV}},
        }
        if resources.memory_mb:
            actor_options["memory"] = resources.memory_mb * 1024 * 1024
        options: dict[str, Any] = {"ray_actor_options": actor_options}
        if autoscaling:
            options["autoscaling_config"] = autoscaling
        else:
            options["num_replicas"] = record.spec["replicas"]
        name = app_name(record.tenant_id, record.model_id, version)
        direct = None
        if DIRECT_INGRESS and spec.task_type != "forecasting":
            direct = DirectIngress(
                tenant_id=record.tenant_id,
                model_id=record.model_id,
                version=version,
                authorization=f"Bearer {self._service_token}",
                monitoring_dir=str(self._monitoring.directory),
                sampling_rate=record.spec["sampling_rate"],
            )
        # A route prefix is what makes Serve list the replicas' ports (`targets`); it is unique
        # per application as the name is. Serve's proxy gets no request (see `_start_serve`).
        serve.run(
            ModelReplica.options(**options).bind(spec, direct),
            name=name,
            route_prefix=route_prefix(record.tenant_id, record.model_id, version)
            if direct
            else None,
        )
        # A handle of our own rather than the one serve.run returns: Serve caches one handle per
        # application per process, and in throughput mode a handle's router runs on the event loop
        # that first used it, so a cached one would tie this service to another's loop (a second
        # service in the same process, as the restart test builds).
        return ServeReplicas(DeploymentHandle(ModelReplica.name, name), record.model_id)

    async def _deploy_versions(self, live: LiveDeployment, versions: list[str]) -> None:
        """Start the Serve applications (or load the embedded models) of `versions` and record
        how it went."""
        record = live.record
        async with self._serve_lock:
            for version in versions:
                try:
                    live.handles[version] = await asyncio.to_thread(self._run_app, record, version)
                    live.failures.pop(version, None)
                except Exception as error:  # Serve raises RuntimeError and its own types
                    logger.exception("deploying %s v%s failed", record.model_id, version)
                    live.failures[version] = without_server_paths(
                        f"version {version} failed to deploy: {error}"
                    )[:500]
        current = self._store.get(record.tenant_id, record.model_id)
        if current is None:  # undeployed meanwhile
            return
        status, reason = self._status(live)
        live.record = await asyncio.to_thread(
            self._store.save, replace(current, status=status, reason=reason)
        )

    def background(self, work: Any) -> None:
        """Run a coroutine after the response, cancelled at shutdown."""
        self._background(work)

    def _background(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def load_stored(self) -> None:
        """Know every stored deployment, as `deploying`, before the service takes requests: a
        client asking for one right after a restart sees it coming back, not a 404."""
        for record in self._store.list_all():
            live = LiveDeployment(record=replace(record, status="deploying"))
            self._live[(record.tenant_id, record.model_id)] = live

    async def restore(self) -> None:
        """Redeploy the deployments `load_stored` found (at start-up, in the background)."""
        restoring = list(self._live.values())
        for live in restoring:
            await self._deploy_versions(live, self._app_versions(live.record))
        if restoring:
            logger.info("restored %d deployments", len(restoring))

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    def _app_versions(record: DeploymentRecord) -> list[str]:
        """Versions that keep a running application: current variants and the rollback target."""
        versions = [str(item["version"]) for item in record.variants]
        for item in record.previous_variants or []:
            if str(item["version"]) not in versions:
                versions.append(str(item["version"]))
        return versions

    def _status(self, live: LiveDeployment) -> tuple[str, str | None]:
        serving = [str(item["version"]) for item in live.record.variants if item["weight"] > 0]
        failed = [live.failures[v] for v in serving if v in live.failures]
        if failed:
            return "unhealthy", "; ".join(failed)
        if any(v not in live.handles for v in serving):
            return "deploying", STARTING_REASON
        return "healthy", None

    # --- resolving registry versions ------------------------------------------------------

    def _model_spec(
        self, tenant_id: str, model_name: str, reference: ModelReference
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(version, ModelSpec as a dict, drift reference) of a registry version."""
        if reference.version is not None:
            number = str(reference.version)
        else:
            model = self._registry.get_model(tenant_id, model_name)
            alias = (
                {"Production": "production", "Staging": "staging"}[reference.stage]
                if reference.stage
                else reference.alias
            )
            if alias not in model.aliases:
                what = f"stage {reference.stage}" if reference.stage else f"alias {alias}"
                raise NotFoundError(f"model {model_name} has no version in {what}")
            number = model.aliases[alias]
        version = self._registry.get_version(tenant_id, model_name, number)
        config = version.lineage.config or {}
        task_type = (config.get("request") or {}).get("task_type")
        # Everything serving needs was stored with the version at training time; the training
        # table may have changed or gone since. A forecaster has no features to drift.
        document = self._registry.run_json_artifact(version, FEATURE_SPEC_ARTIFACT)
        reference = (
            {}
            if task_type == "forecasting"
            else self._registry.run_json_artifact(version, DRIFT_REFERENCE_ARTIFACT)
        )
        if version.model_artifact_id is None or document is None or reference is None:
            raise ConflictError(
                f"version {number} of {model_name} has no stored feature spec (it was trained "
                "before versions kept one); train it again and register the new run"
            )
        spec = ModelSpec.from_feature_spec(
            document, f"models:/{version.model_artifact_id}", self._tracking_uri
        )
        if FEATURE_SET_TAG in version.tags:
            # pinned at deploy: the version it was trained on, whatever versions come later
            spec = replace(
                spec,
                feature_set={
                    "name": version.tags[FEATURE_SET_TAG],
                    "version": int(version.tags[FEATURE_SET_VERSION_TAG]),
                },
            )
        return number, asdict(spec), reference

    # --- deployments ----------------------------------------------------------------------

    def _live_deployment(self, tenant_id: str, model_id: str) -> LiveDeployment:
        live = self._live.get((tenant_id, model_id))
        if live is None:
            raise NotFoundError(f"deployment {model_id} does not exist")
        return live

    def _response(self, live: LiveDeployment) -> Deployment:
        record = live.record
        spec = record.spec
        first = live.spec(str(record.variants[0]["version"]))
        variants = []
        for item in record.variants:
            version = str(item["version"])
            if version in live.failures:
                status, reason = "unhealthy", live.failures[version]
            elif version in live.handles:
                status, reason = "healthy", None
            else:
                status, reason = "deploying", STARTING_REASON
            pinned = live.spec(version).feature_set
            variants.append(
                Variant(
                    version=version, weight=item["weight"], status=status, reason=reason,
                    feature_set=FeatureSetRef(**pinned) if pinned else None,
                )
            )  # fmt: skip
        return Deployment(
            model_id=record.model_id,
            model_name=record.model_name,
            status=record.status,  # type: ignore[arg-type]
            reason=record.reason,
            task_type=first.task_type,
            variants=variants,
            previous_variants=[
                VariantWeight(version=int(item["version"]), weight=item["weight"])
                for item in record.previous_variants
            ]
            if record.previous_variants
            else None,
            replicas=spec["replicas"],
            autoscaling=Autoscaling(**spec["autoscaling"]) if spec.get("autoscaling") else None,
            resources=Resources(**spec["resources"]),
            sampling_rate=spec["sampling_rate"],
            runtime=live.runtime,
            inputs=[SignatureField(name=name, type=kind) for name, kind in first.features],
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    async def deploy(self, tenant_id: str, body: DeploymentCreate) -> Deployment:
        model_id = body.model_id or re.sub(r"[^a-z0-9_-]", "-", body.model_name.lower())[:63]
        if (tenant_id, model_id) in self._live:
            raise ConflictError(
                # No path here: the AI Service's path differs from this service's (/ml/ in it).
                f"deployment {model_id} exists; release the new version next to it "
                f"(POST .../serving/{model_id}/release) or undeploy it first"
            )
        version, spec, reference = await asyncio.to_thread(
            self._model_spec, tenant_id, body.model_name, body
        )
        await asyncio.to_thread(
            self._monitoring.save_reference, tenant_id, model_id, version, reference
        )
        created = now()
        record = DeploymentRecord(
            tenant_id=tenant_id,
            model_id=model_id,
            model_name=body.model_name,
            spec={
                "models": {version: spec},
                "replicas": body.replicas,
                "autoscaling": body.autoscaling.model_dump() if body.autoscaling else None,
                "resources": body.resources.model_dump(),
                "sampling_rate": body.sampling_rate
                if body.sampling_rate is not None
                else self._monitoring.sampling_rate,
                "runtime": body.runtime,
            },
            variants=[{"version": version, "weight": 100}],
            previous_variants=None,
            status="deploying",
            reason=STARTING_REASON,
            created_at=created,
            updated_at=created,
        )
        if (tenant_id, model_id) in self._live:  # a concurrent deploy of the same id won
            raise ConflictError(f"deployment {model_id} exists")
        live = LiveDeployment(record=await asyncio.to_thread(self._store.save, record))
        self._live[(tenant_id, model_id)] = live
        self._background(self._deploy_versions(live, [version]))
        return self._response(live)

    def list_deployments(self, tenant_id: str) -> list[Deployment]:
        return [
            self._response(live)
            for (tenant, _), live in sorted(self._live.items())
            if tenant == tenant_id
        ]

    def get(self, tenant_id: str, model_id: str) -> Deployment:
        return self._response(self._live_deployment(tenant_id, model_id))

    async def undeploy(self, tenant_id: str, model_id: str) -> None:
        live = self._live_deployment(tenant_id, model_id)
        del self._live[(tenant_id, model_id)]
        await asyncio.to_thread(self._store.delete, tenant_id, model_id)
        if live.runtime == "embedded":
            return  # dropping the models from memory is all there is to stop
        async with self._serve_lock:
            for version in self._app_versions(live.record) + list(live.handles):
                name = app_name(tenant_id, model_id, version)
                await asyncio.to_thread(_delete_app, name)

    async def set_traffic(self, tenant_id: str, model_id: str, split: TrafficSplit) -> Deployment:
        """A/B: route by weight between versions; new versions are deployed first."""
        live = self._live_deployment(tenant_id, model_id)
        new_versions = await self._add_versions(
            live, tenant_id, [ModelReference(version=item.version) for item in split.variants]
        )
        variants = [
            {"version": str(item.version), "weight": item.weight} for item in split.variants
        ]
        await self._switch(live, variants, wait_for=new_versions)
        return self._response(live)

    async def release(self, tenant_id: str, model_id: str, reference: ModelReference) -> Deployment:
        """Blue-green: deploy the version, then send all traffic to it; the old one stays warm."""
        live = self._live_deployment(tenant_id, model_id)
        new_versions = await self._add_versions(live, tenant_id, [reference])
        version = (
            new_versions[0]
            if new_versions
            else await asyncio.to_thread(
                lambda: self._model_spec(tenant_id, live.record.model_name, reference)[0]
            )
        )
        await self._switch(live, [{"version": version, "weight": 100}], wait_for=[version])
        return self._response(live)

    async def rollback(self, tenant_id: str, model_id: str) -> Deployment:
        live = self._live_deployment(tenant_id, model_id)
        previous = live.record.previous_variants
        if not previous:
            raise ConflictError(f"deployment {model_id} has no previous traffic split to restore")
        await self._switch(live, previous, wait_for=[])
        return self._response(live)

    async def _add_versions(
        self, live: LiveDeployment, tenant_id: str, references: list[ModelReference]
    ) -> list[str]:
        """Resolve versions, remember their specs and drift references; the new ones' numbers."""
        added = []
        models = dict(live.record.spec["models"])
        for reference in references:
            version, spec, drift = await asyncio.to_thread(
                self._model_spec, tenant_id, live.record.model_name, reference
            )
            if version not in models or version not in live.handles:
                models[version] = spec
                await asyncio.to_thread(
                    self._monitoring.save_reference, tenant_id, live.record.model_id, version, drift
                )
                added.append(version)
        live.record = replace(live.record, spec=live.record.spec | {"models": models})
        return added

    async def _switch(
        self, live: LiveDeployment, variants: list[dict[str, Any]], wait_for: list[str]
    ) -> None:
        record = live.record
        pending = [v for v in wait_for if v not in live.handles]
        if pending:
            # save the spec first so a restart meanwhile still knows the new versions
            live.record = await asyncio.to_thread(self._store.save, record)
            await self._deploy_versions(live, pending)
            failed = [live.failures[v] for v in pending if v in live.failures]
            if failed:
                raise ServiceUnavailableError("; ".join(failed))
        current = [{"version": str(i["version"]), "weight": i["weight"]} for i in record.variants]
        target = [{"version": str(i["version"]), "weight": i["weight"]} for i in variants]
        if target != current:
            # a repeated call (a retried PUT) must not make the current split the rollback target
            live.record = replace(live.record, variants=target, previous_variants=current)
        # versions neither serving nor kept for rollback are stopped
        keep = set(self._app_versions(live.record))
        stale = [v for v in list(live.handles) if v not in keep]
        status, reason = self._status(live)
        live.record = await asyncio.to_thread(
            self._store.save, replace(live.record, status=status, reason=reason)
        )
        if stale and live.runtime == "embedded":
            for version in stale:
                live.handles.pop(version, None)
        elif stale:
            async with self._serve_lock:
                for version in stale:
                    live.handles.pop(version, None)
                    await asyncio.to_thread(
                        _delete_app, app_name(record.tenant_id, record.model_id, version)
                    )

    # --- direct ingress -------------------------------------------------------------------

    async def replica_targets(self, tenant_id: str, model_id: str) -> ReplicaTargets:
        """The replica URLs of a deployment that the AI Service may call directly (see
        app/serving/replica.py). 409 naming why not when the deployment's predictions must come
        through here: another runtime, traffic split across versions, a forecaster, not running
        yet, or direct ingress off."""
        live = self._live_deployment(tenant_id, model_id)
        serving = [str(item["version"]) for item in live.record.variants if item["weight"] > 0]
        reason = None
        if not DIRECT_INGRESS:
            reason = "Ray Serve's direct ingress is off (RAY_SERVE_ENABLE_DIRECT_INGRESS)"
        elif live.runtime != "ray_serve":
            reason = f"runtime {live.runtime} answers in the ML Service"
        elif len(serving) != 1:
            reason = "traffic is split across versions; the ML Service routes it"
        elif live.spec(serving[0]).task_type == "forecasting":
            reason = "a forecaster answers through the ML Service"
        elif serving[0] not in live.handles:
            reason = "the version is not running yet"
        if reason is not None:
            raise ConflictError(f"deployment {model_id} has no direct targets: {reason}")
        version = serving[0]
        name = app_name(tenant_id, model_id, version)
        urls = await asyncio.to_thread(_replica_urls, name)
        if not urls:
            raise ConflictError(f"deployment {model_id} has no direct targets: no running replica")
        return ReplicaTargets(version=version, urls=urls)

    # --- predict --------------------------------------------------------------------------

    async def predict(
        self,
        tenant_id: str,
        model_id: str,
        body: Any,
        request_key: str | None,
        version: str | None = None,
    ) -> dict[str, Any]:
        """Predict with the variant the traffic split (and `request_key`) picks, or with
        `version` when the caller names one (OIP v2's `/versions/{v}/infer`: 404 unless the
        deployment serves it now). With MLS_SERVING_TIMING on, records where the time goes
        (app/serving/timing.py)."""
        timing = REQUEST_TIMING.get()
        if timing is not None:
            timing.lap("ingress")
        live = self._live_deployment(tenant_id, model_id)
        entities = _entities(body)
        if entities is None:
            records, prefix, body_key = records_of(body)
        else:
            records, prefix, body_key = [], None, _body_key(body)
        if version is None:
            version = choose_variant(live.record.variants, request_key or body_key)
        elif version not in {str(item["version"]) for item in live.record.variants}:
            raise NotFoundError(f"deployment {model_id} does not serve version {version}")
        handle = live.handles.get(version)
        if handle is None:
            reason = live.failures.get(version, STARTING_REASON)
            raise ServiceUnavailableError(f"deployment {model_id} cannot answer yet: {reason}")
        spec = live.spec(version)
        if entities is not None:
            records = await self._entity_records(tenant_id, model_id, version, spec, entities)
        validate_records(records, spec, prefix)
        started = time.perf_counter()
        try:
            if timing is None:
                outputs = await handle.predict(records)
            else:
                timing.lap("check")
                outputs = await handle.predict_timed(records, timing)
        except Exception as error:
            latency = (time.perf_counter() - started) * 1000
            PREDICTIONS.labels(tenant_id, model_id, version, "error").inc(len(records))
            self._monitoring.log_outcome(
                tenant_id, model_id, version, live.record.spec["sampling_rate"], records, None,
                latency,
            )
            if isinstance(error, DeploymentAtCapacityError):
                raise
            logger.exception("prediction of %s v%s failed", model_id, version)
            raise ServiceUnavailableError(
                f"deployment {model_id} version {version} failed to predict: {type(error).__name__}"
            ) from None
        elapsed = time.perf_counter() - started
        PREDICTION_LATENCY.labels(tenant_id, model_id, version).observe(elapsed)
        PREDICTIONS.labels(tenant_id, model_id, version, "ok").inc(len(records))
        latency = elapsed * 1000
        if spec.task_type == "forecasting":
            # each forecast period is a prediction of its own: feedback gives its actual value
            records = [{"timestamp": output["timestamp"]} for output in outputs]
        ids = self._monitoring.log_outcome(
            tenant_id, model_id, version, live.record.spec["sampling_rate"], records, outputs,
            latency,
        )
        for output, prediction_id in zip(outputs, ids, strict=True):
            output["prediction_id"] = prediction_id
        return {"model_id": model_id, "version": version, "predictions": outputs}

    async def _entity_records(
        self,
        tenant_id: str,
        model_id: str,
        version: str,
        spec: ModelSpec,
        entities: dict[str, list[Any]],
    ) -> list[dict[str, Any]]:
        """The model's feature rows for entity keys, from the online store of the feature set
        version the model was trained on. 422 naming `entities` when the model has no feature
        set, and `entities.<key>[i]` for each entity without online values."""
        pinned = spec.feature_set
        if pinned is None:
            raise PredictionInputError(
                [FieldError(field="entities", message=f"version {version} of {model_id} was not "
                            "trained on a feature set; send `instances` with its features")]
            )  # fmt: skip
        name, number = pinned["name"], pinned["version"]
        records, missing = await asyncio.to_thread(
            self._features.entity_records,
            tenant_id, name, number, [feature for feature, _ in spec.features], entities,
        )  # fmt: skip
        if missing:
            raise PredictionInputError(
                [
                    FieldError(
                        field=f"entities.{key}[{index}]",
                        message=f"{values[index]!r} has no online features in feature set "
                        f"{name!r} version {number} (not in its source, or added since its last "
                        "materialisation)",
                    )
                    for index in missing
                    for key, values in entities.items()
                ]
            )
        return records

    # --- feedback -------------------------------------------------------------------------

    def check_feedback(self, tenant_id: str, model_id: str, actuals: list[Any]) -> None:
        """Every `actual` must be something the deployment's model can predict: one of its
        classes in the user's values ("Yes", not true, for a Yes/No target; text forms compare
        alike, so 1 matches 1.0) or, for regression, a finite number. 422 naming each bad
        `<index>.actual` otherwise: a typo would silently count as a wrong prediction."""
        live = self._live_deployment(tenant_id, model_id)
        specs = [ModelSpec(**spec) for spec in live.record.spec["models"].values()]
        problems = []
        if specs[0].task_type == "classification":
            classes = {label_text(value): value for spec in specs for value in spec.classes or []}
            shown = ", ".join(json.dumps(value) for value in classes.values())
            for index, actual in enumerate(actuals):
                if isinstance(actual, dict | list) or label_text(actual) not in classes:
                    problems.append(
                        FieldError(field=f"{index}.actual", message=f"not a class of the model "
                                   f"(classes: {shown})")
                    )  # fmt: skip
        else:
            for index, actual in enumerate(actuals):
                if isinstance(actual, bool) or not isinstance(actual, int | float) or (
                    not math.isfinite(actual)
                ):
                    problems.append(
                        FieldError(field=f"{index}.actual", message="must be a finite number")
                    )
        if problems:
            raise FeedbackInputError(problems)

    # --- batch ----------------------------------------------------------------------------

    async def batch_spec(self, tenant_id: str, body: BatchPredictionCreate) -> ModelSpec:
        if body.model_id is not None:
            live = self._live_deployment(tenant_id, body.model_id)
            spec = live.spec(self.serving_version(tenant_id, body.model_id, None))
        else:
            assert body.model_name is not None and body.version is not None
            _, stored, _ = await asyncio.to_thread(
                self._model_spec, tenant_id, body.model_name, ModelReference(version=body.version)
            )
            spec = ModelSpec(**stored)
        if spec.task_type == "forecasting":
            raise ConflictError(
                "the model is a forecaster: it forecasts the "
                'periods after its series (POST predict {"periods": n}); batch prediction scores '
                "tables of features"
            )
        return spec

    # --- monitoring -----------------------------------------------------------------------

    def task_type(self, tenant_id: str, model_id: str) -> str:
        live = self._live_deployment(tenant_id, model_id)
        return live.spec(str(live.record.variants[0]["version"])).task_type

    def serving_version(self, tenant_id: str, model_id: str, version: str | None) -> str:
        live = self._live_deployment(tenant_id, model_id)
        if version is None:
            return str(max(live.record.variants, key=lambda item: item["weight"])["version"])
        if version not in live.record.spec["models"]:
            raise NotFoundError(f"deployment {model_id} never served version {version}")
        return version

    def live(self, tenant_id: str, model_id: str) -> LiveDeployment:
        return self._live_deployment(tenant_id, model_id)


def _replica_urls(name: str) -> list[str]:
    """The HTTP addresses of application `name`'s running replicas, from Serve's controller
    (`get_target_groups`, the API load balancers use for direct ingress; reached through the
    Serve client, as Serve's own `serve status` does). While no replica runs, Serve lists its
    proxy there instead; those targets are left out."""
    controller = _get_global_client()._controller
    groups = ray.get(controller.get_target_groups.remote(name), timeout=10)
    return [
        f"http://{target.ip}:{target.port}{group.route_prefix}"
        for group in groups
        if group.app_name == name and group.protocol == RequestProtocol.HTTP
        for target in group.targets
        if target.name.startswith("SERVE_REPLICA::")
    ]


def _delete_app(name: str) -> None:
    try:
        serve.delete(name)
    except Exception:  # already gone (Serve restarted); nothing to stop
        logger.warning("could not delete Serve application %s", name, exc_info=True)


def _entities(body: Any) -> dict[str, list[Any]] | None:
    """The entity keys of a `{"entities": {<join key>: [values]}, "key"?}` body; None for a
    body of feature records."""
    if not isinstance(body, dict) or "entities" not in body:
        return None
    extra = sorted(set(body) - {"entities", "key"})
    if extra:
        raise PredictionInputError(
            [FieldError(field=name, message="not allowed next to entities") for name in extra]
        )
    entities = body["entities"]
    if (
        not isinstance(entities, dict)
        or not entities
        or not all(isinstance(values, list) and values for values in entities.values())
        or any(
            isinstance(value, dict | list) for values in entities.values() for value in values
        )
    ):
        raise PredictionInputError(
            [FieldError(field="entities", message="must map each join key to a non-empty list "
                        'of values, e.g. {"customer_id": ["C-1"]}')]
        )  # fmt: skip
    return entities


def _body_key(body: dict[str, Any]) -> str | None:
    key = body.get("key")
    return str(key) if key is not None else None
