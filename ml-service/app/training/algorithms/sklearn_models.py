"""scikit-learn algorithms (random forest, linear / logistic regression) run as a Ray task.

scikit-learn has no Ray Train trainer, so the fit runs in one Ray task that asks for the job's
CPUs and uses no more threads than that (`n_jobs`). Categorical columns are one-hot encoded
(with the categories fixed at submission), numeric columns imputed and, for linear models,
scaled — all inside one sklearn Pipeline, which is what MLflow logs, so the logged model
predicts on the raw feature columns.
"""

from typing import Any

import mlflow.sklearn
import numpy as np
import pandas as pd
import ray
import sklearn
import skops.io
from mlflow.models import ModelSignature
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import log_loss, mean_squared_error
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from app.training.algorithms.base import (
    Algorithm,
    FitContext,
    FittedModel,
    HyperparameterSpec,
)
from app.training.features import LABEL_COLUMN, FeatureSpec, TrainingData, model_frame

# The forest grows in this many steps at most, each one a progress event.
FOREST_PROGRESS_STEPS = 10


def _preprocessor(spec: FeatureSpec, scale: bool) -> ColumnTransformer:
    """Over the model columns (`f<n>`), which is what the pipeline is fed."""
    categories = spec.model_categories
    numeric = [column for column in spec.model_columns if column not in categories]
    categorical = [column for column in spec.model_columns if column in categories]
    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("numeric", Pipeline(numeric_steps), numeric))
    if categorical:
        transformers.append(
            (
                "categorical",
                # Fixed categories: train, test and later predictions encode alike; a missing
                # or unseen value is all zeros.
                OneHotEncoder(
                    categories=[categories[column] for column in categorical],
                    handle_unknown="ignore",
                ),
                categorical,
            )
        )
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0)


def _encoded_sources(spec: FeatureSpec) -> list[str]:
    """The model column of each encoded column, in the preprocessor's output order."""
    categories = spec.model_categories
    numeric = [column for column in spec.model_columns if column not in categories]
    categorical = [column for column in spec.model_columns if column in categories]
    return numeric + [column for column in categorical for _ in range(len(categories[column]))]


def _raw_inputs(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Model inputs with categoricals as plain strings (None when missing), as MLflow sends them."""
    typed = model_frame(frame, spec)
    for column in spec.model_categories:
        typed[column] = typed[column].astype("object").where(typed[column].notna(), None)
    return typed


def _test_metrics(model: Pipeline, data: TrainingData, features: pd.DataFrame) -> dict[str, float]:
    labels = data.test[LABEL_COLUMN].to_numpy()
    if data.task_type == "regression":
        return {"test-rmse": float(np.sqrt(mean_squared_error(labels, model.predict(features))))}
    classes = list(range(len(data.spec.classes or [])))
    probabilities = _class_probabilities(model, features, len(classes))
    return {"test-logloss": float(log_loss(labels, probabilities, labels=classes))}


def _class_probabilities(model: Pipeline, features: pd.DataFrame, class_count: int) -> np.ndarray:
    """Probabilities for every class, also those the training split happened to lack."""
    predicted = model.predict_proba(features)
    full = np.zeros((len(features), class_count))
    full[:, model.classes_.astype(int)] = predicted
    return full


class FittedPipeline(FittedModel):
    def __init__(
        self, pipeline: Pipeline, spec: FeatureSpec, task_type: str, importance: np.ndarray
    ) -> None:
        self._pipeline = pipeline
        self._spec = spec
        self._task_type = task_type
        self._importance = importance

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        features = features.copy()
        for column in self._spec.model_categories:
            features[column] = features[column].astype("object").where(features[column].notna())
        if self._task_type == "classification":
            return _class_probabilities(self._pipeline, features, len(self._spec.classes or []))
        return self._pipeline.predict(features)

    def raw_feature_importance(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for source, value in zip(_encoded_sources(self._spec), self._importance, strict=True):
            totals[source] = totals.get(source, 0.0) + float(value)
        return totals

    def log_to_mlflow(self, signature: ModelSignature) -> str:
        # skops (MLflow's safe format) only loads types named trusted: the ones of the pipeline
        # built here.
        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(self._pipeline))
        info = mlflow.sklearn.log_model(
            self._pipeline,
            name="model",
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            signature=signature,
            skops_trusted_types=trusted,
        )
        return info.model_id


# Resources are set per call from the job's request (FitContext.task_options).
@ray.remote(max_retries=0)
def _fit_remote(
    algorithm: "SklearnAlgorithm", data: TrainingData, context: FitContext
) -> tuple[Pipeline, np.ndarray]:
    return algorithm.fit_pipeline(data, context)


class SklearnAlgorithm(Algorithm):
    fits_in_process = True

    def fit(self, data: TrainingData, context: FitContext) -> FittedModel:
        if context.in_process:
            pipeline, importance = self.fit_pipeline(data, context)
        else:
            pipeline, importance = ray.get(
                _fit_remote.options(**context.task_options()).remote(self, data, context)
            )
        return FittedPipeline(pipeline, data.spec, data.task_type, importance)

    def fit_pipeline(self, data: TrainingData, context: FitContext) -> tuple[Pipeline, np.ndarray]:
        """Runs in the Ray task: the fitted pipeline and the importance per encoded column."""
        raise NotImplementedError


class RandomForestAlgorithm(SklearnAlgorithm):
    name = "random_forest"
    framework = "scikit-learn on Ray"
    importance_kind = "mean decrease in impurity (MDI, scikit-learn `feature_importances_`)"
    task_types = ("classification", "regression")
    hyperparameters = (
        HyperparameterSpec("n_estimators", "integer", 100, "number of trees", 1, 2000),
        HyperparameterSpec(
            "max_depth", "integer", 0, "maximum depth of a tree; 0 grows until leaves are pure",
            0, 100,
        ),
        HyperparameterSpec(
            "min_samples_split", "integer", 2, "minimum rows to split a node", 2, 100000
        ),
        HyperparameterSpec(
            "min_samples_leaf", "integer", 1, "minimum rows in a leaf", 1, 100000
        ),
        HyperparameterSpec(
            "max_features", "string", "sqrt",
            "features considered per split: sqrt, log2 or all of them",
            choices=("sqrt", "log2", "all"),
        ),
        HyperparameterSpec(
            "bootstrap", "boolean", True, "each tree sees a bootstrap sample of the rows"
        ),
        HyperparameterSpec(
            "class_weight", "string", "none",
            "classification: balanced weighs classes inversely to their frequency",
            choices=("none", "balanced"),
        ),
    )  # fmt: skip

    def total_iterations(self, hyperparameters: dict[str, Any]) -> int:
        return min(FOREST_PROGRESS_STEPS, int(hyperparameters["n_estimators"]))

    def fit_pipeline(self, data: TrainingData, context: FitContext) -> tuple[Pipeline, np.ndarray]:
        chosen = context.hyperparameters
        common: dict[str, Any] = {
            "max_depth": chosen["max_depth"] or None,
            "min_samples_split": chosen["min_samples_split"],
            "min_samples_leaf": chosen["min_samples_leaf"],
            "max_features": None if chosen["max_features"] == "all" else chosen["max_features"],
            "bootstrap": chosen["bootstrap"],
            "n_jobs": context.cpus,
            "random_state": context.random_state,
            "warm_start": True,
        }
        if data.task_type == "classification":
            weight = None if chosen["class_weight"] == "none" else chosen["class_weight"]
            forest: Any = RandomForestClassifier(class_weight=weight, **common)
        else:
            forest = RandomForestRegressor(**common)
        preprocessor = _preprocessor(data.spec, scale=False)
        train = preprocessor.fit_transform(
            _raw_inputs(data.train, data.spec), data.train[LABEL_COLUMN]
        )
        labels = data.train[LABEL_COLUMN].to_numpy()
        test = _raw_inputs(data.test, data.spec)
        pipeline = Pipeline([("preprocess", preprocessor), ("model", forest)])
        total, steps = int(chosen["n_estimators"]), self.total_iterations(chosen)
        for step in range(1, steps + 1):
            # warm_start adds trees; seeds of later trees follow from random_state, so the
            # forest is the same on every run.
            forest.set_params(n_estimators=total * step // steps)
            forest.fit(train, labels)
            ray.get(context.progress.report.remote([(step, _test_metrics(pipeline, data, test))]))
        return pipeline, forest.feature_importances_


class LinearAlgorithm(SklearnAlgorithm):
    name = "linear"
    framework = "scikit-learn on Ray"
    # On standardised inputs (the pipeline scales them), summed over the classes.
    importance_kind = "absolute coefficients of the standardised features"
    task_types = ("classification", "regression")
    hyperparameters = (
        HyperparameterSpec(
            "fit_intercept", "boolean", True, "fit an intercept (bias) term"
        ),
        HyperparameterSpec(
            "C", "number", 1.0,
            "classification (logistic regression): inverse L2 regularisation strength",
            0, 1e6, exclusive_minimum=True,
        ),
        HyperparameterSpec(
            "max_iter", "integer", 1000,
            "classification (logistic regression): maximum solver iterations", 1, 100000,
        ),
        HyperparameterSpec(
            "class_weight", "string", "none",
            "classification: balanced weighs classes inversely to their frequency",
            choices=("none", "balanced"),
        ),
    )  # fmt: skip

    def total_iterations(self, hyperparameters: dict[str, Any]) -> int:
        return 1

    def fit_pipeline(self, data: TrainingData, context: FitContext) -> tuple[Pipeline, np.ndarray]:
        chosen = context.hyperparameters
        if data.task_type == "classification":
            model: Any = LogisticRegression(
                C=chosen["C"],
                max_iter=chosen["max_iter"],
                fit_intercept=chosen["fit_intercept"],
                class_weight=None if chosen["class_weight"] == "none" else "balanced",
                random_state=context.random_state,
            )
        else:
            model = LinearRegression(fit_intercept=chosen["fit_intercept"], n_jobs=context.cpus)
        pipeline = Pipeline(
            [("preprocess", _preprocessor(data.spec, scale=True)), ("model", model)]
        )
        pipeline.fit(_raw_inputs(data.train, data.spec), data.train[LABEL_COLUMN].to_numpy())
        test = _raw_inputs(data.test, data.spec)
        ray.get(context.progress.report.remote([(1, _test_metrics(pipeline, data, test))]))
        # On scaled inputs |coefficient| compares features; summed over classes when several.
        coefficients = np.abs(np.atleast_2d(model.coef_)).sum(axis=0)
        return pipeline, coefficients
