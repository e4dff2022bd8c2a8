import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayUnique, IsArray, IsDefined, IsIn, IsInt, IsNumber, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { DatasetDto } from '@app/ml/training/dto/create-training-job.dto';

/** The correlation families a profile can compute (ydata-profiling's `correlations.<name>`). */
export const CORRELATION_METHODS = ['pearson', 'spearman', 'cramers_v', 'correlation_ratio'] as const;

/** A uniform random sample (reservoir sampling in DuckDB) instead of every row. */
export class ProfileSampleDto {
  @ApiProperty({ example: 100000, minimum: 1, maximum: 100000000, description: 'Rows in the sample.' })
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  rows!: number;

  @ApiPropertyOptional({ example: 42, minimum: 0, description: 'Seed; the same seed draws the same sample.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2 ** 31 - 1)
  random_state?: number;
}

/** An optional number in [0, max], documented and validated in one place (STYLE 3). */
const OptionalShare = (max: number, description: string): PropertyDecorator =>
  applyDecorators(ApiPropertyOptional({ minimum: 0, maximum: max, description }), IsOptional(), IsNumber({ allowNaN: false, allowInfinity: false }), Min(0), Max(max));
const percent = (description: string): PropertyDecorator => OptionalShare(100, description);
const fraction = (description: string): PropertyDecorator => OptionalShare(1, description);

/**
 * When each alert fires. Unset fields keep ydata-profiling's defaults (config_default.yaml): 1 % for
 * MISSING/ZEROS/INFINITE, |skewness| 20, 50 categories, imbalance 0.5, uniform p-value 0.999, correlation 0.9.
 */
export class AlertThresholdsDto {
  @percent('MISSING above this % of missing values (default 1).')
  missing_percent?: number;

  @percent('ZEROS above this % of zeros (default 1).')
  zeros_percent?: number;

  @percent('INFINITE above this % of infinite values (default 1).')
  infinite_percent?: number;

  @percent('DUPLICATES above this % of duplicate rows (default 0: any).')
  duplicates_percent?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'SKEWED when |skewness| is above this (default 20).' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  skewness?: number;

  @ApiPropertyOptional({ minimum: 1, description: 'HIGH_CARDINALITY above this many distinct values (default 50).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  cardinality?: number;

  @fraction('IMBALANCE above this score (default 0.5).')
  imbalance?: number;

  @fraction('UNIFORM when the chi-square p-value is above this (default 0.999).')
  uniform_p_value?: number;

  @fraction('HIGH_CORRELATION at or above this |association| (default 0.9).')
  correlation?: number;

  @fraction('TARGET_LEAKAGE at or above this association with the target (default 0.95).')
  target_leakage?: number;

  @fraction('NON_STATIONARY when the ADF p-value is at or above this (default 0.05).')
  stationarity_significance?: number;

  @fraction("SEASONAL when the differenced series' autocorrelation peaks at or above this (default 0.5).")
  seasonality_autocorrelation?: number;
}

export class CreateProfileDto {
  @ApiProperty({ type: DatasetDto, description: "A table or one read-only SELECT of the caller's warehouse." })
  @IsDefined()
  @ValidateNested()
  @Type(() => DatasetDto)
  dataset!: DatasetDto;

  @ApiPropertyOptional({ example: 'churned', description: "The column a model would predict: each feature's association with it, and its class balance." })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  target_column?: string;

  @ApiPropertyOptional({ example: 'date', description: 'Orders the rows in time: numeric columns get the NON_STATIONARY and SEASONAL checks.' })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  time_column?: string;

  @ApiPropertyOptional({ type: ProfileSampleDto, description: 'Profile a random sample; every row when unset.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ProfileSampleDto)
  sample?: ProfileSampleDto;

  @ApiPropertyOptional({ example: 50, minimum: 2, maximum: 500, default: 50, description: 'Histogram bins.' })
  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(500)
  bins?: number;

  @ApiPropertyOptional({ example: 10, minimum: 1, maximum: 100, default: 10, description: 'Most frequent values listed per column.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  top_values?: number;

  @ApiPropertyOptional({
    type: [String],
    enum: CORRELATION_METHODS,
    example: ['pearson', 'spearman', 'cramers_v', 'correlation_ratio'],
    default: CORRELATION_METHODS,
    description:
      "Correlation matrices to compute (ydata-profiling's correlations.<name>.calculate). [] computes none, as ydata's minimal mode; " +
      'HIGH_CORRELATION, leakage alerts and target associations need them.',
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(CORRELATION_METHODS, { each: true })
  correlations?: (typeof CORRELATION_METHODS)[number][];

  @ApiPropertyOptional({ type: AlertThresholdsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AlertThresholdsDto)
  thresholds?: AlertThresholdsDto;
}
