"""Model registry logic on MLflow's registry, scoped to the calling tenant.

Registered models are stored as `<tenant>.<name>` and tagged `tenant_id`; the API shows names
without the prefix. MLflow 3 deprecates registry stages, so a stage is the version tag `stage`
plus, for the current Staging and Production versions, the aliases `staging` / `production`.
Every write is recorded in the audit trail (`AuditLog`).
"""

import re
import tempfile
import threading
from collections.abc import Callable
from typing import Any

import mlflow
import mlflow.artifacts
from mlflow.entities.model_registry import ModelVersion as MlflowModelVersion
from mlflow.entities.model_registry import RegisteredModel as MlflowRegisteredModel
from mlflow.exceptions import MlflowException
from mlflow.models import Model
from mlflow.utils.validation import _validate_model_version_tag, _validate_registered_model_tag

from app.errors import BadRequestError, ConflictError, InvalidFieldError, NotFoundError
from app.features.schemas import FEATURE_SET_TAG, FEATURE_SET_VERSION_TAG
from app.jobs.store import JobStore
from app.registry.audit import AuditEvent, AuditLog
from app.registry.schemas import (
    AuditEventOut,
    AuditTrail,
    DeletedModel,
    Lineage,
    ModelDeletion,
    ModelUpdate,
    ModelVersion,
    RegisteredModel,
    Signature,
    SignatureColumn,
    Stage,
    StageChange,
    VersionCreate,
)
from app.tracking import ids
from app.tracking.schemas import as_json_safe
from app.tracking.service import (
    HISTORY_SUFFIX,
    TENANT_TAG,
    TrackingService,
    check_tags,
    is_not_found,
    millis,
)

STAGE_TAG = "stage"
STAGE_ALIASES: dict[str, str] = {"Production": "production", "Staging": "staging"}
# Tags the service maintains itself; callers may not set them.
LINEAGE_TAGS = (FEATURE_SET_TAG, FEATURE_SET_VERSION_TAG)
# The feature set tags are lineage copied from the run: a caller cannot set or forge them.
RESERVED_VERSION_TAGS = frozenset(
    {STAGE_TAG, TENANT_TAG, "job_id", "model_artifact_id", FEATURE_SET_TAG, FEATURE_SET_VERSION_TAG}
)
RESERVED_MODEL_TAGS = frozenset({TENANT_TAG})
_METRIC_FILTER = re.compile(
    r"^\s*([A-Za-z0-9_.-]+)\s*(>=|<=|!=|==|=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
_COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _stage(version: MlflowModelVersion) -> Stage:
    return version.tags.get(STAGE_TAG, "None")  # type: ignore[return-value]


class RegistryService:
    def __init__(self, tracking: TrackingService, jobs: JobStore, audit: AuditLog) -> None:
        self._tracking = tracking
        self._client = tracking.client
        self._jobs = jobs
        self._audit = audit
        # Serialises stage changes in this process so two promotions cannot both leave a
        # Production version behind (at most one Production per model).
        self._stage_lock = threading.Lock()
        self._signatures: dict[str, Signature | None] = {}

    # --- lookups --------------------------------------------------------------------------

    @staticmethod
    def _full_name(tenant_id: str, name: str) -> str:
        # Tenant ids hold no dot, so the first dot always ends the tenant prefix.
        return f"{tenant_id}.{ids.model_name(name)}"

    def _model(self, tenant_id: str, name: str) -> MlflowRegisteredModel:
        full_name = self._full_name(tenant_id, name)
        try:
            model = self._client.get_registered_model(full_name)
        except MlflowException as error:
            if is_not_found(error):
                raise NotFoundError(f"model {name} does not exist") from None
            raise
        if model.tags.get(TENANT_TAG) != tenant_id:
            raise NotFoundError(f"model {name} does not exist")
        return model

    def _versions(self, full_name: str, stage: Stage | None = None) -> list[MlflowModelVersion]:
        # Model names match [A-Za-z0-9_.-], so they are safe inside the quoted filter.
        query = f"name = '{full_name}'"
        if stage is not None:
            query += f" and tags.{STAGE_TAG} = '{stage}'"
        found = self._client.search_model_versions(filter_string=query)
        return sorted(found, key=lambda item: int(item.version))

    def _version(
        self, tenant_id: str, name: str, version: str | int
    ) -> tuple[MlflowRegisteredModel, MlflowModelVersion]:
        number = ids.version(version)
        model = self._model(tenant_id, name)
        try:
            return model, self._client.get_model_version(model.name, number)
        except MlflowException as error:
            if is_not_found(error):
                raise NotFoundError(f"model {name} has no version {number}") from None
            raise

    # --- responses ------------------------------------------------------------------------

    def _signature(self, model_artifact_id: str | None) -> Signature | None:
        if model_artifact_id is None:
            return None
        if model_artifact_id not in self._signatures:
            logged = self._client.get_logged_model(model_artifact_id)
            with tempfile.TemporaryDirectory() as scratch:
                path = mlflow.artifacts.download_artifacts(
                    artifact_uri=f"{logged.artifact_location}/MLmodel",
                    dst_path=scratch,
                    tracking_uri=self._tracking.tracking_uri,
                )
                signature = Model.load(path).signature
            self._signatures[model_artifact_id] = (
                None
                if signature is None
                else Signature(
                    inputs=_columns(signature.inputs),
                    outputs=_columns(signature.outputs) if signature.outputs else None,
                )
            )
        return self._signatures[model_artifact_id]

    def _version_response(
        self, model: MlflowRegisteredModel, version: MlflowModelVersion
    ) -> ModelVersion:
        tenant_id = model.tags[TENANT_TAG]
        run = self._client.get_run(version.run_id) if version.run_id else None
        params = run.data.params if run else {}
        run_tags = run.data.tags if run else {}
        model_artifact_id = version.tags.get("model_artifact_id")
        number = str(version.version)
        return ModelVersion(
            name=model.name.removeprefix(f"{tenant_id}."),
            version=number,
            stage=_stage(version),
            aliases=sorted(alias for alias, v in model.aliases.items() if str(v) == number),
            description=version.description or None,
            tags={key: value for key, value in version.tags.items() if key != TENANT_TAG},
            run_id=version.run_id,
            job_id=version.tags.get("job_id"),
            model_artifact_id=model_artifact_id,
            source=version.source,
            signature=self._signature(model_artifact_id),
            metrics={
                key: as_json_safe(value)
                for key, value in (run.data.metrics.items() if run else ())
                if not key.endswith(HISTORY_SUFFIX)
            },
            lineage=Lineage(
                job_id=run_tags.get("job_id"),
                run_id=version.run_id,
                dataset_query=params.get("dataset_query") or None,
                dataset_table=params.get("dataset_table") or None,
                dataset_hash=params.get("dataset_hash"),
                config=self._tracking.read_json_artifact(run, "config.json") if run else None,
                code_version=run_tags.get("code_version"),
            ),
            created_at=millis(version.creation_timestamp),
        )

    def _model_response(self, model: MlflowRegisteredModel) -> RegisteredModel:
        tenant_id = model.tags[TENANT_TAG]
        versions = [self._version_response(model, item) for item in self._versions(model.name)]
        production = [item.version for item in versions if item.stage == "Production"]
        return RegisteredModel(
            name=model.name.removeprefix(f"{tenant_id}."),
            description=model.description or None,
            tags={key: value for key, value in model.tags.items() if key != TENANT_TAG},
            aliases={alias: str(version) for alias, version in model.aliases.items()},
            versions=versions,
            production_version=production[-1] if production else None,
            created_at=millis(model.creation_timestamp),
            updated_at=millis(model.last_updated_timestamp),
        )

    # --- models ---------------------------------------------------------------------------

    def list_models(
        self,
        tenant_id: str,
        name: str | None,
        tag: str | None,
        stage: Stage | None,
        metric: str | None,
    ) -> list[RegisteredModel]:
        tag_filter = _parse_tag(tag) if tag else None
        metric_filter = _parse_metric(metric) if metric else None
        models: list[MlflowRegisteredModel] = []
        page_token = None
        while True:
            page = self._client.search_registered_models(
                filter_string=f"tags.{TENANT_TAG} = '{tenant_id}'",
                order_by=["name ASC"],
                page_token=page_token,
            )
            models += [item for item in page if item.name.startswith(f"{tenant_id}.")]
            page_token = page.token
            if not page_token:
                break
        found = []
        for model in models:
            if name and name.lower() not in model.name.removeprefix(f"{tenant_id}.").lower():
                continue
            response = self._model_response(model)
            if tag_filter and not _has_tag(response, *tag_filter):
                continue
            if stage and not any(item.stage == stage for item in response.versions):
                continue
            if metric_filter and not _meets_metric(response, *metric_filter):
                continue
            found.append(response)
        return found

    def get_model(self, tenant_id: str, name: str) -> RegisteredModel:
        return self._model_response(self._model(tenant_id, name))

    def update_model(
        self, tenant_id: str, name: str, body: ModelUpdate, actor: str
    ) -> RegisteredModel:
        model = self._model(tenant_id, name)
        if body.tags:
            check_tags(body.tags, RESERVED_MODEL_TAGS, _validate_registered_model_tag)
        if body.description is not None:
            self._client.update_registered_model(model.name, description=body.description)
        for key, value in (body.tags or {}).items():
            self._client.set_registered_model_tag(model.name, key, value)
        self._audit.record(
            tenant_id, actor, name, AuditEvent("update_model", reason=_changed(body))
        )
        return self.get_model(tenant_id, name)

    def delete_model(self, tenant_id: str, name: str, dry_run: bool, actor: str) -> ModelDeletion:
        with self._stage_lock:
            model = self._model(tenant_id, name)
            versions = self._versions(model.name)
            production = [item.version for item in versions if _stage(item) == "Production"]
            if production:
                raise ConflictError(
                    f"model {name} has version {production[0]} in Production; "
                    "move it to Archived before deleting the model"
                )
            deleted = DeletedModel(
                name=name,
                versions=[str(item.version) for item in versions],
                aliases=sorted(model.aliases),
            )
            if not dry_run:
                self._client.delete_registered_model(model.name)
                self._audit.record(
                    tenant_id,
                    actor,
                    name,
                    AuditEvent(
                        "delete_model",
                        reason=f"removed versions {deleted.versions}, aliases {deleted.aliases}",
                    ),
                )
        return ModelDeletion(deleted=deleted, dry_run=dry_run)

    # --- versions -------------------------------------------------------------------------

    def register(self, tenant_id: str, name: str, body: VersionCreate, actor: str) -> ModelVersion:
        full_name = self._full_name(tenant_id, name)
        check_tags(body.tags, RESERVED_VERSION_TAGS, _validate_model_version_tag)
        run_id, model_artifact_id, job_id = self._registration_source(tenant_id, body)
        events = []
        try:
            self._client.create_registered_model(full_name, tags={TENANT_TAG: tenant_id})
            events.append(AuditEvent("register_model"))
        except MlflowException as error:
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            self._model(tenant_id, name)  # exists: make sure it is this tenant's
        tags = body.tags | {STAGE_TAG: "None", "model_artifact_id": model_artifact_id}
        if job_id is not None:
            tags["job_id"] = job_id
        # A model trained on a feature set names its version on the registered version too.
        run_tags = self._client.get_run(run_id).data.tags
        tags |= {key: run_tags[key] for key in LINEAGE_TAGS if key in run_tags}
        # MLflow's SQL registry resolves the `models:/<id>` source with a default MlflowClient(),
        # i.e. the process-wide tracking URI, not this client's: make it this store's at the call
        # (main.py sets it at start-up; another app in the same process, as in the tests, or an
        # embedded model loaded from another store may have changed it since).
        mlflow.set_tracking_uri(self._tracking.tracking_uri)
        version = self._client.create_model_version(
            full_name,
            source=f"models:/{model_artifact_id}",
            run_id=run_id,
            tags=tags,
            description=body.description,
            model_id=model_artifact_id,
        )
        events.append(
            AuditEvent(
                "register_version",
                version=str(version.version),
                to_stage="None",
                reason=f"from job {job_id}" if job_id else f"from run {run_id}",
            )
        )
        self._audit.record(tenant_id, actor, name, *events)
        return self.get_version(tenant_id, name, version.version)

    def register_run(
        self, tenant_id: str, name: str, run_id: str, tags: dict[str, str], actor: str
    ) -> dict[str, str]:
        """Register the model a run logged (a job registering its own model before it reads
        completed); {model_name, version}."""
        version = self.register(tenant_id, name, VersionCreate(run_id=run_id, tags=tags), actor)
        return {"model_name": name, "version": str(version.version)}

    def _registration_source(
        self, tenant_id: str, body: VersionCreate
    ) -> tuple[str, str, str | None]:
        """(run id, LoggedModel id, job id) of what the caller asked to register."""
        if body.job_id is not None:
            job = self._jobs.get(tenant_id, ids.job_id(body.job_id), "training")
            if job is None:
                raise NotFoundError(f"training job {body.job_id} does not exist")
            model_artifact_id = (job.result or {}).get("model_artifact_id")
            if job.status != "completed" or not model_artifact_id or not job.mlflow_run_id:
                raise ConflictError(
                    f"training job {body.job_id} is {job.status}; only a completed job's model "
                    "can be registered"
                )
            self._tracking.tenant_run(tenant_id, job.mlflow_run_id)
            return job.mlflow_run_id, model_artifact_id, job.job_id
        assert body.run_id is not None
        run = self._tracking.tenant_run(tenant_id, body.run_id)
        outputs = run.outputs.model_outputs if run.outputs else []
        if not outputs:
            raise ConflictError(f"run {body.run_id} logged no model")
        return run.info.run_id, outputs[0].model_id, run.data.tags.get("job_id")

    def versions_of_run(self, tenant_id: str, run_id: str) -> list[dict[str, str]]:
        """{model_name, version} of the tenant's registered versions made from a run."""
        prefix = f"{tenant_id}."
        return [
            {"model_name": found.name[len(prefix):], "version": str(found.version)}
            for found in self._client.search_model_versions(f"run_id = '{run_id}'")
            if found.name.startswith(prefix)
        ]

    def get_version(self, tenant_id: str, name: str, version: str | int) -> ModelVersion:
        model, found = self._version(tenant_id, name, version)
        return self._version_response(model, found)

    def run_json_artifact(self, version: ModelVersion, relative: str) -> Any:
        """A JSON artifact of the run that made `version` (a version already read for its
        tenant), or None when the run logged none."""
        if version.run_id is None:
            return None
        return self._tracking.read_json_artifact(self._client.get_run(version.run_id), relative)

    def update_version(
        self, tenant_id: str, name: str, version: str, body: ModelUpdate, actor: str
    ) -> ModelVersion:
        model, found = self._version(tenant_id, name, version)
        if body.tags:
            check_tags(body.tags, RESERVED_VERSION_TAGS, _validate_model_version_tag)
        if body.description is not None:
            self._client.update_model_version(model.name, found.version, body.description)
        for key, value in (body.tags or {}).items():
            self._client.set_model_version_tag(model.name, str(found.version), key, value)
        self._audit.record(
            tenant_id,
            actor,
            name,
            AuditEvent("update_version", version=str(found.version), reason=_changed(body)),
        )
        return self.get_version(tenant_id, name, version)

    def delete_version(self, tenant_id: str, name: str, version: str, actor: str) -> None:
        with self._stage_lock:
            model, found = self._version(tenant_id, name, version)
            stage = _stage(found)
            if stage == "Production":
                raise ConflictError(
                    f"version {found.version} of {name} is in Production; "
                    "move it to Archived before deleting it"
                )
            self._client.delete_model_version(model.name, str(found.version))
            self._audit.record(
                tenant_id,
                actor,
                name,
                AuditEvent("delete_version", version=str(found.version), from_stage=stage),
            )

    def transition(
        self, tenant_id: str, name: str, version: str, body: StageChange, actor: str
    ) -> ModelVersion:
        with self._stage_lock:
            model, found = self._version(tenant_id, name, version)
            number = str(found.version)
            current, target = _stage(found), body.stage
            if current == target:
                return self._version_response(model, found)
            events = [
                AuditEvent(
                    "transition",
                    version=number,
                    from_stage=current,
                    to_stage=target,
                    reason=body.reason,
                )
            ]
            if target == "Production":
                # At most one Production version: the previous one is archived, and that is a
                # transition of its own in the audit trail.
                for previous in self._versions(model.name, "Production"):
                    if str(previous.version) == number:
                        continue
                    self._client.set_model_version_tag(
                        model.name, str(previous.version), STAGE_TAG, "Archived"
                    )
                    events.append(
                        AuditEvent(
                            "transition",
                            version=str(previous.version),
                            from_stage="Production",
                            to_stage="Archived",
                            reason=f"replaced by version {number} in Production",
                        )
                    )
            self._client.set_model_version_tag(model.name, number, STAGE_TAG, target)
            leaving_alias = STAGE_ALIASES.get(current)
            if leaving_alias and str(model.aliases.get(leaving_alias)) == number:
                self._client.delete_registered_model_alias(model.name, leaving_alias)
            if target in STAGE_ALIASES:
                self._client.set_registered_model_alias(model.name, STAGE_ALIASES[target], number)
            self._audit.record(tenant_id, actor, name, *events)
        return self.get_version(tenant_id, name, number)

    # --- aliases and audit ----------------------------------------------------------------

    @staticmethod
    def _free_alias(alias: str) -> str:
        ids.alias(alias)
        if alias.lower() in STAGE_ALIASES.values():
            raise BadRequestError(
                f"alias {alias} is reserved for stages; use POST .../versions/{{version}}/stage"
            )
        return alias

    def set_alias(
        self, tenant_id: str, name: str, alias: str, version: int, actor: str
    ) -> RegisteredModel:
        self._free_alias(alias)
        model, found = self._version(tenant_id, name, version)
        previous = model.aliases.get(alias)
        try:
            self._client.set_registered_model_alias(model.name, alias, str(found.version))
        except MlflowException as error:
            # MLflow refuses its own reserved aliases (latest, v<number>)
            if error.error_code == "INVALID_PARAMETER_VALUE":
                raise BadRequestError(f"alias {alias}: {error.message}") from None
            raise
        self._audit.record(
            tenant_id,
            actor,
            name,
            AuditEvent(
                "set_alias",
                version=str(found.version),
                alias=alias,
                reason=f"moved from version {previous}" if previous is not None else None,
            ),
        )
        return self.get_model(tenant_id, name)

    def delete_alias(self, tenant_id: str, name: str, alias: str, actor: str) -> RegisteredModel:
        self._free_alias(alias)
        model = self._model(tenant_id, name)
        if alias not in model.aliases:
            raise NotFoundError(f"model {name} has no alias {alias}")
        self._client.delete_registered_model_alias(model.name, alias)
        self._audit.record(
            tenant_id,
            actor,
            name,
            AuditEvent("delete_alias", version=str(model.aliases[alias]), alias=alias),
        )
        return self.get_model(tenant_id, name)

    def audit_trail(self, tenant_id: str, name: str) -> AuditTrail:
        records = self._audit.events(tenant_id, ids.model_name(name))
        # A deleted model keeps its trail; a name never used by this tenant is 404.
        if not records:
            self._model(tenant_id, name)
        return AuditTrail(
            events=[
                AuditEventOut(
                    at=record.at,
                    actor=record.actor,
                    action=record.event.action,
                    version=record.event.version,
                    from_stage=record.event.from_stage,
                    to_stage=record.event.to_stage,
                    alias=record.event.alias,
                    reason=record.event.reason,
                )
                for record in records
            ]
        )


def _columns(schema: object) -> list[SignatureColumn]:
    return [
        SignatureColumn(name=column.get("name"), type=str(column.get("type")))
        for column in schema.to_dict()  # type: ignore[attr-defined]
    ]


def _changed(body: ModelUpdate) -> str:
    changed = (["description"] if body.description is not None else []) + [
        f"tag {key}" for key in sorted(body.tags or {})
    ]
    return "changed " + ", ".join(changed) if changed else "no change"


def _parse_tag(tag: str) -> tuple[str, str]:
    key, separator, value = tag.partition("=")
    if not separator or not key.strip():
        raise InvalidFieldError("tag", "use key=value")
    return key.strip(), value.strip()


def _parse_metric(metric: str) -> tuple[str, Callable[[float, float], bool], float]:
    match = _METRIC_FILTER.fullmatch(metric)
    if match is None:
        raise InvalidFieldError("metric", "use <metric><op><number>, e.g. auc_roc>0.8")
    key, operator, value = match.groups()
    return key, _COMPARATORS[operator], float(value)


def _has_tag(model: RegisteredModel, key: str, value: str) -> bool:
    return model.tags.get(key) == value or any(
        version.tags.get(key) == value for version in model.versions
    )


def _meets_metric(
    model: RegisteredModel, key: str, compare: Callable[[float, float], bool], threshold: float
) -> bool:
    return any(
        (value := version.metrics.get(key)) is not None and compare(value, threshold)
        for version in model.versions
    )
