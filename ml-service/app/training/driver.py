"""The job driver: one Ray actor (one process) per Ray Train job; `run_training_job` is also
what a warm worker runs for a single-worker job (app.training.warm).

The process owns everything Ray Train starts for the job (controller, worker, dataset actors),
and Ray kills owned actors with their owner. The service kills the driver when the job ends —
completed, failed or cancelled — so nothing of a job outlives it. (A plain task would not do:
its worker process cannot exit while actors it owns hold objects it owns, so each finished job
would leave its Train controller and dataset actors running.)
"""

import time
from dataclasses import dataclass
from typing import Any

import mlflow
import ray
from mlflow.entities import Metric
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema
from sklearn.metrics import classification_report

from app.serving.monitoring import build_reference
from app.training.algorithms import ALGORITHMS
from app.training.algorithms.base import FitContext
from app.training.algorithms.forecasting import ForecastingAlgorithm
from app.training.chart_artifacts import log_forecast_charts, log_job_charts
from app.training.evaluation import (
    classification_metrics,
    normalised_importance,
    regression_metrics,
)
from app.training.features import (
    DRIFT_REFERENCE_ARTIFACT,
    FEATURE_SPEC_ARTIFACT,
    LABEL_COLUMN,
    SIGNATURE_TYPES,
    FeatureSpec,
    TrainingData,
    feature_spec_document,
    model_frame,
    user_frame,
)
from app.training.forecasting import ForecastData, forecast_spec_document
from app.training.importance import permutation_importance


@dataclass(frozen=True)
class DriverRequest:
    job_id: str
    algorithm: str
    data: TrainingData | ForecastData
    hyperparameters: dict[str, Any]
    random_state: int
    storage_path: str
    tracking_uri: str
    mlflow_run_id: str
    logged_params: dict[str, Any]
    # Seed 003's lineage: the full configuration (config.json) and run tags (code version).
    config: dict[str, Any]
    run_tags: dict[str, str]
    progress: Any  # the job's JobProgress handle (app.jobs.progress)
    # The job's resource request (TrainingConfig.resources), reserved on Ray by the algorithm.
    cpus: int = 1
    memory_bytes: int | None = None
    gpus: int = 0
    # True on a warm worker (app.training.warm), which already holds the job's resources.
    in_process: bool = False
    num_workers: int = 1


@dataclass(frozen=True)
class DriverOutcome:
    metrics: dict[str, Any]
    feature_importance: dict[str, float] | None
    model_artifact_id: str
    # Forecasting: the `Forecast` wire shape (held-out tail with actuals, and the future).
    forecast: dict[str, Any] | None = None


def _classification_report(data: TrainingData, labels: Any, probabilities: Any) -> dict:
    classes = data.spec.classes or []
    return classification_report(
        labels,
        probabilities.argmax(axis=1),
        labels=list(range(len(classes))),
        target_names=[str(value) for value in classes],
        output_dict=True,
        zero_division=0,
    )


def _log_history(client: MlflowClient, run_id: str, history: list) -> None:
    now = int(time.time() * 1000)
    metrics = [
        Metric(key=f"{name}_by_iteration", value=value, timestamp=now, step=iteration)
        for iteration, values in history
        for name, value in values.items()
    ]
    # log_batch accepts at most 1000 metrics per call
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start : start + 1000])


def _signature(spec: FeatureSpec) -> ModelSignature:
    """The request shape under the user's names: every feature may be null (scored missing)."""
    return ModelSignature(
        inputs=Schema(
            [
                ColSpec(SIGNATURE_TYPES[spec.kind(name)], name, required=False)  # type: ignore[arg-type]
                for name in spec.feature_columns
            ]
        )
    )


@ray.remote(num_cpus=0, max_restarts=0)
class JobDriver:
    def run(self, request: DriverRequest) -> DriverOutcome:
        return run_training_job(request)


def _fit_context(request: DriverRequest) -> FitContext:
    return FitContext(
        job_id=request.job_id,
        random_state=request.random_state,
        hyperparameters=request.hyperparameters,
        storage_path=request.storage_path,
        progress=request.progress,
        cpus=request.cpus,
        memory_bytes=request.memory_bytes,
        gpus=request.gpus,
        in_process=request.in_process,
        num_workers=request.num_workers,
    )


def run_forecasting_job(
    request: DriverRequest, algorithm: ForecastingAlgorithm, data: ForecastData
) -> DriverOutcome:
    """Fit, score the held-out tail, refit and forecast past the data; log the MLflow run."""
    outcome = algorithm.forecast(data, _fit_context(request))
    # outcome.forecast (tail with actuals, future, timestamps) is what a forecast chart needs.
    history = ray.get(request.progress.history.remote())
    mlflow.set_tracking_uri(request.tracking_uri)
    client = MlflowClient(tracking_uri=request.tracking_uri)
    with mlflow.start_run(run_id=request.mlflow_run_id):
        mlflow.log_params(request.logged_params | request.hyperparameters)
        mlflow.set_tags(request.run_tags)
        mlflow.log_metrics(outcome.metrics)
        mlflow.log_dict(request.config, "config.json")
        # The forecast with the tail's actuals: what a forecast chart is drawn from.
        mlflow.log_dict(
            {"metrics": outcome.metrics, "forecast": outcome.forecast}, "evaluation.json"
        )
        _log_history(client, request.mlflow_run_id, history)
        request_config = request.config["request"]
        mlflow.log_dict(
            forecast_spec_document(
                data,
                algorithm.name,
                request_config["target_column"],
                request_config["time_column"],
                request.hyperparameters["interval_width"],
            ),
            FEATURE_SPEC_ARTIFACT,
        )
        model_id = algorithm.log_to_mlflow(outcome.model)
        log_forecast_charts(data.series, outcome.forecast)
    return DriverOutcome(
        metrics=outcome.metrics,
        feature_importance=None,
        model_artifact_id=model_id,
        forecast=outcome.forecast,
    )


def run_training_job(request: DriverRequest) -> DriverOutcome:
    """Train, evaluate on the test split and log the MLflow run the service opened."""
    algorithm = ALGORITHMS[request.algorithm]
    data = request.data
    if isinstance(algorithm, ForecastingAlgorithm):
        assert isinstance(data, ForecastData)
        return run_forecasting_job(request, algorithm, data)
    assert isinstance(data, TrainingData)
    fitted = algorithm.fit(data, _fit_context(request))
    predictions = fitted.predict(model_frame(data.test, data.spec))
    labels = data.test[LABEL_COLUMN].to_numpy()
    if data.task_type == "classification":
        metrics = classification_metrics(labels, predictions, data.spec.classes or [])
    else:
        metrics = regression_metrics(labels, predictions)
    raw_importance = fitted.raw_feature_importance()
    if raw_importance is None:
        raw_importance = permutation_importance(
            fitted.predict,
            model_frame(data.test, data.spec),
            labels,
            data.task_type,
            request.random_state,
        )
    # The frameworks know the features by their model names; the user sees their own.
    importance = normalised_importance(
        data.spec.user_names(raw_importance), data.spec.feature_columns
    )
    # [(iteration, {metric: value})]: boosting rounds or epochs, what a loss curve is drawn from.
    history = ray.get(request.progress.history.remote())

    mlflow.set_tracking_uri(request.tracking_uri)
    client = MlflowClient(tracking_uri=request.tracking_uri)
    with mlflow.start_run(run_id=request.mlflow_run_id):
        mlflow.log_params(request.logged_params | request.hyperparameters)
        mlflow.set_tags(request.run_tags)
        mlflow.log_metrics(
            {name: value for name, value in metrics.items() if isinstance(value, float)}
        )
        mlflow.log_dict(request.config, "config.json")
        mlflow.log_dict({"metrics": metrics, "feature_importance": importance}, "evaluation.json")
        if data.task_type == "classification":
            mlflow.log_dict(
                _classification_report(data, labels, predictions), "classification_report.json"
            )
        _log_history(client, request.mlflow_run_id, history)
        target_column = request.config["request"]["target_column"]
        mlflow.log_dict(
            feature_spec_document(data.spec, data.task_type, target_column), FEATURE_SPEC_ARTIFACT
        )
        training_values = user_frame(data.train, data.spec)
        mlflow.log_dict(
            build_reference(
                {name: training_values[name] for name in data.spec.feature_columns},
                set(data.spec.categories),
            ),
            DRIFT_REFERENCE_ARTIFACT,
        )
        model_id = fitted.log_to_mlflow(_signature(data.spec))
        log_job_charts(data, labels, predictions, importance, history)
    return DriverOutcome(metrics=metrics, feature_importance=importance, model_artifact_id=model_id)
