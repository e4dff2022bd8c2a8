import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { MODEL_NAME_PATTERN } from '@app/ml/registry/dto/registry-params.dto';

export const SERVING_RUNTIMES = ['ray_serve', 'embedded'] as const;
export type ServingRuntime = (typeof SERVING_RUNTIMES)[number];

/** Deployment ids as they appear in predict paths; the ML Service applies the same pattern. */
export const MODEL_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MODEL_ID_MESSAGE = 'model_id must be 1 to 63 lower-case letters, digits, _ or - starting with a letter or digit';
const WINDOW_PATTERN = /^[1-9][0-9]{0,5}[smhd]$/;

export class ModelIdParamDto {
  @ApiProperty({ example: 'churn', description: 'The deployment id chosen at deploy time.' })
  @Matches(MODEL_ID_PATTERN, { message: MODEL_ID_MESSAGE })
  model_id!: string;
}

export class ResourcesDto {
  @ApiPropertyOptional({ example: 0.25, description: 'CPUs reserved per replica (default 0.25).' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(16)
  cpu?: number;

  @ApiPropertyOptional({ example: 512, description: 'Memory per replica in MB.' })
  @IsOptional()
  @IsInt()
  @Min(64)
  @Max(65536)
  memory_mb?: number;
}

export class AutoscalingDto {
  @ApiProperty({ example: 1 })
  @IsInt()
  @Min(1)
  @Max(16)
  min_replicas!: number;

  @ApiProperty({ example: 3 })
  @IsInt()
  @Min(1)
  @Max(16)
  max_replicas!: number;

  @ApiPropertyOptional({ example: 8, description: 'Ongoing requests per replica Serve aims for.' })
  @IsOptional()
  @IsNumber()
  @Min(0.001)
  target_ongoing_requests?: number;
}

/** One registry version, by number, stage or alias: exactly one (the ML Service names the rule). */
export class ModelVersionRefDto {
  @ApiPropertyOptional({ example: 3, description: 'Registry version number.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;

  @ApiPropertyOptional({ enum: ['Staging', 'Production'], example: 'Production' })
  @IsOptional()
  @IsIn(['Staging', 'Production'])
  stage?: 'Staging' | 'Production';

  @ApiPropertyOptional({ example: 'champion' })
  @IsOptional()
  @Matches(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, { message: 'alias must be 1 to 64 letters, digits, _ or - starting with a letter' })
  alias?: string;
}

export class CreateDeploymentDto extends ModelVersionRefDto {
  @ApiProperty({ example: 'churn-predictor-v2' })
  @Matches(MODEL_NAME_PATTERN, { message: 'model_name must be 1 to 128 letters, digits or _ . - starting with a letter or digit' })
  model_name!: string;

  @ApiPropertyOptional({ example: 'churn', description: 'Id in predict paths; defaults to the model name in lower case.' })
  @IsOptional()
  @Matches(MODEL_ID_PATTERN, { message: MODEL_ID_MESSAGE })
  model_id?: string;

  @ApiPropertyOptional({ example: 1, description: 'Fixed replica count (ignored with autoscaling).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(16)
  replicas?: number;

  @ApiPropertyOptional({ type: AutoscalingDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AutoscalingDto)
  autoscaling?: AutoscalingDto;

  @ApiPropertyOptional({ type: ResourcesDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ResourcesDto)
  resources?: ResourcesDto;

  @ApiPropertyOptional({ example: 1, description: 'Share of predictions logged for monitoring (default: the service setting, 1.0).' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  sampling_rate?: number;

  @ApiPropertyOptional({
    enum: SERVING_RUNTIMES,
    default: 'ray_serve',
    description:
      'ray_serve: replicas on Ray Serve (isolated, with replicas, autoscaling and resources). embedded: the model loaded inside the ML Service process, ' +
      'skipping the replica hop (about 3.5 ms of CPU per call on 2 cores); for small tabular models under a tight latency budget, one copy, no replicas or autoscaling.',
  })
  @IsOptional()
  @IsIn(SERVING_RUNTIMES)
  runtime?: ServingRuntime;
}

export class ReleaseVersionDto extends ModelVersionRefDto {}

export class VariantWeightDto {
  @ApiProperty({ example: 3 })
  @IsInt()
  @Min(1)
  version!: number;

  @ApiProperty({ example: 80, description: 'Percent of traffic; the weights add up to 100.' })
  @IsInt()
  @Min(0)
  @Max(100)
  weight!: number;
}

export class TrafficSplitDto {
  @ApiProperty({ type: [VariantWeightDto], example: [{ version: 3, weight: 80 }, { version: 4, weight: 20 }] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(4)
  @ValidateNested({ each: true })
  @Type(() => VariantWeightDto)
  variants!: VariantWeightDto[];
}

export class FeedbackEntryDto {
  @ApiProperty({ example: '9b2f0c1e4d6a4b8f9e0a1c2d3e4f5a6b', description: 'From a predict response.' })
  @IsString()
  @MaxLength(64)
  prediction_id!: string;

  @ApiProperty({ example: 1, description: 'The true class (its original value) or value.' })
  @IsDefined()
  actual!: unknown;
}

export class WindowQueryDto {
  @ApiPropertyOptional({ example: '1h', description: 'A number and s, m, h or d (default 1h).' })
  @IsOptional()
  @Matches(WINDOW_PATTERN, { message: 'window must be a number and s, m, h or d, e.g. 1h' })
  window?: string;
}

export class DriftQueryDto extends WindowQueryDto {
  @ApiPropertyOptional({ example: '3', description: 'Registry version (default: the one with the most traffic).' })
  @IsOptional()
  @Matches(/^[1-9][0-9]{0,9}$/, { message: 'version must be a positive integer' })
  version?: string;
}
