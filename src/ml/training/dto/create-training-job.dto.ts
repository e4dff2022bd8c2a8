import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { applyDecorators } from '@nestjs/common';
import { FEATURE_SET_NAME, FEATURE_SET_NAME_MESSAGE } from '@app/ml/features/dto/feature-set-params.dto';
import { DATASET_SOURCES, SPLIT_STRATEGIES, TASK_TYPES, TRAINING_DATASET_SOURCES } from '@app/ml/training/dto/training-enums';
import { ExclusiveRange } from '@app/ml/training/dto/exclusive-range.validator';

/** A required string that is documented and validated in one place (STYLE 3). */
const RequiredText = (example: string, description: string, maxLength = 200): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ example, description, maxLength }),
    // class-validator runs these bottom-up and the pipe stops at the first failure per field.
    MaxLength(maxLength),
    IsNotEmpty(),
    IsString(),
  );

/**
 * Longest column name accepted. Any name a file can carry is a valid column (spaces, dots,
 * brackets, non-ASCII letters: DuckDB quotes them), so only the length is bounded; whether the
 * column exists is the ML Service's answer.
 */
export const MAX_COLUMN_NAME_LENGTH = 1024;

/** A column of the dataset, by its name exactly as the dataset spells it. */
const ColumnName = (each = false): PropertyDecorator =>
  // In this order a missing or non-string name says "must be a string" (the first failure is reported).
  applyDecorators(IsString({ each }), IsNotEmpty({ each }), MaxLength(MAX_COLUMN_NAME_LENGTH, { each }));

export class DatasetDto {
  @ApiProperty({ enum: DATASET_SOURCES, example: 'sql', description: '`sql` reads `query`; `table` reads `table`.' })
  @IsIn(DATASET_SOURCES)
  source!: (typeof DATASET_SOURCES)[number];

  /** One read-only SELECT over the tenant's own warehouse; required when source is `sql`. */
  @ApiPropertyOptional({ example: 'SELECT * FROM ml_features.customer_churn', maxLength: 20000 })
  @ValidateIf((dataset: DatasetDto) => dataset.source === 'sql' || dataset.query !== undefined)
  @MaxLength(20000)
  @IsNotEmpty()
  @IsString()
  @IsDefined({ message: 'query is required when source is sql' })
  query?: string;

  /** `schema.table` in the tenant's warehouse; required when source is `table`. */
  @ApiPropertyOptional({ example: 'ml_features.customer_churn', maxLength: 200 })
  @ValidateIf((dataset: DatasetDto) => dataset.source === 'table' || dataset.table !== undefined)
  @IsDefined({ message: 'table is required when source is table' })
  @Matches(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, { message: 'table must look like schema.table' })
  table?: string;

  /** Optional; when given it must be the caller's own tenant (403 otherwise). */
  @ApiPropertyOptional({ example: 'acme-corp' })
  @IsOptional()
  @IsString()
  tenant_id?: string;
}

/**
 * A table or read-only query of the caller's warehouse, with no `tenant_id`: the tenant is the caller's (feature set
 * sources and entity rows).
 */
export class WarehouseSourceDto extends OmitType(DatasetDto, ['tenant_id'] as const) {}

/** `feature_set` fields: validated when the source is `feature_set` or the field is given (the ML Service refuses it then). */
const ForFeatureSet = () => ValidateIf((dataset: TrainingDatasetDto, value: unknown) => dataset.source === 'feature_set' || value !== undefined);

/**
 * The dataset of a training job or sweep: a table or read-only query, or (`feature_set`) the point-in-time frame of a
 * feature set version for the given entity rows, built by the ML Service before it trains (the job names the
 * version it used in `feature_set`).
 */
export class TrainingDatasetDto extends OmitType(DatasetDto, ['source'] as const) {
  @ApiProperty({ enum: TRAINING_DATASET_SOURCES, example: 'sql', description: '`sql` reads `query`; `table` reads `table`; `feature_set` builds the frame of feature set `name` version `version` for `entities`.' })
  @IsIn(TRAINING_DATASET_SOURCES)
  source!: (typeof TRAINING_DATASET_SOURCES)[number];

  @ApiPropertyOptional({ example: 'customer', description: '`feature_set`: the feature set (POST /api/v1/ml/features/sets).' })
  @ForFeatureSet()
  @Matches(FEATURE_SET_NAME, { message: `dataset.name ${FEATURE_SET_NAME_MESSAGE}` })
  name?: string;

  @ApiPropertyOptional({ example: 1, minimum: 1, description: '`feature_set`: its version.' })
  @ForFeatureSet()
  @IsInt()
  @Min(1)
  @Max(2 ** 31 - 1)
  version?: number;

  @ApiPropertyOptional({ type: WarehouseSourceDto, description: '`feature_set`: the entity rows (join keys, event timestamp, target), a table or read-only query.' })
  @ForFeatureSet()
  @IsDefined()
  @ValidateNested()
  @Type(() => WarehouseSourceDto)
  entities?: WarehouseSourceDto;

  @ApiPropertyOptional({ example: 'as_of', description: "`feature_set`: the entity rows' column each feature is taken as of." })
  @ForFeatureSet()
  @MaxLength(200)
  @IsNotEmpty()
  @IsString()
  event_timestamp_column?: string;
}

export class SplitDto {
  @ApiPropertyOptional({
    enum: SPLIT_STRATEGIES,
    example: 'stratified',
    default: 'random',
    description: '`random` shuffles; `stratified` keeps class proportions (classification only); `time` trains on the earliest rows and tests on the latest, ordered by `time_column` (classification and regression).',
  })
  @IsOptional()
  @IsIn(SPLIT_STRATEGIES)
  strategy?: (typeof SPLIT_STRATEGIES)[number];

  @ApiPropertyOptional({ example: 0.2, default: 0.2, minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true, description: 'Share of rows held out for evaluation.' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @ExclusiveRange(0, 1)
  test_size?: number;

  /** Strategy `time` only (required there): the date, timestamp or numeric column that orders the rows. */
  @ApiPropertyOptional({ example: 'signup_date', maxLength: MAX_COLUMN_NAME_LENGTH, description: 'Strategy `time` only (required there): the date, timestamp or number column that orders the rows; ties keep the table order.' })
  @IsOptional()
  @ColumnName()
  time_column?: string;

  @ApiPropertyOptional({ example: 42, description: 'Same seed, same split and same model.' })
  @IsOptional()
  @IsInt()
  random_state?: number;
}

/**
 * What the job reserves on the Ray cluster (seed 001's "Resource Management"). Checked by the ML
 * Service against the tenant's per-job limits and the cluster's totals: a request over either is
 * a 422 naming the field, never a job left pending.
 */
export class TrainingResourcesDto {
  @ApiPropertyOptional({ example: 2, minimum: 1, default: 1, description: "CPU cores of the job's worker; thread counts follow. Limit: the ML Service's MLS_MAX_CPU_PER_JOB (4) or the tenant's MLS_TENANT_LIMITS entry." })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  cpus?: number;

  @ApiPropertyOptional({ example: 4, description: "Memory reserved for the worker, in GB; default: no reservation. Limit: the ML Service's MLS_MAX_MEMORY_PER_JOB_GB (16) or the tenant's entry." })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive()
  @Max(65536)
  memory_gb?: number;

  @ApiPropertyOptional({ example: 0, minimum: 0, default: 0, description: "GPUs of the worker. Limit: the ML Service's MLS_MAX_GPU_PER_JOB (0: CPU only) or the tenant's entry." })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(64)
  gpus?: number;
}

/**
 * How the job trains: by default one worker, in a warm, reused Ray worker (no per-job start-up);
 * `num_workers` > 1 trains data-parallel on Ray Train (XGBoost, LightGBM, neural network).
 */
export class TrainingScalingDto {
  @ApiPropertyOptional({ example: 1, minimum: 1, default: 1, description: 'Training workers, each with `resources`; more than one: data-parallel on Ray Train.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  num_workers?: number;

  @ApiPropertyOptional({ example: false, default: false, description: 'Train on Ray Train even with one worker (to compare the two paths).' })
  @IsOptional()
  @IsBoolean()
  ray_train?: boolean;
}

/** Seed 001's TrainingConfig, accepted verbatim. */
export class CreateTrainingJobDto {
  @RequiredText('churn-predictor-v2', 'A name for the job and the model it produces.')
  name!: string;

  @RequiredText('xgboost', 'A name or alias from the catalog (GET /api/v1/ml/train/algorithms), e.g. `logistic`; the ML Service decides.', 100)
  algorithm!: string;

  @ApiProperty({ enum: TASK_TYPES, example: 'classification' })
  @IsIn(TASK_TYPES)
  task_type!: (typeof TASK_TYPES)[number];

  @ApiProperty({ type: TrainingDatasetDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => TrainingDatasetDto)
  dataset!: TrainingDatasetDto;

  @ApiProperty({ example: 'churned', maxLength: MAX_COLUMN_NAME_LENGTH, description: 'Column to predict, spelled as in the dataset (any name: `weight (kg)`, `price[usd]`); must exist and fit the task type.' })
  @ColumnName()
  target_column!: string;

  @ApiPropertyOptional({ type: [String], example: ['tenure', 'monthly_charges', 'total_charges'], description: 'Defaults to every usable column except the target and identifier-like ones.' })
  @IsOptional()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ColumnName(true)
  feature_columns?: string[];

  @ApiPropertyOptional({ type: SplitDto, description: 'Default: random, test_size 0.2, random_state 42. Forecasting leaves it out (the last `horizon` periods are held out).' })
  @IsOptional()
  @ValidateNested()
  @Type(() => SplitDto)
  split?: SplitDto;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { n_estimators: 100, max_depth: 6, learning_rate: 0.1 },
    description: "Default: the catalog's defaults. Checked against the algorithm's hyperparameter spec in the ML Service catalog.",
  })
  @IsOptional()
  @IsObject()
  hyperparameters?: Record<string, unknown>;

  @ApiPropertyOptional({ type: TrainingResourcesDto, description: 'Default: 1 CPU, no memory reservation, no GPU.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => TrainingResourcesDto)
  resources?: TrainingResourcesDto;

  @ApiPropertyOptional({ type: TrainingScalingDto, description: 'Default: one worker, on a warm worker.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => TrainingScalingDto)
  scaling?: TrainingScalingDto;

  /** Forecasting only (required there, refused for other task types): the date or timestamp column. */
  @ApiPropertyOptional({ example: 'date', maxLength: MAX_COLUMN_NAME_LENGTH, description: 'Forecasting only (required there): the date or timestamp column the series runs along.' })
  @IsOptional()
  @ColumnName()
  time_column?: string;

  /** Forecasting only: periods held out for evaluation, and forecast past the end of the data. */
  @ApiPropertyOptional({ example: 14, minimum: 1, maximum: 10000, description: 'Forecasting only (required there): the last `horizon` periods are held out and scored, and `horizon` periods past the data are forecast.' })
  @IsOptional()
  @Max(10000)
  @Min(1)
  @IsInt()
  horizon?: number;

  /** Forecasting only: a pandas offset alias; the ML Service checks it is a real one. */
  @ApiPropertyOptional({ example: 'D', maxLength: 20, description: 'Forecasting only (required there): one period as a pandas offset alias (D, W, h, MS, QS, ...); rows in the same period are summed.' })
  @IsOptional()
  @Matches(/^[0-9]*[A-Za-z][A-Za-z-]*$/, { message: 'frequency must be a pandas offset alias such as D, W, h or MS' })
  @MaxLength(20)
  frequency?: string;
}
