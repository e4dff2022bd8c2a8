"""LightGBM, categorical features handled natively: in process on a warm worker (one worker, and
each tuning trial), or on Ray Train (V2) for data-parallel jobs."""

import time
from typing import Any

import lightgbm
import mlflow.lightgbm
import numpy as np
import pandas as pd
import ray
import ray.data
import ray.train
from mlflow.models import ModelSignature
from ray.train import RunConfig, ScalingConfig
from ray.train.lightgbm import LightGBMTrainer, RayTrainReportCallback, get_network_params

from app.jobs.progress import register_worker_placement_group
from app.training.algorithms.base import (
    Algorithm,
    FitContext,
    FittedModel,
    HyperparameterSpec,
)
from app.training.features import LABEL_COLUMN, ROW_COLUMN, FeatureSpec, TrainingData, model_frame

# How often the worker forwards evaluation history to the progress actor.
PROGRESS_INTERVAL_SECONDS = 0.5


class FinalCheckpointCallback(RayTrainReportCallback):
    """Reports only the final model to Ray Train.

    Each `ray.train.report` waits for the controller's next poll, so reporting every boosting
    round would cost a poll interval per round; per-round progress goes to the progress actor.
    """

    def _report_metrics(self, report_dict: dict) -> None:
        return None


class ProgressCallback:
    """A LightGBM callback (called after each round) batching history to the progress actor."""

    order = 30  # after LightGBM's own evaluation callbacks

    def __init__(
        self,
        progress: Any,
        interval_seconds: float = PROGRESS_INTERVAL_SECONDS,
        checkpoint_every: int = 0,
    ) -> None:
        self._progress = progress
        self._interval_seconds = interval_seconds
        self._checkpoint_every = checkpoint_every
        self._pending: list[tuple[int, dict[str, float]]] = []
        self._last_sent = time.monotonic()

    def __call__(self, env: lightgbm.callback.CallbackEnv) -> None:
        latest = {
            f"{data_name}-{metric}": float(value)
            for data_name, metric, value, *_ in env.evaluation_result_list or []
        }
        # `iteration` counts from the start of a continued booster's rounds too.
        round_number = env.iteration + 1
        if self._checkpoint_every and round_number % self._checkpoint_every == 0:
            self._progress.keep_state(round_number, env.model.model_to_string().encode())
        self._pending.append((round_number, latest))
        last = env.iteration == env.end_iteration - 1
        if last or time.monotonic() - self._last_sent >= self._interval_seconds:
            if self._pending:
                # Waited on so the final history is complete before the driver reads it.
                ray.get(self._progress.report.remote(self._pending))
                self._pending = []
            self._last_sent = time.monotonic()


def _in_row_order(frame: pd.DataFrame) -> pd.DataFrame:
    # Ray Data does not promise row order; the split's order makes the model reproducible, and
    # the same on both paths.
    return frame.sort_values(ROW_COLUMN, kind="stable").reset_index(drop=True)


def _shard_frame(name: str) -> pd.DataFrame:
    return _in_row_order(ray.train.get_dataset_shard(name).materialize().to_pandas())


def _datasets(
    train_frame: pd.DataFrame, test_frame: pd.DataFrame, spec: FeatureSpec
) -> tuple[lightgbm.Dataset, lightgbm.Dataset]:
    train = lightgbm.Dataset(
        model_frame(train_frame, spec), label=train_frame[LABEL_COLUMN], free_raw_data=False
    )
    test = lightgbm.Dataset(
        model_frame(test_frame, spec), label=test_frame[LABEL_COLUMN], reference=train
    )
    return train, test


def train_on_worker(config: dict) -> None:
    """The Ray Train worker loop."""
    register_worker_placement_group(config["progress"])
    train, test = _datasets(_shard_frame("train"), _shard_frame("test"), config["spec"])
    lightgbm.train(
        config["params"] | get_network_params(),
        train,
        num_boost_round=config["num_boost_round"],
        valid_sets=[test],
        valid_names=["test"],
        callbacks=[ProgressCallback(config["progress"]), FinalCheckpointCallback()],
    )


class FittedLightGBM(FittedModel):
    def __init__(self, booster: lightgbm.Booster, task_type: str, class_count: int) -> None:
        self._booster = booster
        self._task_type = task_type
        self._class_count = class_count

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        predicted = np.asarray(self._booster.predict(features))
        if self._task_type == "classification" and self._class_count == 2:
            return np.column_stack([1 - predicted, predicted])
        return predicted

    def raw_feature_importance(self) -> dict[str, float]:
        gains = self._booster.feature_importance(importance_type="gain")
        return dict(zip(self._booster.feature_name(), map(float, gains), strict=True))

    def log_to_mlflow(self, signature: ModelSignature) -> str:
        # Explicit requirements skip MLflow's inference, which reloads the model in a subprocess.
        info = mlflow.lightgbm.log_model(
            self._booster,
            name="model",
            pip_requirements=[f"lightgbm=={lightgbm.__version__}"],
            signature=signature,
        )
        return info.model_id


class LightGBMAlgorithm(Algorithm):
    fits_in_process = True
    data_parallel = True
    name = "lightgbm"
    framework = "LightGBM + Ray Train"
    importance_kind = (
        "gain (LightGBM `importance_type='gain'`): the loss reduction of every split on the "
        "feature"
    )
    task_types = ("classification", "regression")
    hyperparameters = (
        HyperparameterSpec("n_estimators", "integer", 100, "number of boosting rounds", 1, 5000),
        HyperparameterSpec(
            "learning_rate", "number", 0.1, "shrinkage of each tree", 0, 1,
            exclusive_minimum=True,
        ),
        HyperparameterSpec("num_leaves", "integer", 31, "maximum leaves per tree", 2, 131072),
        HyperparameterSpec(
            "max_depth", "integer", -1, "maximum depth of a tree; -1 for no limit", -1, 100
        ),
        HyperparameterSpec(
            "min_child_samples", "integer", 20, "minimum rows in a leaf", 1, 100000
        ),
        HyperparameterSpec(
            "subsample", "number", 1.0, "share of rows sampled per tree (bagging)", 0, 1,
            exclusive_minimum=True,
        ),
        HyperparameterSpec(
            "colsample_bytree", "number", 1.0, "share of columns sampled per tree", 0, 1,
            exclusive_minimum=True,
        ),
        HyperparameterSpec("reg_lambda", "number", 0.0, "L2 regularisation of leaves", 0, 1000),
        HyperparameterSpec("reg_alpha", "number", 0.0, "L1 regularisation of leaves", 0, 1000),
    )  # fmt: skip

    def total_iterations(self, hyperparameters: dict[str, Any]) -> int:
        return int(hyperparameters["n_estimators"])

    def _booster_params(self, data: TrainingData, context: FitContext) -> dict[str, Any]:
        chosen = context.hyperparameters
        params: dict[str, Any] = {
            "learning_rate": chosen["learning_rate"],
            "num_leaves": chosen["num_leaves"],
            "max_depth": chosen["max_depth"],
            "min_child_samples": chosen["min_child_samples"],
            "bagging_fraction": chosen["subsample"],
            "bagging_freq": 1 if chosen["subsample"] < 1 else 0,
            "feature_fraction": chosen["colsample_bytree"],
            "lambda_l2": chosen["reg_lambda"],
            "lambda_l1": chosen["reg_alpha"],
            # Thread count, seed and deterministic mode: same config and random_state, same model.
            "num_threads": context.cpus,
            "seed": context.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }
        classes = data.spec.classes
        if data.task_type == "regression":
            params |= {"objective": "regression", "metric": ["rmse"]}
        elif classes is not None and len(classes) == 2:
            params |= {"objective": "binary", "metric": ["binary_logloss", "auc"]}
        else:
            assert classes is not None
            params |= {
                "objective": "multiclass",
                "num_class": len(classes),
                "metric": ["multi_logloss"],
            }
        return params

    def fit(self, data: TrainingData, context: FitContext) -> FittedModel:
        if context.in_process:
            # The same `lightgbm.train` as a Ray Train worker runs, on the same rows in the same
            # order (one worker needs no network parameters).
            train, test = _datasets(_in_row_order(data.train), _in_row_order(data.test), data.spec)
            resumed = None
            if context.resume_state is not None:
                resumed = lightgbm.Booster(model_str=context.resume_state.decode())
            done = resumed.current_iteration() if resumed is not None else 0
            remaining = self.total_iterations(context.hyperparameters) - done
            if resumed is not None and remaining <= 0:
                # Resumed from its last round (LightGBM refuses to train 0 rounds).
                return FittedLightGBM(resumed, data.task_type, len(data.spec.classes or []))
            booster = lightgbm.train(
                self._booster_params(data, context),
                train,
                num_boost_round=remaining,
                valid_sets=[test],
                valid_names=["test"],
                init_model=resumed,
                callbacks=[
                    ProgressCallback(
                        context.progress,
                        context.progress_interval_seconds,
                        context.checkpoint_every,
                    )
                ],
            )
            return FittedLightGBM(booster, data.task_type, len(data.spec.classes or []))
        trainer = LightGBMTrainer(
            train_on_worker,
            train_loop_config={
                "params": self._booster_params(data, context),
                "num_boost_round": self.total_iterations(context.hyperparameters),
                "spec": data.spec,
                "progress": context.progress,
            },
            scaling_config=ScalingConfig(
                num_workers=context.num_workers,
                resources_per_worker=context.worker_resources(),
                use_gpu=context.use_gpu,
            ),
            run_config=RunConfig(storage_path=context.storage_path, name=context.job_id),
            datasets={
                "train": ray.data.from_pandas(data.train),
                "test": ray.data.from_pandas(data.test),
            },
        )
        result = trainer.fit()
        booster = RayTrainReportCallback.get_model(result.checkpoint)
        return FittedLightGBM(booster, data.task_type, len(data.spec.classes or []))
