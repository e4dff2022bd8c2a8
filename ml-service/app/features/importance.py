"""What matters for a target ("what drives churn?"): the importance a trained model found, and a
feature set's features' association with the target from the data profiler.

Nothing is computed again for the model: training stores each job's normalised importance
(`evaluation.json` of its MLflow run, `feature_importance` of its job) and the algorithm says what
it measures (`Algorithm.importance_kind`). The association is the profiler's own target analysis
(app.eda.service.target_analysis) on the frame a model trained on.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.charts.core import MEDIA_TYPES, chart_title
from app.datasets.schemas import DatasetSource
from app.eda.charts import target_associations_chart
from app.eda.schemas import Association
from app.eda.service import EdaService
from app.errors import InvalidFieldError, NotFoundError
from app.features.importance_schemas import (
    FeatureAssociation,
    FeatureImportance,
    FeatureScore,
    FeatureSetAssociation,
    ModelChoice,
    ModelImportance,
)
from app.features.service import FeatureSetService, fitted_features
from app.jobs.store import JobRecord, JobStore
from app.registry.schemas import ModelVersion
from app.registry.service import RegistryService
from app.training.algorithms import ALGORITHMS
from app.training.charts import feature_importance_chart
from app.training.schemas import ChartInfo, FeatureSetRef

TRAINING_KIND = "training"
# How many of the tenant's latest completed training jobs a lookup reads through.
JOBS_SEARCHED = 1000
EVALUATION_ARTIFACT = "evaluation.json"
MODEL_CHART = "feature_importance"
ASSOCIATION_CHART = "target_associations"


def _target_of(config: Mapping[str, Any] | None) -> str | None:
    """The target column of a job's stored configuration (its spec; a run's config.json)."""
    return ((config or {}).get("request") or {}).get("target_column")


def _has_importance(config: Mapping[str, Any] | None) -> bool:
    # Forecasters (Prophet, ARIMA) model a series, not features: they have no importance.
    return (config or {}).get("task_type") != "forecasting"


def _scores(importance: Mapping[str, float]) -> list[FeatureScore]:
    ranked = sorted(importance.items(), key=lambda item: (-item[1], item[0]))
    return [FeatureScore(feature=name, importance=share) for name, share in ranked]


def _created(version: ModelVersion) -> datetime:
    return version.created_at or datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Found:
    """The chosen model and the target it predicts."""

    target: str
    found: ModelImportance


class FeatureImportanceService:
    def __init__(
        self,
        registry: RegistryService,
        jobs: JobStore,
        eda: EdaService,
        features: FeatureSetService,
    ) -> None:
        self._registry = registry
        self._jobs = jobs
        self._eda = eda
        self._features = features

    def answer(
        self,
        tenant_id: str,
        target: str | None,
        model_name: str | None,
        model_version: str | None,
        feature_set: str | None,
        feature_set_version: int | None,
    ) -> FeatureImportance:
        """The importance of the model for `target` (or of `model_name`'s version) and, with
        `feature_set`, its features' association with the target. Blocking (MLflow, DuckDB).

        The model, when none is named: the target's registered version in Production (the
        newest, if several models have one), else its latest registered version, else the
        latest completed training job with that target. 422 naming `target` when neither it
        nor `model_name` is given or they disagree, `model_version` without `model_name`,
        `feature_set_version` without `feature_set`; 404 naming the field that matched
        nothing."""
        if model_version is not None and model_name is None:
            raise InvalidFieldError("model_version", "needs model_name")
        if feature_set_version is not None and feature_set is None:
            raise InvalidFieldError("feature_set_version", "needs feature_set")
        if model_name is not None:
            model = self._requested(tenant_id, model_name, model_version)
            if target is not None and target != model.target:
                raise InvalidFieldError(
                    "target",
                    f"model {model_name} version {model.found.model_version} predicts "
                    f"{model.target!r}, not {target!r}",
                )
        elif target is not None:
            model = self._for_target(tenant_id, target)
        else:
            raise InvalidFieldError("target", "give the column to explain, or model_name")
        association = None
        if feature_set is not None:
            association = self._association(
                tenant_id, model.target, feature_set, feature_set_version, model.found.job_id
            )
        specs = self._specs(model.target, model.found, association)
        charts = [
            ChartInfo(name=name, title=chart_title(spec), media_types=MEDIA_TYPES)
            for name, spec in specs.items()
        ]
        return FeatureImportance(
            target=model.target, model=model.found, feature_set=association, charts=charts
        )

    def chart(self, answer: FeatureImportance, name: str) -> dict:
        """One chart of an answer as a Vega-Lite spec; 404 naming the charts it has."""
        specs = self._specs(answer.target, answer.model, answer.feature_set)
        if name not in specs:
            raise NotFoundError(
                f"the importance answer has no chart named {name!r}; it has: {', '.join(specs)}"
            )
        return specs[name]

    @staticmethod
    def _specs(
        target: str, model: ModelImportance, association: FeatureSetAssociation | None
    ) -> dict[str, dict]:
        specs = feature_importance_chart(
            {score.feature: score.importance for score in model.feature_importance}
        )
        which = (
            f"{model.model_name} v{model.model_version}"
            if model.model_name
            else f"job {model.job_id}"
        )
        for spec in specs.values():
            spec["title"] = {
                "text": f"What drives {target}: {which} ({model.algorithm})",
                "subtitle": f"share of the model's {model.importance_kind.split(':')[0]}",
            }
        if association is not None and association.associations:
            specs[ASSOCIATION_CHART] = target_associations_chart(
                target,
                # The profiler's own shape: the chart is the profile's chart.
                [
                    Association(column=item.feature, measure=item.measure, value=item.value)
                    for item in association.associations
                ],
            )
            specs[ASSOCIATION_CHART]["title"]["subtitle"] = (
                f"features of {association.name} v{association.version} on its point-in-time "
                f"frame ({association.rows} rows); |Pearson r|, Cramér's V or η"
            )
        return specs

    # --- the model --------------------------------------------------------------------------

    def _requested(self, tenant_id: str, name: str, version: str | None) -> _Found:
        try:
            if version is None:
                model = self._registry.get_model(tenant_id, name)
                if not model.versions:
                    raise NotFoundError(f"model_name: model {name} has no versions")
                version = model.production_version or model.versions[-1].version
                why = (
                    "its version in Production"
                    if model.production_version
                    else "its latest version (none is in Production)"
                )
            else:
                why = "the version asked for"
            found = self._registry.get_version(tenant_id, name, version)
        except NotFoundError as error:
            field = "model_version" if "has no version" in error.detail else "model_name"
            raise NotFoundError(f"{field}: {error.detail}") from None
        config = found.lineage.config
        if not _has_importance(config):
            raise InvalidFieldError(
                "model_name", f"model {name} is a forecaster; it has no feature importance"
            )
        target = _target_of(config)
        if target is None:
            raise InvalidFieldError(
                "model_name", f"model {name} version {found.version} was not made by a job"
            )
        return _Found(
            target,
            self._registered(found, config, "requested", f"model {name} version {found.version}: "
                             f"{why}"),
        )  # fmt: skip

    def _for_target(self, tenant_id: str, target: str) -> _Found:
        versions = [
            version
            for model in self._registry.list_models(tenant_id, None, None, None, None)
            for version in model.versions
            if _target_of(version.lineage.config) == target
            and _has_importance(version.lineage.config)
        ]
        production = [version for version in versions if version.stage == "Production"]
        if production:
            found = max(production, key=_created)
            reason = (
                f"model {found.name} version {found.version} is in Production and predicts "
                f"{target!r}"
            )
            if len(production) > 1:
                reason += f" (the newest of {len(production)} in Production)"
            return _Found(
                target, self._registered(found, found.lineage.config, "production", reason)
            )
        if versions:
            found = max(versions, key=_created)
            reason = (
                f"no registered version predicting {target!r} is in Production; model "
                f"{found.name} version {found.version} is the latest of {len(versions)} registered"
            )
            return _Found(
                target, self._registered(found, found.lineage.config, "latest_version", reason)
            )
        for job in self._completed_jobs(tenant_id):
            if _target_of(job.spec) == target and _has_importance(job.spec):
                if (job.result or {}).get("feature_importance") is None:
                    continue
                reason = (
                    f"no registered model predicts {target!r}; training job {job.job_id} is the "
                    "latest completed one with that target"
                )
                return _Found(target, self._of_job(job, reason))
        raise NotFoundError(
            f"target: no registered model and no completed training job of this tenant predicts "
            f"{target!r}"
        )

    def _completed_jobs(self, tenant_id: str) -> list[JobRecord]:
        """The tenant's completed training jobs, newest first."""
        return self._jobs.list_jobs(tenant_id, TRAINING_KIND, "completed", JOBS_SEARCHED)

    def _registered(
        self,
        version: ModelVersion,
        config: Mapping[str, Any] | None,
        chosen_by: ModelChoice,
        reason: str,
    ) -> ModelImportance:
        evaluation = self._registry.run_json_artifact(version, EVALUATION_ARTIFACT) or {}
        algorithm = (config or {}).get("algorithm", "")
        feature_set = None
        if "feature_set" in version.tags:
            feature_set = FeatureSetRef(
                name=version.tags["feature_set"],
                version=int(version.tags["feature_set_version"]),
            )
        return ModelImportance(
            chosen_by=chosen_by,
            reason=reason,
            model_name=version.name,
            model_version=version.version,
            stage=version.stage,
            job_id=version.job_id,
            algorithm=algorithm,
            task_type=(config or {}).get("task_type", ""),
            test_metrics=evaluation.get("metrics") or {},
            importance_kind=_kind(algorithm),
            feature_importance=_scores(evaluation.get("feature_importance") or {}),
            feature_set=feature_set,
        )

    @staticmethod
    def _of_job(job: JobRecord, reason: str) -> ModelImportance:
        result = job.result or {}
        feature_set = job.spec.get("feature_set")
        return ModelImportance(
            chosen_by="training_job",
            reason=reason,
            model_name=None,
            model_version=None,
            stage=None,
            job_id=job.job_id,
            algorithm=job.spec["algorithm"],
            task_type=job.spec["task_type"],
            test_metrics=result.get("metrics") or {},
            importance_kind=_kind(job.spec["algorithm"]),
            feature_importance=_scores(result.get("feature_importance") or {}),
            feature_set=FeatureSetRef(**feature_set) if feature_set else None,
        )

    # --- the feature set --------------------------------------------------------------------

    def _association(
        self,
        tenant_id: str,
        target: str,
        name: str,
        version_number: int | None,
        model_job_id: str | None,
    ) -> FeatureSetAssociation:
        """The version's features' association with `target` on the point-in-time frame of a
        training job that trained on it with that target: the model's own job when it did,
        else the newest such job. The frame, not the source: it holds the target (from the
        entity rows) and each feature as the model saw it (transformed, as of its row's time)."""
        try:
            version = self._features.version(tenant_id, name, version_number)
        except NotFoundError as error:
            field = "feature_set_version" if "has no version" in error.detail else "feature_set"
            raise NotFoundError(f"{field}: {error.detail}") from None
        used = {"name": version.name, "version": version.version}
        jobs = [
            job
            for job in self._completed_jobs(tenant_id)
            if job.spec.get("feature_set") == used and _target_of(job.spec) == target
        ]
        if not jobs:
            raise NotFoundError(
                f"feature_set: no completed training job trained on {name} version "
                f"{version.version} with target {target!r}; its point-in-time frame is built when "
                "one does (POST /api/v1/training/submit with dataset.source `feature_set`)"
            )
        job = next((job for job in jobs if job.job_id == model_job_id), jobs[0])
        table = job.spec["request"]["dataset"]["table"]
        outputs = [column for item in fitted_features(version) for column in item.columns]
        analysis = self._eda.target_association(
            tenant_id, DatasetSource(source="table", table=table), target, outputs
        )
        return FeatureSetAssociation(
            name=version.name,
            version=version.version,
            frame="point_in_time",
            table=table,
            job_id=job.job_id,
            rows=int((job.result or {}).get("data_summary", {}).get("total_samples", 0)),
            associations=[
                FeatureAssociation(feature=item.column, measure=item.measure, value=item.value)
                for item in analysis.associations
            ],
        )


def _kind(algorithm: str) -> str:
    known = ALGORITHMS.get(algorithm)
    if known is None:
        raise RuntimeError(f"a stored job names the unknown algorithm {algorithm!r}")
    return known.importance_kind
