"""Tracking API logic on MLflow, scoped to the calling tenant.

MLflow itself has no tenants: every experiment is named `<tenant>/<name>` and tagged
`tenant_id`, and every read goes through `tenant_experiment`/`tenant_run`, which answer 404 for
anything of another tenant exactly as for an unknown id. Searches are always constrained to the
tenant's own experiment ids, whatever the caller passes.
"""

import json
import mimetypes
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from mlflow.entities import Experiment as MlflowExperiment
from mlflow.entities import LoggedModel, ViewType
from mlflow.entities import Run as MlflowRun
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.tracking import MlflowClient
from mlflow.utils.search_utils import SearchUtils
from mlflow.utils.validation import _validate_experiment_tag

from app.errors import ConflictError, InvalidFieldError, NotFoundError
from app.tracking import ids
from app.tracking.mlflow_setup import Tracking
from app.tracking.schemas import (
    ArtifactFile,
    ArtifactList,
    ChartMetric,
    ChartPoint,
    ChartSeries,
    CompareChart,
    ComparedMetric,
    ComparedParam,
    Experiment,
    ExperimentCreate,
    LoggedModelInfo,
    MetricHistory,
    MetricPoint,
    RegisteredVersionRef,
    Run,
    RunComparison,
    RunDataset,
    RunName,
    RunPage,
    RunSearch,
    as_json_safe,
)

TENANT_TAG = "tenant_id"
# Substrings of metric names where a lower value is better (compare's best_run_id).
_LOWER_IS_BETTER = ("loss", "error", "rmse", "mae", "mse", "mape")
HISTORY_SUFFIX = "_by_iteration"


def millis(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if value else None


def check_tags(
    tags: dict[str, str], reserved: frozenset[str], validate: Callable[[str, str], None]
) -> None:
    """Refuse reserved keys and anything MLflow would refuse, before the first write: raises
    InvalidFieldError (422) naming `tags` or `tags.<key>`.

    MLflow checks each tag as it is written, so a bad third tag used to fail after the description
    and the first two were stored, with no audit event (issue 11). `validate` is MLflow's own rule
    for the kind of tag (key characters, lengths), so the two can never disagree; an experiment
    tag MLflow refuses (an empty key) used to be a 500.
    """
    clash = sorted(reserved & tags.keys())
    if clash:
        raise InvalidFieldError("tags", f"{', '.join(clash)} is maintained by the service")
    for key, value in tags.items():
        try:
            validate(key, value)
        except MlflowException as error:
            raise InvalidFieldError(f"tags.{key}", error.message) from None


def is_not_found(error: MlflowException) -> bool:
    return error.error_code == "RESOURCE_DOES_NOT_EXIST"


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def run_response(run: MlflowRun) -> Run:
    params, tags = run.data.params, run.data.tags
    model_outputs = run.outputs.model_outputs if run.outputs else []
    return Run(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        name=run.info.run_name,
        status=run.info.status,
        start_time=millis(run.info.start_time),
        end_time=millis(run.info.end_time),
        params=params,
        metrics={key: as_json_safe(value) for key, value in run.data.metrics.items()},
        tags=tags,
        job_id=tags.get("job_id"),
        model_artifact_id=model_outputs[0].model_id if model_outputs else None,
        dataset=RunDataset(
            query=params.get("dataset_query") or None,
            table=params.get("dataset_table") or None,
            content_hash=params.get("dataset_hash"),
            rows=_int_or_none(params.get("dataset_rows")),
        ),
        code_version=tags.get("code_version"),
    )


class TrackingService:
    def __init__(self, tracking: Tracking) -> None:
        self._tracking = tracking
        self.tracking_uri = tracking.tracking_uri
        self.client = MlflowClient(tracking_uri=tracking.tracking_uri)
        # experiment id -> owning tenant; an experiment never changes owner.
        self._owners: dict[str, str | None] = {}
        self._lock = threading.Lock()

    # --- tenancy --------------------------------------------------------------------------

    @staticmethod
    def _prefix(tenant_id: str) -> str:
        return f"{tenant_id}/"

    def _owner(self, experiment: MlflowExperiment) -> str | None:
        tenant = experiment.tags.get(TENANT_TAG)
        # Both the tag and the name prefix must agree, so renaming or re-tagging one in the
        # MLflow UI cannot hand an experiment to another tenant.
        if tenant and experiment.name.startswith(self._prefix(tenant)):
            return tenant
        return None

    def tenant_experiment(self, tenant_id: str, experiment_id: str) -> MlflowExperiment:
        ids.experiment_id(experiment_id)
        try:
            experiment = self.client.get_experiment(experiment_id)
        except MlflowException as error:
            if is_not_found(error):
                raise NotFoundError(f"experiment {experiment_id} does not exist") from None
            raise
        if self._owner(experiment) != tenant_id:
            raise NotFoundError(f"experiment {experiment_id} does not exist")
        return experiment

    def _owner_of_id(self, experiment_id: str) -> str | None:
        with self._lock:
            if experiment_id in self._owners:
                return self._owners[experiment_id]
        owner = self._owner(self.client.get_experiment(experiment_id))
        with self._lock:
            self._owners[experiment_id] = owner
        return owner

    def tenant_run(self, tenant_id: str, run_id: str, parameter: str = "run_id") -> MlflowRun:
        ids.run_id(run_id, parameter)
        try:
            run = self.client.get_run(run_id)
        except MlflowException as error:
            if is_not_found(error):
                raise NotFoundError(f"run {run_id} does not exist") from None
            raise
        if self._owner_of_id(run.info.experiment_id) != tenant_id:
            raise NotFoundError(f"run {run_id} does not exist")
        return run

    def tenant_experiment_ids(self, tenant_id: str) -> list[str]:
        return [experiment.experiment_id for experiment in self._tenant_experiments(tenant_id)]

    def _tenant_experiments(self, tenant_id: str) -> list[MlflowExperiment]:
        experiments: list[MlflowExperiment] = []
        page_token = None
        while True:
            page = self.client.search_experiments(
                view_type=ViewType.ACTIVE_ONLY,
                # tenant ids match ^[a-z0-9][a-z0-9_-]*$, so quoting them here is safe
                filter_string=f"tags.{TENANT_TAG} = '{tenant_id}'",
                order_by=["creation_time ASC"],
                page_token=page_token,
            )
            experiments += [item for item in page if self._owner(item) == tenant_id]
            page_token = page.token
            if not page_token:
                return experiments

    # --- experiments ----------------------------------------------------------------------

    def _experiment_response(self, experiment: MlflowExperiment, tenant_id: str) -> Experiment:
        return Experiment(
            experiment_id=experiment.experiment_id,
            name=experiment.name.removeprefix(self._prefix(tenant_id)),
            tags={key: value for key, value in experiment.tags.items() if key != TENANT_TAG},
            lifecycle_stage=experiment.lifecycle_stage,
            created_at=millis(experiment.creation_time),
            last_updated_at=millis(experiment.last_update_time),
        )

    def create_experiment(self, tenant_id: str, body: ExperimentCreate) -> Experiment:
        name = f"{self._prefix(tenant_id)}{body.name}"
        if self.client.get_experiment_by_name(name) is not None:
            raise ConflictError(f"experiment {body.name} already exists")
        check_tags(body.tags, frozenset({TENANT_TAG}), _validate_experiment_tag)
        tags = body.tags | {TENANT_TAG: tenant_id}
        try:
            experiment_id = self.client.create_experiment(
                name, artifact_location=self._tracking.tenant_artifact_uri(tenant_id), tags=tags
            )
        except MlflowException as error:
            if error.error_code == "RESOURCE_ALREADY_EXISTS":
                raise ConflictError(f"experiment {body.name} already exists") from None
            raise
        return self._experiment_response(self.client.get_experiment(experiment_id), tenant_id)

    def list_experiments(self, tenant_id: str) -> list[Experiment]:
        return [
            self._experiment_response(experiment, tenant_id)
            for experiment in self._tenant_experiments(tenant_id)
        ]

    def get_experiment(self, tenant_id: str, experiment_id: str) -> Experiment:
        return self._experiment_response(
            self.tenant_experiment(tenant_id, experiment_id), tenant_id
        )

    # --- runs -----------------------------------------------------------------------------

    def search_runs(self, tenant_id: str, body: RunSearch) -> RunPage:
        if body.experiment_ids:
            experiment_ids = [
                self.tenant_experiment(
                    tenant_id, ids.experiment_id(value, "experiment_ids")
                ).experiment_id
                for value in body.experiment_ids
            ]
        else:
            experiment_ids = self.tenant_experiment_ids(tenant_id)
        if not experiment_ids:
            return RunPage(runs=[], next_page_token=None)
        if body.page_token:
            _check_page_token(body.page_token)
        try:
            page = self.client.search_runs(
                experiment_ids,
                filter_string=body.filter or "",
                max_results=body.max_results,
                order_by=body.order_by,
                page_token=body.page_token,
            )
        except MlflowException as error:
            if error.error_code != "INVALID_PARAMETER_VALUE":
                raise
            raise InvalidFieldError(_search_field(str(error)), error.message) from None
        return RunPage(runs=[run_response(run) for run in page], next_page_token=page.token)

    def get_run(self, tenant_id: str, run_id: str) -> Run:
        return run_response(self.tenant_run(tenant_id, run_id))

    def metric_history(self, tenant_id: str, run_id: str, key: str) -> MetricHistory:
        ids.metric_key(key)
        self.tenant_run(tenant_id, run_id)
        points = sorted(self.client.get_metric_history(run_id, key), key=lambda m: m.step)
        if not points:
            raise NotFoundError(f"run {run_id} has no metric {key}")
        return MetricHistory(
            key=key,
            history=[
                MetricPoint(step=point.step, value=point.value, timestamp=millis(point.timestamp))
                for point in points
                if as_json_safe(point.value) is not None
            ],
        )

    def compare(self, tenant_id: str, run_ids: list[str]) -> RunComparison:
        unique = list(dict.fromkeys(run_ids))
        if len(unique) < 2:
            raise InvalidFieldError("run_ids", "name at least two different runs")
        runs = [self.tenant_run(tenant_id, run_id, "run_ids") for run_id in unique]
        param_keys = sorted({key for run in runs for key in run.data.params})
        metric_keys = sorted(
            {key for run in runs for key in run.data.metrics if not key.endswith(HISTORY_SUFFIX)}
        )
        metrics = []
        for key in metric_keys:
            values = {run.info.run_id: as_json_safe(run.data.metrics.get(key)) for run in runs}
            present = {run_id: value for run_id, value in values.items() if value is not None}
            lower = any(marker in key.lower() for marker in _LOWER_IS_BETTER)
            best = (min if lower else max)(present, key=present.__getitem__) if present else None
            metrics.append(ComparedMetric(key=key, values=values, best_run_id=best))
        history_keys = sorted(
            {key for run in runs for key in run.data.metrics if key.endswith(HISTORY_SUFFIX)}
        )
        chart = CompareChart(
            metrics=[
                ChartMetric(
                    key=key,
                    series=[
                        ChartSeries(
                            run_id=run.info.run_id,
                            points=[
                                ChartPoint(step=point.step, value=point.value)
                                for point in sorted(
                                    self.client.get_metric_history(run.info.run_id, key),
                                    key=lambda m: m.step,
                                )
                                if as_json_safe(point.value) is not None
                            ],
                        )
                        for run in runs
                        if key in run.data.metrics
                    ],
                )
                for key in history_keys
            ]
        )
        return RunComparison(
            runs=[RunName(run_id=run.info.run_id, name=run.info.run_name) for run in runs],
            params=[
                ComparedParam(
                    key=key, values={run.info.run_id: run.data.params.get(key) for run in runs}
                )
                for key in param_keys
            ],
            metrics=metrics,
            chart=chart,
        )

    # --- artifacts ------------------------------------------------------------------------
    # Runs and LoggedModels keep their files under different roots (MLflow 3 stores a model
    # under the LoggedModel's own artifact location); both go through the same checks here.

    def list_artifacts(self, tenant_id: str, run_id: str, path: str) -> ArtifactList:
        relative = ids.artifact_path(path, allow_root=True)
        run = self.tenant_run(tenant_id, run_id)
        return self._list_under(run.info.artifact_uri, relative)

    def read_artifact(self, tenant_id: str, run_id: str, path: str) -> tuple[bytes, str, str]:
        """The artifact's bytes, content type and file name."""
        relative = ids.artifact_path(path)
        run = self.tenant_run(tenant_id, run_id)
        return self._download_under(run.info.artifact_uri, relative)

    def list_model_artifacts(
        self, tenant_id: str, model_artifact_id: str, path: str
    ) -> ArtifactList:
        relative = ids.artifact_path(path, allow_root=True)
        model = self.tenant_logged_model(tenant_id, model_artifact_id)
        return self._list_under(model.artifact_location, relative)

    def read_model_artifact(
        self, tenant_id: str, model_artifact_id: str, path: str
    ) -> tuple[bytes, str, str]:
        """A file of the LoggedModel (MLmodel, the model itself...): bytes, type, name."""
        relative = ids.artifact_path(path)
        model = self.tenant_logged_model(tenant_id, model_artifact_id)
        return self._download_under(model.artifact_location, relative)

    def read_json_artifact(self, run: MlflowRun, relative: str) -> Any:
        """A JSON artifact of a run already checked for the tenant, or None when absent."""
        try:
            return json.loads(self._artifact_bytes(run.info.artifact_uri, relative))
        except NotFoundError:
            return None

    def _list_under(self, root_uri: str, relative: str) -> ArtifactList:
        """One folder level under an artifact root; `relative` is already checked."""
        local_root = _local_root(root_uri)
        if local_root is not None:
            ids.contained(local_root, relative)
        repository = get_artifact_repository(root_uri, tracking_uri=self.tracking_uri)
        files = repository.list_artifacts(relative or None)
        return ArtifactList(
            root_uri=root_uri,
            files=[
                ArtifactFile(path=item.path, is_dir=item.is_dir, file_size=item.file_size)
                for item in files
            ],
        )

    def _download_under(self, root_uri: str, relative: str) -> tuple[bytes, str, str]:
        content_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        return self._artifact_bytes(root_uri, relative), content_type, relative.rsplit("/", 1)[-1]

    def _artifact_bytes(self, root_uri: str, relative: str) -> bytes:
        local_root = _local_root(root_uri)
        if local_root is not None:
            # Local store: read in place, but only after resolving inside the root.
            return _read_file(ids.contained(local_root, relative), relative)
        with tempfile.TemporaryDirectory() as scratch:
            try:
                get_artifact_repository(
                    root_uri, tracking_uri=self.tracking_uri
                ).download_artifacts(relative, dst_path=scratch)
            except MlflowException:
                raise NotFoundError(f"no artifact file {relative}") from None
            return _read_file(ids.contained(Path(scratch), relative), relative)

    # --- logged models --------------------------------------------------------------------

    def tenant_logged_model(self, tenant_id: str, model_artifact_id: str) -> LoggedModel:
        ids.model_artifact_id(model_artifact_id)
        try:
            model = self.client.get_logged_model(model_artifact_id)
        except MlflowException as error:
            if is_not_found(error):
                raise NotFoundError(f"model {model_artifact_id} does not exist") from None
            raise
        if self._owner_of_id(model.experiment_id) != tenant_id:
            raise NotFoundError(f"model {model_artifact_id} does not exist")
        return model

    def logged_model(self, tenant_id: str, model_artifact_id: str) -> LoggedModelInfo:
        model = self.tenant_logged_model(tenant_id, model_artifact_id)
        job_id = None
        if model.source_run_id:
            job_id = self.client.get_run(model.source_run_id).data.tags.get("job_id")
        prefix = f"{tenant_id}."
        versions = self.client.search_model_versions(
            filter_string=f"tags.model_artifact_id = '{model_artifact_id}'"
        )
        return LoggedModelInfo(
            model_artifact_id=model.model_id,
            run_id=model.source_run_id,
            job_id=job_id,
            name=model.name,
            artifact_uri=model.artifact_location,
            registered_versions=[
                RegisteredVersionRef(name=item.name.removeprefix(prefix), version=str(item.version))
                for item in versions
                if item.name.startswith(prefix)
            ],
        )


def _check_page_token(token: str) -> None:
    """422 naming `page_token` for a token MLflow did not issue. MLflow's own parser raises
    ValueError (non-ASCII text) or AttributeError (JSON that is not an object) for some of them,
    which reached the caller as 502; it is run here on its own so only its failures are caught."""
    try:
        SearchUtils.parse_start_offset_from_page_token(token)
    except (MlflowException, ValueError, AttributeError, TypeError):
        raise InvalidFieldError(
            "page_token", "not a page token of this search; send the next_page_token it returned"
        ) from None


def _search_field(message: str) -> str:
    lowered = message.lower()
    if "page token" in lowered:
        return "page_token"
    if "order_by" in lowered or "order by" in lowered:
        return "order_by"
    return "filter"


def _local_root(artifact_uri: str) -> Path | None:
    parsed = urlparse(artifact_uri)
    if parsed.scheme == "file":
        return Path(url2pathname(parsed.path))
    if parsed.scheme == "" and artifact_uri.startswith("/"):
        return Path(artifact_uri)
    return None


def _read_file(target: Path, path: str) -> bytes:
    if not target.is_file():
        raise NotFoundError(f"no artifact file {path}")
    return target.read_bytes()
