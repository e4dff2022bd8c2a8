"""Seed 001's per-tenant resource limits: checks at submission and the duration message.

The AI Service owns the limits (its ML_MAX_* variables and ML_TENANT_LIMITS) and sends the
tenant's values with every submission; this service enforces them, because only it knows the
Ray cluster, the dataset and the clock of a running job.
"""

from app.errors import InvalidFieldError
from app.training.schemas import TrainingLimits, TrainingResources

GB = 1024**3


def effective_limits(
    limits: TrainingLimits | None, default_max_concurrent_jobs: int
) -> TrainingLimits:
    """The submission's limits, or seed 001's defaults when the caller sent none."""
    return limits or TrainingLimits(max_concurrent_jobs=default_max_concurrent_jobs)


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
            f"{_plural(limits.max_cpus_per_job, 'CPU')} per job (ML_MAX_CPU_PER_JOB)",
        )
    if resources.memory_gb is not None and resources.memory_gb > limits.max_memory_per_job_gb:
        raise InvalidFieldError(
            "resources.memory_gb",
            f"{_gb(resources.memory_gb)} requested, over the tenant's limit of "
            f"{_gb(limits.max_memory_per_job_gb)} per job (ML_MAX_MEMORY_PER_JOB_GB)",
        )
    if resources.gpus > limits.max_gpus_per_job:
        raise InvalidFieldError(
            "resources.gpus",
            f"{_plural(resources.gpus, 'GPU')} requested, over the tenant's limit of "
            f"{_plural(limits.max_gpus_per_job, 'GPU')} per job (ML_MAX_GPU_PER_JOB)",
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
            "(ML_MAX_DATASET_SIZE_GB); select fewer rows or columns",
        )

