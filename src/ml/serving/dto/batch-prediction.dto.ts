import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsOptional, Matches, Max, Min, ValidateIf, ValidateNested } from 'class-validator';
import { MODEL_NAME_PATTERN } from '@app/ml/registry/dto/registry-params.dto';
import { MODEL_ID_PATTERN } from '@app/ml/serving/dto/serving-requests.dto';
import { DatasetDto } from '@app/ml/training/dto/create-training-job.dto';

/** The ML Service's pattern for the output table (written as `predictions.<output_table>`). */
export const OUTPUT_TABLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
export const BATCH_ID_PATTERN = /^batch-[0-9a-f]{12}$/;

/**
 * A batch prediction: every row of a SQL source or table scored by a deployment (`model_id`) or by
 * a registered version (`model_name` and `version`): exactly one of the two.
 */
export class CreateBatchPredictionDto {
  @ApiPropertyOptional({ example: 'churn', description: 'A deployment of the caller; or give `model_name` and `version`.' })
  @ValidateIf((body: CreateBatchPredictionDto) => body.model_id !== undefined || body.model_name === undefined)
  @IsDefined({ message: 'model_id is required unless model_name and version are given' })
  @Matches(MODEL_ID_PATTERN, { message: 'model_id must be 1 to 63 lower-case letters, digits, _ or - starting with a letter or digit' })
  model_id?: string;

  @ApiPropertyOptional({ example: 'churn-predictor-v2', description: 'A registered model (with `version`), instead of `model_id`.' })
  @IsOptional()
  @Matches(MODEL_NAME_PATTERN, { message: 'model_name must be 1 to 128 letters, digits or _ . - starting with a letter or digit' })
  model_name?: string;

  @ApiPropertyOptional({ example: 1, minimum: 1, description: 'The registry version of `model_name`.' })
  @ValidateIf((body: CreateBatchPredictionDto) => body.model_name !== undefined || body.version !== undefined)
  @IsDefined({ message: 'version is required with model_name' })
  @IsInt()
  @Min(1)
  version?: number;

  @ApiProperty({ type: DatasetDto, description: 'The rows to score: their columns must include the model’s features.' })
  @IsDefined()
  @ValidateNested()
  @Type(() => DatasetDto)
  dataset!: DatasetDto;

  @ApiProperty({ example: 'churn_scores', description: 'Written as `predictions.<output_table>`: the source’s columns unchanged plus the prediction columns.' })
  @Matches(OUTPUT_TABLE_PATTERN, { message: 'output_table must be 1 to 63 letters, digits or _ starting with a letter or _' })
  output_table!: string;

  @ApiPropertyOptional({ example: 50000, default: 50000, minimum: 1000, maximum: 1000000, description: 'Rows read, scored and written per step.' })
  @IsOptional()
  @IsInt()
  @Min(1000)
  @Max(1_000_000)
  chunk_rows?: number;
}

export class BatchIdParamDto {
  @ApiProperty({ example: 'batch-0123456789ab' })
  @Matches(BATCH_ID_PATTERN, { message: 'batch_id must look like batch-<12 hex digits>' })
  batch_id!: string;
}

export class BatchPredictionResponseDto {
  @ApiProperty({ example: 'batch-0123456789ab' })
  batch_id!: string;

  @ApiProperty({ enum: ['queued', 'running', 'completed', 'failed', 'cancelled'], example: 'running' })
  status!: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

  @ApiProperty({ type: Number, nullable: true, example: 100000, description: 'Rows of the source, once counted.' })
  rows_total!: number | null;

  @ApiProperty({ example: 50000 })
  rows_done!: number;

  @ApiProperty({ example: 'predictions.churn_scores' })
  output_table!: string;

  @ApiProperty({ type: Number, nullable: true, description: 'Whole job: read, predict and write (rows/s).' })
  rows_per_second!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: "The model's predict alone (rows/s)." })
  predict_rows_per_second!: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why the batch failed (one sentence).' })
  error!: string | null;

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    example: ['predicted_class', 'score'],
    description: 'The prediction columns of the output table; suffixed _1, _2… where the source has a column of that name.',
  })
  prediction_columns?: string[] | null;
}
