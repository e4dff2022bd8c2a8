import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ArtifactPath } from '@app/ml/tracking/dto/artifact-path.validator';
import { IsRunId } from '@app/ml/tracking/dto/tracking-ids';

export class CreateExperimentDto {
  /** Shown without the tenant prefix; the ML Service stores it as `<tenant>/<name>`. */
  @ApiProperty({ example: 'churn-experiments', description: 'Unique per tenant; letters, digits and _ . -, at most 128.' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, { message: 'name must be 1 to 128 letters, digits or _ . - starting with a letter or digit' })
  name!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { team: 'retention' } })
  @IsOptional()
  @IsObject()
  tags?: Record<string, string>;
}

export class SearchRunsDto {
  @ApiPropertyOptional({ type: [String], example: ['1'], description: "Default: all of the caller's experiments." })
  @IsOptional()
  @Matches(/^[0-9]{1,19}$/, { each: true, message: 'each value in experiment_ids must be digits' })
  @IsArray()
  experiment_ids?: string[];

  @ApiPropertyOptional({ example: 'metrics.auc_roc > 0.8', description: "MLflow's search grammar over metrics, params, tags and attributes." })
  @IsOptional()
  @MaxLength(4000)
  @IsString()
  filter?: string;

  @ApiPropertyOptional({ type: [String], example: ['metrics.auc_roc DESC'] })
  @IsOptional()
  @IsString({ each: true })
  @ArrayMaxSize(20)
  @IsArray()
  order_by?: string[];

  @ApiPropertyOptional({ example: 100, minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  max_results?: number;

  @ApiPropertyOptional({ description: 'The `next_page_token` of the previous page.' })
  @IsOptional()
  @MaxLength(4000)
  @IsString()
  page_token?: string;
}

export class CompareRunsDto {
  @ApiProperty({ type: [String], minItems: 2, maxItems: 10, example: ['0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d', '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d'] })
  @ArrayMinSize(2, { message: 'run_ids must name 2 to 10 runs' })
  @ArrayMaxSize(10, { message: 'run_ids must name 2 to 10 runs' })
  @IsRunId({ each: true })
  @IsArray()
  run_ids!: string[];
}

export class ListArtifactsQueryDto {
  @ArtifactPath({ required: false, example: 'model' })
  path?: string;
}

export class ArtifactContentQueryDto {
  @ArtifactPath({ required: true, example: 'classification_report.json' })
  path!: string;
}

