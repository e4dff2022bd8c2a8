"""What an algorithm module provides: its catalog entry, hyperparameter spec and a `fit`.

A new algorithm is one module in this package defining an `Algorithm` subclass, plus one line in
`app/training/algorithms/__init__.py`. `fit` runs inside the job driver (a Ray task).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from app.errors import InvalidFieldError
from app.training.features import TrainingData
from app.training.schemas import HyperparameterInfo, TaskType

if TYPE_CHECKING:
    # MLflow only for the annotation: importing it costs 1-2 s of CPU, and a sweep's trial actor,
    # which never logs a model, imports this module (app/training/algorithms/__init__.py).
    from mlflow.models import ModelSignature

# integer_list: a JSON array of integers (hidden layer sizes, an ARIMA order).
ParameterType = Literal["integer", "number", "string", "boolean", "integer_list"]


@dataclass(frozen=True)
class HyperparameterSpec:
    name: str
    type: ParameterType
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[Any, ...] | None = None
    # integer_list: how many items it must have (bounds apply to each item)
    min_items: int | None = None
    max_items: int | None = None
    nullable: bool = False

    def checked(self, value: Any) -> Any:
        """The value in its canonical type; ValueError with a readable reason otherwise."""
        if value is None and self.nullable:
            return None
        if self.type == "integer_list":
            return self._checked_list(value)
        if self.type == "boolean":
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
            return value
        if self.type == "string":
            if not isinstance(value, str):
                raise ValueError("must be a string")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be {'an integer' if self.type == 'integer' else 'a number'}")
        elif self.type == "integer":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError("must be an integer")
            value = int(value)
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(map(str, self.choices))}")
        if self.minimum is not None and (
            value <= self.minimum if self.exclusive_minimum else value < self.minimum
        ):
            relation = "greater than" if self.exclusive_minimum else "at least"
            raise ValueError(f"must be {relation} {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"must be at most {self.maximum:g}")
        return value

    def _checked_list(self, value: Any) -> list[int]:
        if not isinstance(value, list):
            raise ValueError("must be a list of integers" + (" or null" if self.nullable else ""))
        if self.min_items is not None and len(value) < self.min_items:
            raise ValueError(f"must have at least {self.min_items} items")
        if self.max_items is not None and len(value) > self.max_items:
            raise ValueError(f"must have at most {self.max_items} items")
        item = HyperparameterSpec(self.name, "integer", None, "", self.minimum, self.maximum)
        checked = []
        for index, entry in enumerate(value):
            try:
                checked.append(item.checked(entry))
            except ValueError as error:
                raise ValueError(f"item {index} {error}") from None
        return checked

    def info(self) -> HyperparameterInfo:
        return HyperparameterInfo(
            name=self.name,
            type=self.type,
            minimum=self.minimum,
            maximum=self.maximum,
            exclusive_minimum=self.exclusive_minimum,
            choices=list(self.choices) if self.choices is not None else None,
            default=self.default,
            description=self.description,
            min_items=self.min_items,
            max_items=self.max_items,
            nullable=self.nullable,
        )


@dataclass(frozen=True)
class FitContext:
    """What `fit` gets besides the data. The resources are the job's request
    (TrainingConfig.resources), already checked against the tenant's limits and the cluster:
    an algorithm reserves them on Ray with `worker_resources()` (Ray Train's
    `ScalingConfig(resources_per_worker=..., use_gpu=context.use_gpu)`) or `task_options()`
    (`some_task.options(**context.task_options())`), and sizes its thread pool to `cpus`."""

    job_id: str
    random_state: int
    hyperparameters: dict[str, Any]
    storage_path: str
    progress: Any  # the job's JobProgress handle (app.jobs.progress)
    cpus: int = 1
    memory_bytes: int | None = None
    gpus: int = 0
    # True: fit here, in the calling process (a warm worker that already holds the job's
    # resources); False: on Ray Train with `num_workers` workers, or in a Ray task.
    in_process: bool = False
    num_workers: int = 1
    # How often per-round history goes to `progress` (in process): a job batches rounds so a
    # report does not cost a call per round; a tuning trial (0) reports every round, so its
    # scheduler can stop it at the round it decides.
    progress_interval_seconds: float = 0.5
    # A tuning trial under pbt (in process, with `progress` a tuning `TrialProgress`): every
    # `checkpoint_every` rounds the model's state goes to `progress.keep_state(round, bytes)`
    # before that round's report (0: never), and `resume_state` (those bytes) is the model to
    # continue from, with this context's hyperparameters, up to the total rounds. Algorithms
    # that support it: xgboost, lightgbm (app.tuning.pbt.PBT_ALGORITHMS).
    checkpoint_every: int = 0
    resume_state: bytes | None = None

    @property
    def use_gpu(self) -> bool:
        return self.gpus > 0

    def worker_resources(self) -> dict[str, float]:
        """`resources_per_worker` of a one-worker Ray Train ScalingConfig."""
        resources: dict[str, float] = {"CPU": self.cpus}
        if self.memory_bytes is not None:
            resources["memory"] = self.memory_bytes
        if self.gpus:
            resources["GPU"] = self.gpus
        return resources

    def task_options(self) -> dict[str, Any]:
        """Options of a Ray task (or actor) that does the training: `.options(**these)`."""
        options: dict[str, Any] = {"num_cpus": self.cpus, "num_gpus": self.gpus}
        if self.memory_bytes is not None:
            options["memory"] = self.memory_bytes
        return options


class FittedModel(ABC):
    @abstractmethod
    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Class probabilities (rows by classes) for classification, values for regression."""

    def raw_feature_importance(self) -> dict[str, float] | None:
        """Unnormalised importance per feature; features the model never used may be absent.

        None: the model has no importance of its own; the driver then measures permutation
        importance on the test split (`app.training.importance`)."""
        return None

    @abstractmethod
    def log_to_mlflow(self, signature: "ModelSignature") -> str:
        """Log the model with its input signature into the active MLflow run; returns the
        LoggedModel id."""


class Algorithm(ABC):
    name: ClassVar[str]
    framework: ClassVar[str]
    task_types: ClassVar[tuple[TaskType, ...]]
    hyperparameters: ClassVar[tuple[HyperparameterSpec, ...]]
    # The standard name of what `FittedModel.raw_feature_importance` measures; models without
    # one of their own get the driver's permutation importance (app.training.importance).
    importance_kind: ClassVar[str] = (
        "permutation importance: the mean increase of the test split's loss (log loss, or RMSE "
        "for regression) when the feature's column is shuffled"
    )
    # Whether `fit` can run in the calling process (`FitContext.in_process`): single-worker jobs
    # of such algorithms run in warm, reused workers (app.training.warm) instead of a job driver.
    fits_in_process: ClassVar[bool] = False
    # Whether `fit` trains data-parallel on Ray Train with `FitContext.num_workers` workers.
    data_parallel: ClassVar[bool] = False

    def resolve_hyperparameters(self, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults merged with the given values; 422 naming `hyperparameters.<name>`."""
        specs = {spec.name: spec for spec in self.hyperparameters}
        resolved = {spec.name: spec.default for spec in self.hyperparameters}
        for name, value in given.items():
            field = f"hyperparameters.{name}"
            spec = specs.get(name)
            if spec is None:
                raise InvalidFieldError(
                    field, f"{self.name} has no hyperparameter {name}; known: {', '.join(specs)}"
                )
            try:
                resolved[name] = spec.checked(value)
            except ValueError as error:
                raise InvalidFieldError(field, str(error)) from None
        return resolved

    @abstractmethod
    def total_iterations(self, hyperparameters: dict[str, Any]) -> int:
        """How many progress steps a job reports (boosting rounds, epochs...)."""

    @abstractmethod
    def fit(self, data: TrainingData, context: FitContext) -> FittedModel:
        """Train on `data.train`, reporting progress on `data.test`; runs in the job driver."""
