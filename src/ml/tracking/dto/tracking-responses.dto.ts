import { ApiProperty } from '@nestjs/swagger';

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

export class ExperimentResponseDto {
  @ApiProperty({ example: '1' })
  experiment_id!: string;

  @ApiProperty({ example: 'training', description: 'Without the tenant prefix.' })
  name!: string;

  @ApiProperty({ ...STRING_MAP, example: { team: 'retention' } })
  tags!: Record<string, string>;

  @ApiProperty({ example: 'active' })
  lifecycle_stage!: string;

  @ApiProperty({ type: String, nullable: true, example: '2026-09-01T12:00:00Z' })
  created_at!: string | null;

  @ApiProperty({ type: String, nullable: true, example: '2026-09-01T12:00:00Z' })
  last_updated_at!: string | null;
}

export class ExperimentListResponseDto {
  @ApiProperty({ type: [ExperimentResponseDto] })
  experiments!: ExperimentResponseDto[];
}

export class RunDatasetDto {
  @ApiProperty({ type: String, nullable: true })
  query!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'ml_features.customer_churn' })
  table!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Content hash of the rows the run read.' })
  content_hash!: string | null;

  @ApiProperty({ type: Number, nullable: true, example: 5000 })
  rows!: number | null;
}

export class RunResponseDto {
  @ApiProperty({ example: '0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d' })
  run_id!: string;

  @ApiProperty({ example: '1' })
  experiment_id!: string;

  @ApiProperty({ type: String, nullable: true, example: 'churn-predictor-v2' })
  name!: string | null;

  @ApiProperty({ example: 'FINISHED' })
  status!: string;

  @ApiProperty({ type: String, nullable: true })
  start_time!: string | null;

  @ApiProperty({ type: String, nullable: true })
  end_time!: string | null;

  @ApiProperty({ ...STRING_MAP, example: { max_depth: '6' } })
  params!: Record<string, string>;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'number', nullable: true }, example: { auc_roc: 0.96 }, description: 'Latest value of each metric (null for NaN or infinity).' })
  metrics!: Record<string, number | null>;

  @ApiProperty(STRING_MAP)
  tags!: Record<string, string>;

  @ApiProperty({ type: String, nullable: true, example: 'train-3f9a1c2b4d5e' })
  job_id!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'm-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d' })
  model_artifact_id!: string | null;

  @ApiProperty({ type: RunDatasetDto, description: 'What the run read: the query or table, a content hash, the row count.' })
  dataset!: RunDatasetDto;

  @ApiProperty({ type: String, nullable: true, description: 'The code version that trained it.' })
  code_version!: string | null;
}

export class RunPageResponseDto {
  @ApiProperty({ type: [RunResponseDto] })
  runs!: RunResponseDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `page_token` for the next page; null on the last.' })
  next_page_token!: string | null;
}

export class MetricPointDto {
  @ApiProperty({ example: 10 })
  step!: number;

  @ApiProperty({ example: 0.31 })
  value!: number;

  @ApiProperty({ example: '2026-09-01T12:00:03Z' })
  timestamp!: string;
}

export class MetricHistoryResponseDto {
  @ApiProperty({ example: 'validation_logloss' })
  key!: string;

  @ApiProperty({ type: [MetricPointDto] })
  history!: MetricPointDto[];
}

export class ArtifactFileDto {
  @ApiProperty({ example: 'model/MLmodel' })
  path!: string;

  @ApiProperty()
  is_dir!: boolean;

  @ApiProperty({ type: Number, nullable: true })
  file_size!: number | null;
}

export class ArtifactListResponseDto {
  @ApiProperty()
  root_uri!: string;

  @ApiProperty({ type: [ArtifactFileDto] })
  files!: ArtifactFileDto[];
}

export class ComparedRunDto {
  @ApiProperty()
  run_id!: string;

  @ApiProperty({ type: String, nullable: true })
  name!: string | null;
}

export class ComparedParamDto {
  @ApiProperty({ example: 'max_depth' })
  key!: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string', nullable: true }, description: 'By run id.' })
  values!: Record<string, string | null>;
}

export class ComparedMetricDto {
  @ApiProperty({ example: 'auc_roc' })
  key!: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'number', nullable: true }, description: 'By run id.' })
  values!: Record<string, number | null>;

  @ApiProperty({ type: String, nullable: true, description: 'The run with the best value (higher or lower is better depending on the metric).' })
  best_run_id!: string | null;
}

export class ChartPointDto {
  @ApiProperty({ example: 10 })
  step!: number;

  @ApiProperty({ example: 0.31 })
  value!: number;
}

export class ChartSeriesDto {
  @ApiProperty()
  run_id!: string;

  @ApiProperty({ type: [ChartPointDto] })
  points!: ChartPointDto[];
}

export class ChartMetricDto {
  @ApiProperty({ example: 'validation_logloss' })
  key!: string;

  @ApiProperty({ type: [ChartSeriesDto], description: 'One line per run.' })
  series!: ChartSeriesDto[];
}

export class CompareChartDto {
  @ApiProperty({ type: [ChartMetricDto], description: 'Per-iteration metrics, ready for a line chart.' })
  metrics!: ChartMetricDto[];
}

export class RunComparisonResponseDto {
  @ApiProperty({ type: [ComparedRunDto] })
  runs!: ComparedRunDto[];

  @ApiProperty({ type: [ComparedParamDto] })
  params!: ComparedParamDto[];

  @ApiProperty({ type: [ComparedMetricDto] })
  metrics!: ComparedMetricDto[];

  @ApiProperty({ type: CompareChartDto })
  chart!: CompareChartDto;
}

export class RegisteredVersionRefDto {
  @ApiProperty({ example: 'churn-predictor' })
  name!: string;

  @ApiProperty({ example: '1' })
  version!: string;
}

export class LoggedModelResponseDto {
  @ApiProperty({ example: 'm-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d' })
  model_artifact_id!: string;

  @ApiProperty({ type: String, nullable: true })
  run_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  job_id!: string | null;

  @ApiProperty({ example: 'model' })
  name!: string;

  @ApiProperty()
  artifact_uri!: string;

  @ApiProperty({ type: [RegisteredVersionRefDto] })
  registered_versions!: RegisteredVersionRefDto[];
}
