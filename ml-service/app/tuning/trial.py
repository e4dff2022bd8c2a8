"""One tuning trial: a configuration fitted in process inside a Ray Tune function trainable.

A forecaster's trial (Prophet, ARIMA) is one fit on the training part without its last `horizon`
periods, scored on those periods (`carve_tail`) with the forecast metrics, in one final report.

A trial runs the same `Algorithm.fit` as a warm training job (`FitContext.in_process`), on the
training split minus a validation share, with the validation rows where a job has its test rows.
Each round the algorithm reports (a boosting round, a forest step) becomes one `tune.report` with
the round's validation metrics under the evaluation's names, so a scheduler sees every round and
stops the trial at the round it decides (the next report ends the trial's thread). After the last
round one more report carries the full validation metrics and `final`.

Under pbt, every `checkpoint_every` rounds the round's report also carries the model's state (the
algorithm hands it over with `TrialProgress.keep_state`), and a trial that Tune resumes from a
checkpoint (its own after a pause, or another trial's after an exploit) continues from that
model with its (new) configuration: rounds go on from the model's, not from 1.

Tune reuses a trial's actor for the next trial (`reuse_actors`), so only the first trial of each
concurrent slot pays for a process and its imports.
"""

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import ray
from ray import tune
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from app.training.algorithms import ALGORITHMS
from app.training.algorithms.base import FitContext
from app.training.algorithms.forecasting import ForecastingAlgorithm
from app.training.evaluation import classification_metrics, regression_metrics
from app.training.features import LABEL_COLUMN, TrainingData, TrainingDataError, model_frame
from app.training.forecasting import MIN_TRAIN_PERIODS, ForecastData, forecast_metrics

# Framework metric names of a round (XGBoost, LightGBM, scikit-learn steps, the network's epochs;
# `test` being the validation rows here) → the evaluation's names, which the sweep's `metric`
# uses.
ROUND_METRICS = {
    "test-logloss": "log_loss",
    "test-mlogloss": "log_loss",
    "test-binary_logloss": "log_loss",
    "test-multi_logloss": "log_loss",
    "test-auc": "auc_roc",
    "test-rmse": "rmse",
}
# The network's epoch loss is the mean cross-entropy (= log_loss) for a classifier only; a
# regressor's is the mean squared error of the standardised target, not a metric of its own.
CLASSIFIER_ROUND_METRICS = {"test-loss": "log_loss"}
# Keys of a trial's reports besides metrics.
ROUND_KEY = "round"
FINAL_KEY = "final"
# The model's state in a trial's checkpoint (the algorithm's own format: a booster's bytes).
MODEL_STATE_FILE = "model.bin"


class TrialSetupError(TrainingDataError):
    """The sweep cannot score its trials as configured; one sentence for the API."""


def carve_validation(
    data: TrainingData, strategy: str, validation_size: float, random_state: int
) -> TrainingData:
    """The training split divided again: `train` keeps (1 - validation_size) of it, `test` holds
    the validation rows. Stratified for a stratified split, the latest rows for a time split (the
    training split is in time order), shuffled otherwise. The test split is not touched."""
    rows = data.train
    if strategy == "time":
        held = math.ceil(validation_size * len(rows))
        if held >= len(rows):
            raise TrialSetupError(f"a validation_size of {validation_size} leaves no row to train")
        train, validation = rows.iloc[: len(rows) - held], rows.iloc[len(rows) - held :]
    else:
        try:
            train, validation = train_test_split(
                rows,
                test_size=validation_size,
                random_state=random_state,
                stratify=rows[LABEL_COLUMN] if strategy == "stratified" else None,
            )
        except ValueError as error:
            raise TrialSetupError(
                f"the training split cannot give a validation split that way: {error}"
            ) from None
    if data.spec.classes is not None:
        missing = set(range(len(data.spec.classes))) - set(train[LABEL_COLUMN].unique().tolist())
        if missing:
            raise TrialSetupError(
                f"class {data.spec.classes[min(missing)]!r} has no row left to train on after "
                "the validation split; use a stratified split or a smaller validation_size"
            )
    return replace(data, train=train.reset_index(drop=True), test=validation.reset_index(drop=True))


def carve_tail(data: ForecastData) -> ForecastData:
    """The training part of a series (without the job's held-out test tail) split again: the
    trials fit on its first periods and are scored on its last `horizon` ones. The test tail is
    not touched."""
    train = data.train
    if len(train) - data.horizon < MIN_TRAIN_PERIODS:
        raise TrialSetupError(
            f"the series has {len(data.series)} periods; a sweep holds out two tails of "
            f"horizon {data.horizon} (the test tail, then the one trials are scored on) and "
            f"needs {MIN_TRAIN_PERIODS} more to fit on, {2 * data.horizon + MIN_TRAIN_PERIODS} "
            "in all; use a shorter horizon"
        )
    return replace(data, series=train)


@dataclass
class _Report:
    progress: "TrialProgress"

    def remote(self, entries: list[tuple[int, dict[str, float]]], stage: str | None = None) -> Any:
        self.progress.report_rounds(entries)
        return self.progress.done


class TrialProgress:
    """Stands where a job's `JobProgress` handle stands for the algorithm
    (`ray.get(progress.report.remote(entries))`), and turns each round into a `tune.report`."""

    def __init__(self, metric: str, task_type: str) -> None:
        self.metric = metric
        self.names = ROUND_METRICS | (
            CLASSIFIER_ROUND_METRICS if task_type == "classification" else {}
        )
        self.rounds = 0
        self.report = _Report(self)
        # What `report.remote` returns: the algorithms wait on it with ray.get.
        self.done = ray.put(None)
        self._state: tuple[int, bytes] | None = None

    def keep_state(self, iteration: int, state: bytes) -> None:
        """The model's state after round `iteration`, sent as a checkpoint with that round's
        report (`FitContext.checkpoint_every`)."""
        self._state = (iteration, state)

    def report_rounds(self, entries: list[tuple[int, dict[str, float]]]) -> None:
        for iteration, values in entries:
            metrics = {
                self.names[key]: value for key, value in values.items() if key in self.names
            }
            if self.metric not in metrics:
                raise TrialSetupError(
                    f"{self.metric} is not measured each round here (only "
                    f"{', '.join(sorted(metrics)) or 'nothing'}); auc_roc needs binary "
                    "classification"
                )
            self.rounds = iteration
            if self._state is not None and self._state[0] == iteration:
                # Tune copies the folder into the sweep's storage before report returns.
                with tempfile.TemporaryDirectory() as folder:
                    with open(os.path.join(folder, MODEL_STATE_FILE), "wb") as file:
                        file.write(self._state[1])
                    self._state = None
                    tune.report(
                        {ROUND_KEY: iteration, **metrics},
                        checkpoint=tune.Checkpoint.from_directory(folder),
                    )
            else:
                tune.report({ROUND_KEY: iteration, **metrics})


def resumed_state() -> bytes | None:
    """The model state of the checkpoint Tune resumes this trial from, if any."""
    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return None
    with (
        checkpoint.as_directory() as folder,
        open(os.path.join(folder, MODEL_STATE_FILE), "rb") as file,
    ):
        return file.read()


def validation_metrics(data: TrainingData, predictions: np.ndarray) -> dict[str, float]:
    """The evaluation's metrics of the validation rows, numbers only."""
    labels = data.test[LABEL_COLUMN].to_numpy()
    if data.task_type == "classification":
        metrics = classification_metrics(labels, predictions, data.spec.classes or [])
    else:
        metrics = regression_metrics(labels, predictions)
    return {name: value for name, value in metrics.items() if isinstance(value, float)}


def run_trial(
    config: dict[str, Any],
    data: TrainingData | ForecastData,
    algorithm_name: str,
    fixed: dict[str, Any],
    random_state: int,
    metric: str,
    cpus: int,
    checkpoint_every: int = 0,
) -> None:
    """The function trainable: `config` is the sampled point, `fixed` the sweep's other
    hyperparameters; the model's seed is the split's random_state, as in a training job.
    `checkpoint_every` (pbt): rounds between checkpoints; the trial resumes from Tune's."""
    algorithm = ALGORITHMS[algorithm_name]
    hyperparameters = algorithm.resolve_hyperparameters(fixed | config)
    if isinstance(data, ForecastData):
        assert isinstance(algorithm, ForecastingAlgorithm)
        with threadpool_limits(limits=cpus):
            model = algorithm.fit_series(
                data.train, data.frequency, hyperparameters, random_state
            )
            predicted = algorithm.predict_ahead(
                model, data.train, data.test.index, hyperparameters, random_state
            )
        metrics = forecast_metrics(data.test.to_numpy(), predicted["value"].to_numpy())
        tune.report({ROUND_KEY: 1, FINAL_KEY: True, **metrics})
        return
    progress = TrialProgress(metric, data.task_type)
    context = FitContext(
        job_id=tune.get_context().get_trial_id(),
        random_state=random_state,
        hyperparameters=hyperparameters,
        storage_path="",
        progress=progress,
        cpus=cpus,
        in_process=True,
        progress_interval_seconds=0.0,
        checkpoint_every=checkpoint_every,
        resume_state=resumed_state() if checkpoint_every else None,
    )
    with threadpool_limits(limits=cpus):
        fitted = algorithm.fit(data, context)
        predictions = fitted.predict(model_frame(data.test, data.spec))
    # A trial resumed from a checkpoint of its last round (pbt) trains no round more.
    rounds = progress.rounds or (
        algorithm.total_iterations(hyperparameters) if context.resume_state else 0
    )
    tune.report({ROUND_KEY: rounds, FINAL_KEY: True, **validation_metrics(data, predictions)})


def sweep_trainable(sweep_id: str) -> Callable[..., None]:
    """`run_trial` under a name of the sweep's own. Tune registers a trainable in the cluster's
    process-wide registry by its `__name__`: two sweeps running at once under one name would
    overwrite each other's registration, and one sweep's trials would then run with the other's
    parameters — its data (another tenant's, maybe), algorithm and metric."""

    def trial(config: dict[str, Any], **parameters: Any) -> None:
        run_trial(config, **parameters)

    trial.__name__ = trial.__qualname__ = f"trial_{sweep_id.replace('-', '_')}"
    return trial
