import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { EdaProfile, EdaProfileList } from '@app/ml/client/ml-service.types';
import { DatasetDto } from '@app/ml/training/dto/create-training-job.dto';

type Summary = EdaProfileList['profiles'][number];

const ALERT_TYPES = [
  'CONSTANT', 'ZEROS', 'HIGH_CORRELATION', 'HIGH_CARDINALITY', 'UNSUPPORTED', 'DUPLICATES', 'SKEWED', 'IMBALANCE', 'MISSING',
  'INFINITE', 'TYPE_DATE', 'UNIQUE', 'CONSTANT_LENGTH', 'UNIFORM', 'NON_STATIONARY', 'SEASONAL', 'EMPTY', 'TARGET_LEAKAGE', 'IDENTIFIER',
] as const satisfies readonly EdaProfile['alerts'][number]['type'][];

export class ProfileAlertDto implements Required<EdaProfile['alerts'][number]> {
  @ApiProperty({ enum: ALERT_TYPES, example: 'HIGH_CORRELATION', description: "ydata-profiling's alert names, plus TARGET_LEAKAGE and IDENTIFIER." })
  type!: (typeof ALERT_TYPES)[number];

  @ApiProperty({ type: [String], example: ['total_charges', 'tenure', 'monthly_charges'], description: 'The column(s) it is about; empty for the whole dataset.' })
  columns!: string[];

  @ApiProperty({ type: Number, nullable: true, example: 0.948, description: "What fired it, in the threshold's unit." })
  value!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 0.9 })
  threshold!: number | null;

  @ApiProperty({ example: 'total_charges is nearly a linear combination of tenure, monthly_charges (multiple correlation R 0.95)' })
  message!: string;
}

export class ProfileDatasetStatsDto implements Required<EdaProfile['table']> {
  @ApiProperty({ example: 5000 }) rows!: number;
  @ApiProperty({ example: 10 }) columns!: number;
  @ApiProperty({ description: 'Rows equal to an earlier row.' }) duplicate_rows!: number;
  @ApiProperty() duplicate_rows_percent!: number;
  @ApiProperty() missing_cells!: number;
  @ApiProperty() missing_cells_percent!: number;
  @ApiProperty({ description: 'In-memory size: rows x fixed widths + the bytes of variable-width values.' }) size_bytes!: number;
}

export class ProfileSummaryDto implements Required<Summary> {
  @ApiProperty({ example: 'prof-3f9a1c2b4d5e' }) profile_id!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: DatasetDto }) dataset!: Summary['dataset'];
  @ApiProperty({ type: String, nullable: true, example: 'churned' }) target_column!: string | null;
  @ApiProperty({ description: 'True when a sample was profiled rather than every row.' }) sampled!: boolean;
  @ApiProperty({ example: 5000 }) rows!: number;
  @ApiProperty({ example: 10 }) columns!: number;
  @ApiProperty({ example: 4, description: 'Number of alerts.' }) alerts!: number;
}

export class ProfileListResponseDto {
  @ApiProperty({ type: [ProfileSummaryDto], description: "The caller's profiles, newest first." })
  profiles!: ProfileSummaryDto[];
}

/**
 * A profile as the ML Service computed and stored it. Percentages are 0-100, correlations and scores 0-1; a
 * statistic a column cannot have is null. The nested shapes are those of the ML Service's `Profile` schema.
 */
export class ProfileResponseDto implements Required<EdaProfile> {
  @ApiProperty({ example: 'prof-3f9a1c2b4d5e' }) profile_id!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: DatasetDto }) dataset!: EdaProfile['dataset'];
  @ApiProperty({ type: String, nullable: true, example: 'churned' }) target_column!: string | null;
  @ApiProperty({ type: String, nullable: true, example: null }) time_column!: string | null;
  @ApiProperty({ description: 'True when a sample was profiled rather than every row.' }) sampled!: boolean;
  @ApiProperty({ type: 'object', nullable: true, description: 'The sample asked for, if any.', additionalProperties: true }) sample!: EdaProfile['sample'];
  @ApiProperty({ example: 0.41 }) duration_seconds!: number;
  @ApiProperty({ type: ProfileDatasetStatsDto }) table!: ProfileDatasetStatsDto;

  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description:
      'Per column: name, DuckDB type, kind (numeric, categorical, boolean, datetime, text, identifier, unsupported), count, missing(_percent), distinct(_percent); `numeric` (min, max, mean, std, variance, p5..p95, iqr, skewness, kurtosis, zeros, negatives, infinite, histogram), `categories` (top values, other_count, imbalance), `text` (lengths, parses_as_date), `datetime` (range, histogram).',
  })
  columns!: EdaProfile['columns'];

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Matrices {rows, columns, values}: pearson, spearman, cramers_v (bias-corrected), correlation_ratio (categorical rows x numeric columns).' })
  correlations!: EdaProfile['correlations'];

  @ApiPropertyOptional({ type: 'object', nullable: true, additionalProperties: true, description: "With target_column: class_balance, imbalance, and each feature's association with the target, strongest first." })
  target!: EdaProfile['target'];

  @ApiProperty({ type: [ProfileAlertDto] }) alerts!: ProfileAlertDto[];
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The thresholds the alerts were judged by.' }) thresholds!: EdaProfile['thresholds'];
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, description: 'Missing values per column in consecutive row blocks.' })
  missing_blocks!: EdaProfile['missing_blocks'];
}

export class ProfileChartDto {
  @ApiProperty({ example: 'histogram_tenure', description: 'The name to fetch it by.' })
  name!: string;

  @ApiProperty({ example: 'Distribution of tenure' })
  title!: string;

  @ApiProperty({ type: [String], example: ['image/png', 'application/vnd.vegalite.v5+json'], description: 'What Accept may ask for.' })
  media_types!: string[];
}

export class ProfileChartListResponseDto {
  @ApiProperty({ example: 'prof-3f9a1c2b4d5e' })
  profile_id!: string;

  @ApiProperty({
    type: [ProfileChartDto],
    description:
      'In display order: histogram_<column>, dates_<column>, top_values_<column>, correlation_<pearson|spearman|cramers_v|correlation_ratio>, missing_values, and with a target target_associations, class_balance, target_by_<column>.',
  })
  charts!: ProfileChartDto[];
}
