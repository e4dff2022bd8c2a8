"""Training on a feature set (`dataset.source: "feature_set"`): the version's point-in-time
frame is built for the entity rows into the tenant's warehouse, and the job trains on that table
like on any other; the job, its MLflow run and a registered version record the feature set name
and version (lineage)."""

import hashlib
import json

from app.errors import ForbiddenError, InvalidFieldError, NotFoundError
from app.features.schemas import TrainingSetRequest
from app.features.service import FeatureSetService
from app.training.schemas import FeatureSetRef, TrainingConfig, TrainingDataset

_FEATURE_SET_FIELDS = ("name", "version", "entities", "event_timestamp_column")


def resolve_dataset(
    features: FeatureSetService, tenant_id: str, config: TrainingConfig
) -> tuple[TrainingConfig, FeatureSetRef | None]:
    """The configuration to train, with a `feature_set` dataset replaced by the table its frame
    was written to (`training_sets.<set>_v<version>_<digest of the entity rows' definition>`,
    so the same request reads the same table), and the feature set version it used. Blocking
    (Feast and the warehouse): call it from a thread. 422s name `dataset.<field>`."""
    dataset = config.dataset
    if dataset.tenant_id is not None and dataset.tenant_id != tenant_id:
        raise ForbiddenError("dataset.tenant_id names another tenant than the X-Tenant-ID header")
    if dataset.source != "feature_set":
        for field in _FEATURE_SET_FIELDS:
            if getattr(dataset, field) is not None:
                raise InvalidFieldError(f"dataset.{field}", "only with source `feature_set`")
        return config, None
    for field in _FEATURE_SET_FIELDS:
        if getattr(dataset, field) is None:
            raise InvalidFieldError(f"dataset.{field}", "required when source is `feature_set`")
    for field in ("query", "table"):
        if getattr(dataset, field) is not None:
            raise InvalidFieldError(
                f"dataset.{field}", "not with source `feature_set`: the rows come from `entities`"
            )
    assert dataset.name is not None and dataset.version is not None
    assert dataset.entities is not None and dataset.event_timestamp_column is not None
    digest = hashlib.sha256(
        json.dumps(
            [dataset.entities.model_dump(mode="json"), dataset.event_timestamp_column]
        ).encode()
    ).hexdigest()[:12]
    request = TrainingSetRequest(
        entities=dataset.entities,
        event_timestamp_column=dataset.event_timestamp_column,
        output_table=f"{dataset.name[:30]}_v{dataset.version}_{digest}",
    )
    try:
        built = features.training_set(tenant_id, dataset.name, dataset.version, request)
    except NotFoundError as error:
        field = "dataset.version" if "has no version" in error.detail else "dataset.name"
        raise InvalidFieldError(field, error.detail) from None
    except InvalidFieldError as error:
        # The feature set's own fields (its source changed) and the entity rows' fields, as
        # parts of `dataset`.
        message = error.errors[0].message if error.errors else error.detail
        raise InvalidFieldError(f"dataset.{error.field}", message) from None
    resolved = TrainingDataset(source="table", table=built.table, tenant_id=dataset.tenant_id)
    return (
        config.model_copy(update={"dataset": resolved}),
        FeatureSetRef(name=dataset.name, version=dataset.version),
    )
