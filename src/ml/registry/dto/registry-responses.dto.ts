import { ApiProperty } from '@nestjs/swagger';
import { MODEL_STAGES, type ModelStageName } from '@app/ml/registry/dto/registry-requests.dto';

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

export class SignatureColumnDto {
  @ApiProperty({ type: String, nullable: true, example: 'tenure' })
  name!: string | null;

  @ApiProperty({ example: 'long' })
  type!: string;
}

export class SignatureDto {
  @ApiProperty({ type: [SignatureColumnDto] })
  inputs!: SignatureColumnDto[];

  @ApiProperty({ type: [SignatureColumnDto], nullable: true })
  outputs!: SignatureColumnDto[] | null;
}

/** Where a version came from: enough to retrain it or explain it. */
export class LineageDto {
  @ApiProperty({ type: String, nullable: true })
  job_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  run_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  dataset_query!: string | null;

  @ApiProperty({ type: String, nullable: true })
  dataset_table!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Content hash of the rows the training read.' })
  dataset_hash!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'The training configuration.' })
  config!: Record<string, unknown> | null;

  @ApiProperty({ type: String, nullable: true })
  code_version!: string | null;
}

/** Versions are strings on the wire, as MLflow has them; as path parameters they are positive integers. */
export class ModelVersionResponseDto {
  @ApiProperty({ example: 'churn-predictor' })
  name!: string;

  @ApiProperty({ example: '1' })
  version!: string;

  @ApiProperty({ enum: MODEL_STAGES, example: 'Production' })
  stage!: ModelStageName;

  @ApiProperty({ type: [String], example: ['production', 'champion'] })
  aliases!: string[];

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty(STRING_MAP)
  tags!: Record<string, string>;

  @ApiProperty({ type: String, nullable: true })
  run_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  job_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  model_artifact_id!: string | null;

  @ApiProperty({ example: 'models:/m-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d' })
  source!: string;

  @ApiProperty({ type: SignatureDto, nullable: true, description: "The model's input (and output) signature." })
  signature!: SignatureDto | null;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'number', nullable: true }, example: { auc_roc: 0.96 } })
  metrics!: Record<string, number | null>;

  @ApiProperty({ type: LineageDto })
  lineage!: LineageDto;

  @ApiProperty({ type: String, nullable: true })
  created_at!: string | null;
}

export class RegisteredModelResponseDto {
  @ApiProperty({ example: 'churn-predictor' })
  name!: string;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty(STRING_MAP)
  tags!: Record<string, string>;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { production: '2', champion: '2' } })
  aliases!: Record<string, string>;

  @ApiProperty({ type: [ModelVersionResponseDto] })
  versions!: ModelVersionResponseDto[];

  @ApiProperty({ type: String, nullable: true, example: '2' })
  production_version!: string | null;

  @ApiProperty({ type: String, nullable: true })
  created_at!: string | null;

  @ApiProperty({ type: String, nullable: true })
  updated_at!: string | null;
}

export class RegisteredModelListResponseDto {
  @ApiProperty({ type: [RegisteredModelResponseDto] })
  models!: RegisteredModelResponseDto[];
}

export class DeletedModelDto {
  @ApiProperty()
  name!: string;

  @ApiProperty({ type: [String], example: ['1', '2'] })
  versions!: string[];

  @ApiProperty({ type: [String] })
  aliases!: string[];
}

export class ModelDeletionResponseDto {
  @ApiProperty({ type: DeletedModelDto, description: 'What was removed, or with dry_run what would be.' })
  deleted!: DeletedModelDto;

  @ApiProperty({ description: 'True: nothing was removed; this is what would be.' })
  dry_run!: boolean;
}

export class AuditEventDto {
  @ApiProperty({ example: '2026-09-01T12:00:00Z' })
  at!: string;

  @ApiProperty({ example: 'api-key:dev-acme' })
  actor!: string;

  @ApiProperty({ example: 'transition', description: 'register_model, register_version, transition, set_alias, delete_alias, update_model, update_version, delete_version, delete_model.' })
  action!: string;

  @ApiProperty({ type: String, nullable: true, example: '1' })
  version!: string | null;

  @ApiProperty({ type: String, nullable: true })
  from_stage!: string | null;

  @ApiProperty({ type: String, nullable: true })
  to_stage!: string | null;

  @ApiProperty({ type: String, nullable: true })
  alias!: string | null;

  @ApiProperty({ type: String, nullable: true })
  reason!: string | null;
}

export class AuditTrailResponseDto {
  @ApiProperty({ type: [AuditEventDto], description: 'Oldest first.' })
  events!: AuditEventDto[];
}
