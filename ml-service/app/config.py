"""Settings of the ML Service: one object, read from `MLS_*` environment variables."""

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from app.datasets.demo_data import DEMO_TENANT_ID
from app.datasets.warehouse import WarehouseLimits
from app.features.online_store import RedisOnlineStore, parse_online_store
from app.training.limits import TenantLimitOverrides, TrainingLimits

# ml-service/app/config.py -> the repository root; durable state lives next to the code by default
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
ENV_PREFIX = "MLS_"
# What X-Tenant-ID (app.deps) and the keys of MLS_TENANT_LIMITS must match.
TENANT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class ConfigurationError(RuntimeError):
    """Raised at start-up when an environment variable holds an invalid value."""


class Settings(BaseSettings):
    # A variable set but empty (compose's `${MLS_TENANT_LIMITS:-}`) means "the default".
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, env_ignore_empty=True
    )

    host: str = Field("127.0.0.1", description="interface uvicorn binds to")
    port: int = Field(8000, ge=1, le=65535, description="port uvicorn listens on")
    data_dir: Path = Field(
        REPOSITORY_ROOT / "data",
        description="folder of all durable state: jobs, warehouses, MLflow, Ray results",
    )
    ray_address: str | None = Field(
        None,
        # Ray's own variable, so an existing cluster is joined the way Ray users expect
        validation_alias=AliasChoices("RAY_ADDRESS"),
        description="address of an existing Ray cluster; a local Ray starts when unset",
    )
    ray_num_cpus: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        description="CPUs of the local Ray instance",
    )
    mlflow_tracking_uri: str | None = Field(
        None, description="MLflow tracking URI; SQLite under the data folder when unset"
    )
    service_token: str | None = Field(
        None,
        min_length=16,
        description="shared secret the AI Service presents as `Authorization: Bearer`; when "
        "unset, the one in <data_dir>/service_token (made once, mode 600)",
    )
    seed_demo_data: bool = Field(True, description="create the synthetic demo warehouses")
    demo_tenants: list[str] = Field(
        [DEMO_TENANT_ID],
        description='tenants whose warehouse gets the synthetic demo tables, as JSON, e.g. '
        '["acme-corp","hooli"] (a workshop, or a test that needs demo data of its own)',
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`text`: key=value lines a person reads; `json`: one JSON object per line "
        "(time, level, logger, message, request_id and the line's fields) for a log collector",
    )
    # Seed 001's per-tenant limits. They are this service's configuration, never a request's:
    # whoever reaches the port with the token must not be able to raise a tenant's quota (issue 11).
    max_training_jobs: int = Field(
        5, ge=1, le=1000, description="active (queued+running) training and batch jobs per tenant"
    )
    max_training_duration: int = Field(
        14400, ge=1, description="seconds a training job may run; then it is stopped (failed)"
    )
    max_dataset_size_gb: float = Field(
        10, gt=0, description="estimated size of the columns a job loads; larger is refused"
    )
    max_cpu_per_job: int = Field(4, ge=1, description="largest resources.cpus of a training job")
    max_memory_per_job_gb: float = Field(16, gt=0, description="largest resources.memory_gb")
    max_gpu_per_job: int = Field(0, ge=0, description="largest resources.gpus (0: CPU only)")
    tenant_limits: dict[str, TenantLimitOverrides] = Field(
        default_factory=dict,
        description='per-tenant overrides as JSON, e.g. {"globex":{"max_cpus_per_job":1}}; '
        "keys are TrainingLimits' field names",
    )
    max_upload_bytes: int = Field(
        10 * 1024**3,
        ge=1,
        description="largest dataset upload; a caller's `max_bytes` can only lower it",
    )
    warm_worker_idle_seconds: float = Field(
        300,
        gt=0,
        description="a warm training worker (single-worker jobs) idle this long exits",
    )
    query_timeout_seconds: float = Field(
        20.0,
        gt=0,
        description="time limit of one interactive warehouse statement (describe, list, estimate); "
        "below the AI Service's per-call timeout so its caller sees which query was stopped",
    )
    load_timeout_seconds: float = Field(
        600.0, gt=0, description="time limit of loading a job's rows or writing a table"
    )
    # 1M rows x 20 columns took 34 s to profile on 2 cores (bench/eda, 2026-11-30), past the AI
    # Service's 30 s per-call deadline; 5M cells stays well inside it.
    eda_sync_max_cells: int = Field(
        5_000_000,
        ge=0,
        description="a profile of more cells (rows x columns) runs as a `profiling` job (202) "
        "instead of inside the request; `Prefer: respond-async` asks for a job at any size",
    )
    warehouse_tenant_concurrency: int = Field(
        3, ge=1, description="warehouse calls of one tenant running or waiting; more get 429"
    )
    warehouse_pool_workers: int = Field(
        8, ge=1, description="threads of the warehouse pool (its own; health and MLflow never wait)"
    )
    warehouse_memory_limit_mb: int | None = Field(
        None, ge=64, description="DuckDB memory limit per connection; a quarter of the host's"
    )
    warehouse_threads: int | None = Field(
        None, ge=1, description="DuckDB threads per connection; half the host's cores when unset"
    )
    feature_store_python: Path = Field(
        REPOSITORY_ROOT / "ml-service" / "feature-store" / ".venv" / "bin" / "python",
        description="Python of the Feast environment (ml-service/feature-store, made by "
        "scripts/setup.sh); Feast runs in its own process from it",
    )
    # A secret: a Redis URL may hold a password, which repr() and logs must not show.
    feature_online_store: SecretStr = Field(
        SecretStr("sqlite"),
        description="Feast's online store: `sqlite` (a file per tenant in the data folder) or "
        "a Redis URL `redis://[[user]:password@]host[:port][/db]` (`rediss://` for TLS) shared "
        "by every tenant, each its own Feast project (app/features/online_store.py)",
    )
    prediction_sampling_rate: float = Field(
        1.0, ge=0, le=1, description="share of served predictions logged for monitoring"
    )
    serving_timing: bool = Field(
        False,
        description="answer each predict with a Server-Timing header: where its time went, per "
        "hop (app/serving/timing.py); for bench/serving, off in production",
    )

    @field_validator("demo_tenants")
    @classmethod
    def _demo_tenant_ids(cls, value: list[str]) -> list[str]:
        for tenant_id in value:
            if not TENANT_ID_PATTERN.fullmatch(tenant_id):
                raise ValueError(f'"{tenant_id}" is not a tenant id ({TENANT_ID_PATTERN.pattern})')
        return value

    @field_validator("feature_online_store")
    @classmethod
    def _online_store(cls, value: SecretStr) -> SecretStr:
        parse_online_store(value.get_secret_value())
        return value

    @field_validator("tenant_limits")
    @classmethod
    def _tenant_ids(
        cls, value: dict[str, TenantLimitOverrides]
    ) -> dict[str, TenantLimitOverrides]:
        for tenant_id in value:
            if not TENANT_ID_PATTERN.fullmatch(tenant_id):
                raise ValueError(f'"{tenant_id}" is not a tenant id ({TENANT_ID_PATTERN.pattern})')
        return value

    def effective_limits(self, tenant_id: str) -> TrainingLimits:
        """The tenant's limits: its MLS_TENANT_LIMITS entry over the MLS_MAX_* defaults."""
        defaults = TrainingLimits(
            max_concurrent_jobs=self.max_training_jobs,
            max_training_duration_seconds=self.max_training_duration,
            max_dataset_size_gb=self.max_dataset_size_gb,
            max_cpus_per_job=self.max_cpu_per_job,
            max_memory_per_job_gb=self.max_memory_per_job_gb,
            max_gpus_per_job=self.max_gpu_per_job,
        )
        overrides = self.tenant_limits.get(tenant_id)
        if overrides is None:
            return defaults
        return defaults.model_copy(update=overrides.model_dump(exclude_none=True))

    @cached_property
    def warehouse_limits(self) -> WarehouseLimits:
        defaults = WarehouseLimits()
        return WarehouseLimits(
            query_timeout_seconds=self.query_timeout_seconds,
            load_timeout_seconds=self.load_timeout_seconds,
            tenant_concurrency=self.warehouse_tenant_concurrency,
            pool_workers=self.warehouse_pool_workers,
            memory_limit_bytes=(
                self.warehouse_memory_limit_mb * 1024**2
                if self.warehouse_memory_limit_mb
                else defaults.memory_limit_bytes
            ),
            threads=self.warehouse_threads or defaults.threads,
        )

    @cached_property
    def warehouses_dir(self) -> Path:
        return self.data_dir / "warehouses"

    @cached_property
    def uploads_tmp_dir(self) -> Path:
        """Uploads being received; on the data volume so a 10 GB file never fills /tmp."""
        return self.data_dir / "uploads_tmp"

    @cached_property
    def job_store_path(self) -> Path:
        return self.data_dir / "jobs.sqlite"

    @cached_property
    def mlflow_dir(self) -> Path:
        return self.data_dir / "mlflow"

    @cached_property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{self.mlflow_dir / 'mlflow.db'}"

    @cached_property
    def serving_store_path(self) -> Path:
        return self.data_dir / "serving.sqlite"

    @cached_property
    def monitoring_dir(self) -> Path:
        return self.data_dir / "serving"

    @cached_property
    def features_dir(self) -> Path:
        """Feature sets' Feast projects (one per tenant) and the Parquet files Feast reads."""
        return self.data_dir / "features"

    @cached_property
    def online_store(self) -> RedisOnlineStore | None:
        """Feast's Redis online store, None for the per-tenant SQLite files."""
        return parse_online_store(self.feature_online_store.get_secret_value())

    @cached_property
    def ray_results_dir(self) -> Path:
        return self.data_dir / "ray_results"


def _variable_name(field_name: str) -> str:
    if field_name == "ray_address":
        return "RAY_ADDRESS"
    return f"{ENV_PREFIX}{field_name.upper()}"


def load_settings() -> Settings:
    """Read the environment once; an invalid value stops start-up naming its variable."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            # the path inside a JSON value (MLS_TENANT_LIMITS.globex.max_cpus_per_job) follows
            _variable_name(str(issue["loc"][0]))
            + "".join(f".{part}" for part in issue["loc"][1:])
            + f": {issue['msg']}"
            for issue in error.errors()
        )
        raise ConfigurationError(f"invalid ML Service configuration: {problems}") from None
    except SettingsError as error:
        # a JSON-valued variable (MLS_TENANT_LIMITS) that is not JSON; the message names its field
        raise ConfigurationError(f"invalid ML Service configuration: {error}") from None
