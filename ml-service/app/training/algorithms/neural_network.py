"""A tabular multi-layer perceptron in PyTorch: in process on a warm worker (one worker, and each
tuning trial), or on Ray Train (V2 `TorchTrainer`) for data-parallel jobs; CPU only.

Preprocessing is the linear models' sklearn ColumnTransformer, fitted on the training split only:
numeric (and boolean, as 0/1) columns imputed with the median and standardised, categoricals
one-hot encoded over the categories fixed at submission (missing or unseen: all zeros).
Regression targets are standardised too and scaled back on prediction. The logged MLflow model is
a pyfunc holding the preprocessor and the network, so it predicts on the raw feature columns.

The network has no importance of its own: the driver measures permutation importance.
"""

import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import ray
import ray.train
import sklearn
import torch
from mlflow.models import ModelSignature
from ray.train import Checkpoint, RunConfig, ScalingConfig
from ray.train.torch import TorchTrainer, prepare_model
from sklearn.compose import ColumnTransformer
from sklearn.metrics import roc_auc_score
from torch import nn

from app.jobs.progress import register_worker_placement_group
from app.training.algorithms.base import (
    Algorithm,
    FitContext,
    FittedModel,
    HyperparameterSpec,
)
from app.training.algorithms.sklearn_models import _preprocessor
from app.training.features import LABEL_COLUMN, FeatureSpec, TrainingData, model_frame

# How often the worker forwards per-epoch history to the progress actor.
PROGRESS_INTERVAL_SECONDS = 0.5
# Rows per forward pass when predicting; bounds memory on large frames.
PREDICT_BATCH_ROWS = 65_536
STATE_FILE = "network.pt"

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def build_network(
    input_size: int, hidden_layers: list[int], activation: str, dropout: float, outputs: int
) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = input_size
    for size in hidden_layers:
        layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


def _raw_inputs(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Model columns as the preprocessor expects them, from typed (`model_frame`) or raw
    frames: categoricals as strings (None when missing), everything else as float."""
    columns = {}
    categories = spec.model_categories
    for column in spec.model_columns:
        values = frame[column]
        if column in categories:
            text = values.astype("object")
            columns[column] = text.where(text.notna(), None).map(
                lambda value: None if value is None else str(value)
            )
        else:
            columns[column] = pd.to_numeric(values.astype("float64"), errors="raise")
    return pd.DataFrame(columns, index=frame.index)


class TabularNetwork:
    """Preprocessor + network + target scaling: everything prediction needs, picklable."""

    def __init__(
        self,
        spec: FeatureSpec,
        task_type: str,
        preprocessor: ColumnTransformer,
        architecture: dict[str, Any],
        state: dict[str, torch.Tensor],
        target_scale: tuple[float, float],
    ) -> None:
        self.spec = spec
        self.task_type = task_type
        self.preprocessor = preprocessor
        self.architecture = architecture
        self.state = state
        self.target_scale = target_scale
        self._network: nn.Sequential | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_network"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._network = None

    def network(self) -> nn.Sequential:
        if self._network is None:
            network = build_network(**self.architecture)
            network.load_state_dict(self.state)
            network.eval()
            self._network = network
        return self._network

    def outputs(self, features: pd.DataFrame) -> np.ndarray:
        """Class probabilities (rows by classes) or values in the target's units."""
        encoded = self.preprocessor.transform(_raw_inputs(features, self.spec))
        inputs = torch.from_numpy(np.asarray(encoded, dtype=np.float32))
        network = self.network()
        chunks = []
        with torch.no_grad():
            for start in range(0, len(inputs), PREDICT_BATCH_ROWS):
                chunks.append(network(inputs[start : start + PREDICT_BATCH_ROWS]))
        raw = torch.cat(chunks) if chunks else torch.zeros((0, self.architecture["outputs"]))
        if self.task_type == "classification":
            return torch.softmax(raw, dim=1).numpy().astype(np.float64)
        mean, scale = self.target_scale
        return raw[:, 0].numpy().astype(np.float64) * scale + mean


class NeuralNetworkPyfunc(mlflow.pyfunc.PythonModel):
    """The logged model: raw feature columns (the user's names) in; for classification a frame
    with `prediction` (the original class value) and one `probability_<class>` column per
    class, for regression the predicted values."""

    def __init__(self, model: TabularNetwork) -> None:
        self.model = model

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        # One thread: a serving replica reserves one CPU, and tabular batches are small.
        torch.set_num_threads(1)
        spec = self.model.spec
        renamed = dict(zip(spec.feature_columns, spec.model_columns, strict=True))
        outputs = self.model.outputs(model_input.rename(columns=renamed))
        if self.model.task_type != "classification":
            return outputs
        classes = self.model.spec.classes or []
        frame = pd.DataFrame(
            outputs, columns=[f"probability_{value}" for value in classes], index=model_input.index
        )
        frame.insert(0, "prediction", [classes[index] for index in outputs.argmax(axis=1)])
        return frame


class FittedNeuralNetwork(FittedModel):
    def __init__(self, model: TabularNetwork) -> None:
        self._model = model

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self._model.outputs(features)

    def log_to_mlflow(self, signature: ModelSignature) -> str:
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=NeuralNetworkPyfunc(self._model),
            # Explicit requirements skip MLflow's inference, which reloads the model.
            pip_requirements=[
                f"torch=={torch.__version__.split('+')[0]}",
                f"scikit-learn=={sklearn.__version__}",
                f"pandas=={pd.__version__}",
            ],
            signature=signature,
        )
        return info.model_id


def _epoch_metrics(
    network: nn.Module, config: dict, inputs: torch.Tensor, labels: torch.Tensor
) -> dict[str, float]:
    network.eval()
    with torch.no_grad():
        raw = network(inputs)
    if config["task_type"] == "classification":
        loss = float(nn.functional.cross_entropy(raw, labels))
        probabilities = torch.softmax(raw, dim=1).numpy()
        metrics = {
            "test-loss": loss,
            "test-accuracy": float((probabilities.argmax(axis=1) == labels.numpy()).mean()),
        }
        if probabilities.shape[1] == 2 and len(np.unique(labels.numpy())) == 2:
            metrics["test-auc"] = float(roc_auc_score(labels.numpy(), probabilities[:, 1]))
        return metrics
    loss = float(nn.functional.mse_loss(raw[:, 0], labels))
    # the loss is on the standardised target; RMSE in the target's own units
    return {"test-loss": loss, "test-rmse": float(np.sqrt(loss)) * config["target_scale"][1]}


def fit_network(
    config: dict,
    on_epoch: Callable[[int, dict[str, float]], None],
    prepare: Callable[[nn.Module], nn.Module] = lambda network: network,
) -> nn.Module:
    """The training loop: seeded, single-threaded, so the same config gives the same weights.

    `prepare` wraps the fresh network (Ray Train's `prepare_model` on a worker)."""
    torch.set_num_threads(config["threads"])
    torch.manual_seed(config["seed"])
    classification = config["task_type"] == "classification"
    x_train = torch.from_numpy(config["x_train"])
    x_test = torch.from_numpy(config["x_test"])
    label_type = torch.long if classification else torch.float32
    y_train = torch.as_tensor(config["y_train"], dtype=label_type)
    y_test = torch.as_tensor(config["y_test"], dtype=label_type)

    network = prepare(build_network(**config["architecture"]))
    optimizer = torch.optim.Adam(
        network.parameters(), lr=config["learning_rate"], weight_decay=config["weight_decay"]
    )
    loss_function: nn.Module = nn.CrossEntropyLoss() if classification else nn.MSELoss()
    shuffle = torch.Generator().manual_seed(config["seed"])
    batch_size = config["batch_size"]
    for epoch in range(1, config["epochs"] + 1):
        network.train()
        order = torch.randperm(len(x_train), generator=shuffle)
        total_loss = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            output = network(x_train[batch])
            loss = loss_function(output if classification else output[:, 0], y_train[batch])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(batch)
        metrics = {"train-loss": total_loss / len(x_train)}
        on_epoch(epoch, metrics | _epoch_metrics(network, config, x_test, y_test))
    return getattr(network, "module", network)


def fit_reporting(
    config: dict,
    interval_seconds: float,
    prepare: Callable[[nn.Module], nn.Module] = lambda network: network,
) -> nn.Module:
    """`fit_network` with per-epoch history batched to the progress handle every
    `interval_seconds` (0: every epoch, as a tuning trial needs), the rest after the last."""
    pending: list[tuple[int, dict[str, float]]] = []
    last_sent = time.monotonic()

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        nonlocal pending, last_sent
        pending.append((epoch, metrics))
        if time.monotonic() - last_sent >= interval_seconds:
            ray.get(config["progress"].report.remote(pending))
            pending, last_sent = [], time.monotonic()

    network = fit_network(config, on_epoch, prepare)
    if pending:
        # Waited on so the history is complete before the driver reads it.
        ray.get(config["progress"].report.remote(pending))
    return network


def train_on_worker(config: dict) -> None:
    """The Ray Train worker loop: per-epoch history to the progress actor, the final weights as
    the run's checkpoint."""
    register_worker_placement_group(config["progress"])
    network = fit_reporting(config, PROGRESS_INTERVAL_SECONDS, prepare_model)
    with tempfile.TemporaryDirectory() as directory:
        torch.save(network.state_dict(), os.path.join(directory, STATE_FILE))
        # Only the final model is reported: each report waits for the controller's next poll.
        ray.train.report({}, checkpoint=Checkpoint.from_directory(directory))


class NeuralNetworkAlgorithm(Algorithm):
    fits_in_process = True
    data_parallel = True
    name = "neural_network"
    framework = "PyTorch + Ray Train"
    task_types = ("classification", "regression")
    hyperparameters = (
        HyperparameterSpec(
            "hidden_layers", "integer_list", [64, 32], "units of each hidden layer, input first",
            1, 4096, min_items=1, max_items=8,
        ),
        HyperparameterSpec(
            "activation", "string", "relu", "activation after each hidden layer",
            choices=tuple(ACTIVATIONS),
        ),
        HyperparameterSpec(
            "dropout", "number", 0.1, "dropout rate after each hidden layer", 0, 0.9
        ),
        HyperparameterSpec(
            "learning_rate", "number", 0.001, "Adam step size", 0, 1, exclusive_minimum=True
        ),
        HyperparameterSpec("epochs", "integer", 30, "passes over the training split", 1, 1000),
        HyperparameterSpec("batch_size", "integer", 64, "rows per gradient step", 1, 65536),
        HyperparameterSpec(
            "weight_decay", "number", 0.0, "L2 penalty on the weights (Adam)", 0, 1
        ),
    )  # fmt: skip

    def total_iterations(self, hyperparameters: dict[str, Any]) -> int:
        return int(hyperparameters["epochs"])

    def fit(self, data: TrainingData, context: FitContext) -> FittedModel:
        chosen = context.hyperparameters
        spec = data.spec
        preprocessor = _preprocessor(spec, scale=True)
        x_train = preprocessor.fit_transform(_raw_inputs(model_frame(data.train, spec), spec))
        x_test = preprocessor.transform(_raw_inputs(model_frame(data.test, spec), spec))
        y_train = data.train[LABEL_COLUMN].to_numpy()
        y_test = data.test[LABEL_COLUMN].to_numpy()
        if data.task_type == "classification":
            outputs, target_scale = len(spec.classes or []), (0.0, 1.0)
        else:
            # Standardised target: the same learning rate suits targets of any magnitude.
            std = float(y_train.std()) or 1.0
            outputs, target_scale = 1, (float(y_train.mean()), std)
            y_train = (y_train - target_scale[0]) / std
            y_test = (y_test - target_scale[0]) / std
        architecture = {
            "input_size": int(x_train.shape[1]),
            "hidden_layers": list(chosen["hidden_layers"]),
            "activation": chosen["activation"],
            "dropout": float(chosen["dropout"]),
            "outputs": outputs,
        }
        config = {
            "task_type": data.task_type,
            "architecture": architecture,
            "x_train": np.asarray(x_train, dtype=np.float32),
            "y_train": y_train,
            "x_test": np.asarray(x_test, dtype=np.float32),
            "y_test": y_test,
            "target_scale": target_scale,
            "seed": context.random_state,
            "learning_rate": chosen["learning_rate"],
            "weight_decay": chosen["weight_decay"],
            "epochs": chosen["epochs"],
            "batch_size": chosen["batch_size"],
            "progress": context.progress,
            "threads": context.cpus,
        }
        if context.in_process:
            network = fit_reporting(config, context.progress_interval_seconds)
            return FittedNeuralNetwork(
                TabularNetwork(
                    spec, data.task_type, preprocessor, architecture, network.state_dict(),
                    target_scale,
                )
            )
        trainer = TorchTrainer(
            train_on_worker,
            train_loop_config=config,
            # The loop trains on CPU tensors: a requested GPU is reserved, not used (yet).
            scaling_config=ScalingConfig(
                num_workers=context.num_workers, resources_per_worker=context.worker_resources()
            ),
            run_config=RunConfig(storage_path=context.storage_path, name=context.job_id),
        )
        result = trainer.fit()
        with result.checkpoint.as_directory() as directory:
            state = torch.load(os.path.join(directory, STATE_FILE), weights_only=True)
        return FittedNeuralNetwork(
            TabularNetwork(spec, data.task_type, preprocessor, architecture, state, target_scale)
        )
