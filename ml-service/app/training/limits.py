"""Seed 001's per-tenant resource limits: checks at submission and the duration message.

The limits are this service's configuration (MLS_MAX_* and MLS_TENANT_LIMITS, read by
`Settings.effective_limits`), never part of a request: a caller that could send them could give
any tenant any quota (issue 11). This service enforces them because only it knows the Ray
cluster, the dataset and the clock of a running job.
"""

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from app.errors import InvalidFieldError
from app.training.schemas import TrainingResources

GB = 1024**3


class TrainingLimits(BaseModel):
    """One tenant's limits; seed 001's defaults. Counted over training jobs and batch
    predictions (`max_concurrent_jobs`) and checked at submission (the rest but the duration,
    which stops a running job)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_concurrent_jobs: int = Field(5, ge=1, le=1000, description="active (queued+running) jobs")
    max_training_duration_seconds: int = Field(
        14400, ge=1, description="a running job is stopped (failed) after this long"
    )
    max_dataset_size_gb: float = Field(
        10, gt=0, description="estimated size of the loaded columns; larger is refused at submit"
    )
    max_cpus_per_job: int = Field(4, ge=1, description="largest resources.cpus accepted")
    max_memory_per_job_gb: float = Field(16, gt=0, description="largest resources.memory_gb")
    max_gpus_per_job: int = Field(0, ge=0, description="largest resources.gpus accepted")


class TenantLimitOverrides(BaseModel):
    """One tenant's entry of MLS_TENANT_LIMITS: any of TrainingLimits' fields, same bounds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_concurrent_jobs: int | None = Field(None, ge=1, le=1000)
    max_training_duration_seconds: int | None = Field(None, ge=1)
    max_dataset_size_gb: float | None = Field(None, gt=0)
    max_cpus_per_job: int | None = Field(None, ge=1)
    max_memory_per_job_gb: float | None = Field(None, gt=0)
    max_gpus_per_job: int | None = Field(None, ge=0)


# The services' seam to the configuration: tenant id -> that tenant's limits.
LimitsFor = Callable[[str], TrainingLimits]


def _gb(value: float) -> str:
    return f"{value:.4g} GB"


def _plural(count: float, word: str) -> str:
    return f"{count:g} {word}" + ("" if count == 1 else "s")


def check_resources(
    resources: TrainingResources, limits: TrainingLimits, cluster: dict[str, float]
) -> None:
    """422 naming `resources.<field>` when the request is over the tenant's per-job limit, or
    more than the whole Ray cluster has: such a job would wait in Ray's queue for ever."""
    if resources.cpus > limits.max_cpus_per_job:
        raise InvalidFieldError(
            "resources.cpus",
            f"{_plural(resources.cpus, 'CPU')} requested, over the tenant's limit of "
            f"{_plural(limits.max_cpus_per_job, 'CPU')} per job (MLS_MAX_CPU_PER_JOB)",
        )
    if resources.memory_gb is not None and resources.memory_gb > limits.max_memory_per_job_gb:
        raise InvalidFieldError(
            "resources.memory_gb",
            f"{_gb(resources.memory_gb)} requested, over the tenant's limit of "
            f"{_gb(limits.max_memory_per_job_gb)} per job (MLS_MAX_MEMORY_PER_JOB_GB)",
        )
    if resources.gpus > limits.max_gpus_per_job:
        raise InvalidFieldError(
            "resources.gpus",
            f"{_plural(resources.gpus, 'GPU')} requested, over the tenant's limit of "
            f"{_plural(limits.max_gpus_per_job, 'GPU')} per job (MLS_MAX_GPU_PER_JOB)",
        )
    cluster_cpus = cluster.get("CPU", 0.0)
    if resources.cpus > cluster_cpus:
        raise InvalidFieldError(
            "resources.cpus",
            f"{_plural(resources.cpus, 'CPU')} requested, but the cluster has "
            f"{_plural(cluster_cpus, 'CPU')}; the job could never start",
        )
    cluster_gpus = cluster.get("GPU", 0.0)
    if resources.gpus > cluster_gpus:
        has = "no GPU" if cluster_gpus == 0 else _plural(cluster_gpus, "GPU")
        raise InvalidFieldError(
            "resources.gpus",
            f"{_plural(resources.gpus, 'GPU')} requested, but the cluster has {has}; "
            "the job could never start",
        )
    # Ray's `memory` resource: what its nodes offer to tasks and actors (about 70 % of RAM).
    cluster_memory_gb = cluster.get("memory", 0.0) / GB
    if resources.memory_gb is not None and resources.memory_gb > cluster_memory_gb:
        raise InvalidFieldError(
            "resources.memory_gb",
            f"{_gb(resources.memory_gb)} requested, but the cluster has "
            f"{_gb(cluster_memory_gb)} of memory for tasks; the job could never start",
        )


def check_dataset_size(estimated_bytes: int, limits: TrainingLimits) -> None:
    """422 naming `dataset` when the columns training would load exceed the tenant's maximum."""
    limit_bytes = limits.max_dataset_size_gb * GB
    if estimated_bytes > limit_bytes:
        raise InvalidFieldError(
            "dataset",
            f"the dataset is about {_gb(estimated_bytes / GB)} ({estimated_bytes} bytes in the "
            f"columns used), over the tenant's maximum of {_gb(limits.max_dataset_size_gb)} "
            "(MLS_MAX_DATASET_SIZE_GB); select fewer rows or columns",
        )

