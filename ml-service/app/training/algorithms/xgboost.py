"""XGBoost, categorical features handled natively: in process on a warm worker (one worker), or
data-parallel on Ray Train (V2)."""

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import ray
import ray.data
import ray.train
import xgboost
from ray.train import RunConfig, ScalingConfig
from ray.train.xgboost import RayTrainReportCallback, XGBoostTrainer

from app.jobs.progress import register_worker_placement_group
from app.training.algorithms.base import Algorithm, FitContext, FittedModel, HyperparameterSpec
from app.training.features import LABEL_COLUMN, ROW_COLUMN, FeatureSpec, TrainingData, model_frame

if TYPE_CHECKING:
    from mlflow.models import ModelSignature

# How often the worker forwards evaluation history to the progress actor.
PROGRESS_INTERVAL_SECONDS = 0.5


class FinalCheckpointCallback(RayTrainReportCallback):
    """Reports only the final model to Ray Train.

    Each `ray.train.report` waits for the controller's next poll, so reporting every boosting
    round would cost a poll interval per round; per-round progress goes to the progress actor.
    """

    def _report_metrics(self, report_dict: dict) -> None:
        return None


class ProgressCallback(xgboost.callback.TrainingCallback):
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

    def after_iteration(self, model: xgboost.Booster, epoch: int, evals_log: dict) -> bool:
        latest = {
            f"{data_name}-{metric}": float(values[-1])
            for data_name, metric_log in evals_log.items()
            for metric, values in metric_log.items()
        }
        # The booster's own count: `epoch` restarts at 0 when training continues a booster.
        round_number = model.num_boosted_rounds()
        if self._checkpoint_every and round_number % self._checkpoint_every == 0:
            self._progress.keep_state(round_number, bytes(model.save_raw()))
        self._pending.append((round_number, latest))
        # The first round goes out at once: a watcher sees the job move as soon as it does.
        if epoch == 0 or time.monotonic() - self._last_sent >= self._interval_seconds:
            self._flush()
        return False

    def after_training(self, model: xgboost.Booster) -> xgboost.Booster:
        self._flush()
        return model

    def _flush(self) -> None:
        if self._pending:
            # Waited on so the final history is complete before the driver reads it.
            ray.get(self._progress.report.remote(self._pending))
            self._pending = []
        self._last_sent = time.monotonic()


def _in_row_order(frame: pd.DataFrame) -> pd.DataFrame:
    # Ray Data does not promise row order; the source's order makes the model reproducible, and
    # the same on both paths.
    return frame.sort_values(ROW_COLUMN, kind="stable").reset_index(drop=True)


def _shard_frame(name: str) -> pd.DataFrame:
    return _in_row_order(ray.train.get_dataset_shard(name).materialize().to_pandas())


def _matrix(frame: pd.DataFrame, spec: FeatureSpec) -> xgboost.DMatrix:
    return xgboost.DMatrix(
        model_frame(frame, spec), label=frame[LABEL_COLUMN], enable_categorical=True
    )


def train_on_worker(config: dict) -> None:
    """The Ray Train worker loop."""
    register_worker_placement_group(config["progress"])
    spec: FeatureSpec = config["spec"]
    train = _matrix(_shard_frame("train"), spec)
    test = _matrix(_shard_frame("test"), spec)
    xgboost.train(
        config["params"],
        train,
        num_boost_round=config["num_boost_round"],
        evals=[(test, "test")],
        verbose_eval=False,
        callbacks=[ProgressCallback(config["progress"]), FinalCheckpointCallback()],
    )


class FittedXGBoost(FittedModel):
    def __init__(self, booster: xgboost.Booster, task_type: str, class_count: int) -> None:
        self._booster = booster
        self._task_type = task_type
        self._class_count = class_count

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        predicted = self._booster.predict(xgboost.DMatrix(features, enable_categorical=True))
        if self._task_type == "classification" and self._class_count == 2:
            return np.column_stack([1 - predicted, predicted])
        return predicted

    def raw_feature_importance(self) -> dict[str, float]:
        return {
            name: float(value)
            for name, value in self._booster.get_score(importance_type="total_gain").items()
        }

    def log_to_mlflow(self, signature: "ModelSignature") -> str:
        # Imported here: a sweep's trial actor (in process, never logging) would otherwise pay
        # MLflow's import, 1-2 s of CPU, at the start of every sweep.
        import mlflow.xgboost

        # Explicit requirements skip MLflow's inference, which reloads the model in a subprocess.
        info = mlflow.xgboost.log_model(
            self._booster,
            name="model",
            pip_requirements=[f"xgboost=={xgboost.__version__}"],
            signature=signature,
        )
        return info.model_id


class XGBoostAlgorithm(Algorithm):
    name = "xgboost"
    framework = "XGBoost + Ray Train"
    importance_kind = (
        "total gain (XGBoost `total_gain`): the loss reduction of every split on the feature"
    )
    fits_in_process = True
    data_parallel = True
    task_types = ("classification", "regression")
    hyperparameters = (
        HyperparameterSpec("n_estimators", "integer", 100, "number of boosting rounds", 1, 5000),
        HyperparameterSpec("max_depth", "integer", 6, "maximum depth of a tree", 1, 20),
        HyperparameterSpec(
            "learning_rate", "number", 0.1, "shrinkage of each tree (eta)", 0, 1,
            exclusive_minimum=True,
        ),
        HyperparameterSpec(
            "subsample", "number", 1.0, "share of rows sampled per tree", 0, 1,
            exclusive_minimum=True,
        ),
        HyperparameterSpec(
            "colsample_bytree", "number", 1.0, "share of columns sampled per tree", 0, 1,
            exclusive_minimum=True,
        ),
        HyperparameterSpec(
            "min_child_weight", "number", 1.0, "minimum hessian sum in a leaf", 0, 1000
        ),
        HyperparameterSpec("reg_lambda", "number", 1.0, "L2 regularisation of weights", 0, 1000),
        HyperparameterSpec("reg_alpha", "number", 0.0, "L1 regularisation of weights", 0, 1000),
        HyperparameterSpec(
            "gamma", "number", 0.0, "minimum loss reduction to split a leaf", 0, 1000
        ),
    )  # fmt: skip

    def total_iterations(self, hyperparameters: dict[str, Any]) -> int:
        return int(hyperparameters["n_estimators"])

    def _booster_params(self, data: TrainingData, context: FitContext) -> dict[str, Any]:
        chosen = context.hyperparameters
        params: dict[str, Any] = {
            "eta": chosen["learning_rate"],
            "max_depth": chosen["max_depth"],
            "subsample": chosen["subsample"],
            "colsample_bytree": chosen["colsample_bytree"],
            "min_child_weight": chosen["min_child_weight"],
            "lambda": chosen["reg_lambda"],
            "alpha": chosen["reg_alpha"],
            "gamma": chosen["gamma"],
            "tree_method": "hist",
            # Threads = the job's CPUs; hist on CPU sums in a fixed order, so with a fixed seed
            # the same config and random_state give the same model.
            "nthread": context.cpus,
            "seed": context.random_state,
        }
        if context.use_gpu:
            params["device"] = "cuda"
        classes = data.spec.classes
        if data.task_type == "regression":
            params |= {"objective": "reg:squarederror", "eval_metric": ["rmse"]}
        elif classes is not None and len(classes) == 2:
            params |= {"objective": "binary:logistic", "eval_metric": ["logloss", "auc"]}
        else:
            assert classes is not None
            params |= {
                "objective": "multi:softprob",
                "num_class": len(classes),
                "eval_metric": ["mlogloss"],
            }
        return params

    def fit(self, data: TrainingData, context: FitContext) -> FittedModel:
        if context.in_process:
            # The same `xgboost.train` as a Ray Train worker runs, on the same rows in the same
            # order, so both paths give the same model for the same config and random_state.
            resumed = None
            if context.resume_state is not None:
                resumed = xgboost.Booster()
                resumed.load_model(bytearray(context.resume_state))
            done = resumed.num_boosted_rounds() if resumed is not None else 0
            booster = xgboost.train(
                self._booster_params(data, context),
                _matrix(_in_row_order(data.train), data.spec),
                num_boost_round=max(0, self.total_iterations(context.hyperparameters) - done),
                evals=[(_matrix(_in_row_order(data.test), data.spec), "test")],
                verbose_eval=False,
                xgb_model=resumed,
                callbacks=[
                    ProgressCallback(
                        context.progress,
                        context.progress_interval_seconds,
                        context.checkpoint_every,
                    )
                ],
            )
            return FittedXGBoost(booster, data.task_type, len(data.spec.classes or []))
        trainer = XGBoostTrainer(
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
        return FittedXGBoost(booster, data.task_type, len(data.spec.classes or []))
