"""Request and response bodies of /api/v1/registry (docs/contract.md, issue 4)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

Stage = Literal["None", "Staging", "Production", "Archived"]
STAGES: tuple[Stage, ...] = ("None", "Staging", "Production", "Archived")


class VersionCreate(BaseModel):
    job_id: str | None = Field(None, description="a completed training job of the tenant")
    run_id: str | None = Field(None, description="a run of the tenant that logged a model")
    description: str | None = Field(None, max_length=5000)
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _exactly_one_source(self) -> "VersionCreate":
        if (self.job_id is None) == (self.run_id is None):
            raise ValueError("give exactly one of job_id and run_id")
        return self


class ModelUpdate(BaseModel):
    description: str | None = Field(None, max_length=5000)
    tags: dict[str, str] | None = Field(None, description="set (merged into) the existing tags")


class StageChange(BaseModel):
    stage: Stage
    reason: str | None = Field(None, max_length=1000)


class AliasAssignment(BaseModel):
    version: int = Field(ge=1)


class SignatureColumn(BaseModel):
    name: str | None
    type: str


class Signature(BaseModel):
    inputs: list[SignatureColumn]
    outputs: list[SignatureColumn] | None


class Lineage(BaseModel):
    job_id: str | None
    run_id: str | None
    dataset_query: str | None
    dataset_table: str | None
    dataset_hash: str | None
    config: dict[str, Any] | None = Field(description="the training configuration (config.json)")
    code_version: str | None


class ModelVersion(BaseModel):
    name: str
    version: str
    stage: Stage
    aliases: list[str]
    description: str | None
    tags: dict[str, str]
    run_id: str | None
    job_id: str | None
    model_artifact_id: str | None
    source: str
    signature: Signature | None
    metrics: dict[str, float | None]
    lineage: Lineage
    created_at: datetime | None


class RegisteredModel(BaseModel):
    name: str
    description: str | None
    tags: dict[str, str]
    aliases: dict[str, str]
    versions: list[ModelVersion]
    production_version: str | None
    created_at: datetime | None
    updated_at: datetime | None


class RegisteredModelList(BaseModel):
    models: list[RegisteredModel]


class DeletedModel(BaseModel):
    name: str
    versions: list[str]
    aliases: list[str]


class ModelDeletion(BaseModel):
    deleted: DeletedModel
    dry_run: bool = Field(description="true: nothing was removed, this is what would be")


class AuditEventOut(BaseModel):
    at: datetime
    actor: str
    action: str = Field(
        description="register_model, register_version, transition, set_alias, delete_alias, "
        "update_model, update_version, delete_version, delete_model"
    )
    version: str | None
    from_stage: str | None
    to_stage: str | None
    alias: str | None
    reason: str | None


class AuditTrail(BaseModel):
    events: list[AuditEventOut]
