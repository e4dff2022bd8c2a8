import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsNotEmpty, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { CreateTuningSweepDto } from '@app/ml/tuning/dto/create-tuning-sweep.dto';

/** A registered model version, named as the registry names it. */
export class BaseModelVersionDto {
  @ApiProperty({ example: 'churn-tuned' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, { message: 'model_name must be a registered model name' })
  model_name!: string;

  @ApiProperty({ example: '1' })
  @Matches(/^[1-9][0-9]{0,8}$/, { message: 'version must be a version number such as "3"' })
  version!: string;
}

/**
 * A sweep starting from an earlier training job's configuration (its dataset, target, features, split, resources
 * and algorithm), given by the job's id or by a registered version it made, plus the search. Give exactly one of
 * `base_job_id` and `base_model` (the ML Service answers 422 otherwise).
 */
export class CreateTuningSweepFromBaseDto extends PickType(CreateTuningSweepDto, [
  'search_space',
  'search',
  'scheduler',
  'metric',
  'mode',
  'validation_size',
  'num_samples',
  'max_concurrent_trials',
  'time_budget_s',
  'random_state',
] as const) {
  @ApiPropertyOptional({ example: 'train-3f9a1c2b4d5e', description: 'A training job of the caller, in any status.' })
  @IsOptional()
  @Matches(/^train-[0-9a-f]{12}$/, { message: 'base_job_id must look like train-<12 hex digits>' })
  base_job_id?: string;

  @ApiPropertyOptional({ type: BaseModelVersionDto, description: "A registered version made by one of the caller's training jobs." })
  @IsOptional()
  @ValidateNested()
  @Type(() => BaseModelVersionDto)
  base_model?: BaseModelVersionDto;

  @ApiPropertyOptional({ example: 'churn-retune', maxLength: 200, description: "Default: <the base job's name>-sweep." })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { n_estimators: 300 },
    description: "Fixed values on top of the base job's hyperparameters (which stay fixed except the searched ones).",
  })
  @IsOptional()
  @IsObject()
  hyperparameters?: Record<string, unknown>;
}
