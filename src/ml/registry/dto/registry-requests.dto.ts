import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  registerDecorator,
  type ValidationArguments,
  ValidateIf,
} from 'class-validator';
import { IsRunId } from '@app/ml/tracking/dto/tracking-ids';

export const MODEL_STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type ModelStageName = (typeof MODEL_STAGES)[number];

const JOB_ID_PATTERN = /^train-[0-9a-f]{12}$/;

/** job_id xor run_id, and a well-formed job id: one check so the caller gets the one reason that matters. */
function IsJobIdUnlessRunId(): PropertyDecorator {
  const problem = (value: unknown, body: { run_id?: unknown }): string | undefined => {
    if ((value === undefined) === (body.run_id === undefined)) {
      return 'exactly one of job_id or run_id is required';
    }
    if (value !== undefined && (typeof value !== 'string' || !JOB_ID_PATTERN.test(value))) {
      return 'job_id must look like train-<12 hex digits>';
    }
    return undefined;
  };
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isJobIdUnlessRunId',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown, args: ValidationArguments) => problem(value, args.object) === undefined,
        defaultMessage: (args?: ValidationArguments) => problem(args?.value, args?.object ?? {}) ?? 'job_id is invalid',
      },
    });
}

export class RegisterModelVersionDto {
  @ApiPropertyOptional({ example: 'train-3f9a1c2b4d5e', description: 'The training job whose model to register. Exactly one of job_id and run_id.' })
  @IsJobIdUnlessRunId()
  job_id?: string;

  @ApiPropertyOptional({ example: '0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d', description: 'The run whose model to register. Exactly one of job_id and run_id.' })
  @ValidateIf((body: RegisterModelVersionDto) => body.run_id !== undefined)
  @IsRunId()
  run_id?: string;

  @ApiPropertyOptional({ example: 'XGBoost, 100 trees' })
  @IsOptional()
  @MaxLength(5000)
  @IsString()
  description?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { team: 'retention' } })
  @IsOptional()
  @IsObject()
  tags?: Record<string, string>;
}

export class SearchModelsQueryDto {
  @ApiPropertyOptional({ example: 'churn', description: 'Substring of the name.' })
  @IsOptional()
  @MaxLength(128)
  @IsString()
  name?: string;

  @ApiPropertyOptional({ example: 'team=retention', description: '`key=value`.' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,250}=.{0,500}$/, { message: 'tag must look like key=value' })
  tag?: string;

  @ApiPropertyOptional({ enum: MODEL_STAGES, description: 'Models with a version in this stage.' })
  @IsOptional()
  @IsIn(MODEL_STAGES)
  stage?: ModelStageName;

  @ApiPropertyOptional({ example: 'auc_roc>0.8', description: 'Models with a version whose metric compares so: `<metric><op><number>`, op one of > >= < <= =.' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,250}\s*(>=|<=|>|<|=)\s*-?[0-9]+(\.[0-9]+)?$/, { message: 'metric must look like auc_roc>0.8 (a metric, one of > >= < <= =, a number)' })
  metric?: string;
}

export class UpdateRegistryEntryDto {
  @ApiPropertyOptional({ example: 'Churn model for the retention team' })
  @IsOptional()
  @MaxLength(5000)
  @IsString()
  description?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { team: 'retention' } })
  @IsOptional()
  @IsObject()
  tags?: Record<string, string>;
}

export class DeleteModelQueryDto {
  @ApiPropertyOptional({ default: false, description: 'Say what would be removed without removing it.' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'dry_run must be true or false' })
  dry_run?: boolean;
}

export class TransitionStageDto {
  @ApiProperty({ enum: MODEL_STAGES, example: 'Staging' })
  @IsIn(MODEL_STAGES)
  stage!: ModelStageName;

  @ApiPropertyOptional({ example: 'Beats the current model on auc_roc' })
  @IsOptional()
  @MaxLength(1000)
  @IsString()
  reason?: string;
}

export class SetAliasDto {
  @ApiProperty({ example: 2 })
  @IsInt({ message: 'version must be a positive integer' })
  @Min(1, { message: 'version must be a positive integer' })
  version!: number;
}
