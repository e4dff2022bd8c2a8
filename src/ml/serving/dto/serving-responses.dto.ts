import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AutoscalingDto, ResourcesDto, SERVING_RUNTIMES, type ServingRuntime, VariantWeightDto } from '@app/ml/serving/dto/serving-requests.dto';

export const DEPLOYMENT_STATUSES = ['deploying', 'healthy', 'unhealthy'] as const;
export type DeploymentStatusName = (typeof DEPLOYMENT_STATUSES)[number];

export class SignatureFieldDto {
  @ApiProperty({ example: 'tenure' })
  name!: string;

  @ApiProperty({ example: 'long', description: 'MLflow type: double, long, integer, string, boolean.' })
  type!: string;
}

export class PinnedFeatureSetDto {
  @ApiProperty({ example: 'customer' })
  name!: string;

  @ApiProperty({ example: 1 })
  version!: number;
}

export class VariantDto {
  @ApiProperty({ example: '3' })
  version!: string;

  @ApiProperty({ example: 100 })
  weight!: number;

  @ApiProperty({ enum: DEPLOYMENT_STATUSES, example: 'healthy' })
  status!: DeploymentStatusName;

  @ApiPropertyOptional({ type: String, nullable: true })
  reason?: string | null;

  @ApiPropertyOptional({
    type: PinnedFeatureSetDto,
    nullable: true,
    description: 'The feature set version this model version was trained on; `{"entities": …}` predictions look features up in it (pinned: later versions change nothing).',
  })
  feature_set?: PinnedFeatureSetDto | null;
}

export class DeploymentResponseDto {
  @ApiProperty({ example: 'churn' })
  model_id!: string;

  @ApiProperty({ example: 'churn-predictor-v2' })
  model_name!: string;

  @ApiProperty({ enum: DEPLOYMENT_STATUSES, example: 'healthy' })
  status!: DeploymentStatusName;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Why the deployment is unhealthy (or still deploying).' })
  reason?: string | null;

  @ApiProperty({ example: 'classification' })
  task_type!: string;

  @ApiProperty({ type: [VariantDto] })
  variants!: VariantDto[];

  @ApiPropertyOptional({ type: [VariantWeightDto], nullable: true, description: 'The split `rollback` returns to.' })
  previous_variants?: VariantWeightDto[] | null;

  @ApiProperty({ example: 1 })
  replicas!: number;

  @ApiPropertyOptional({ type: AutoscalingDto, nullable: true })
  autoscaling?: AutoscalingDto | null;

  @ApiProperty({ type: ResourcesDto })
  resources!: ResourcesDto;

  @ApiProperty({ example: 1 })
  sampling_rate!: number;

  @ApiProperty({ enum: SERVING_RUNTIMES, example: 'ray_serve', description: 'Where the versions run: Ray Serve replicas, or embedded in the ML Service.' })
  runtime!: ServingRuntime;

  @ApiProperty({ type: [SignatureFieldDto], description: "The serving version's input signature." })
  inputs!: SignatureFieldDto[];

  @ApiProperty({ example: '2026-11-23T21:00:00.000+00:00' })
  created_at!: string;

  @ApiProperty({ example: '2026-11-23T21:00:05.000+00:00' })
  updated_at!: string;
}

export class DeploymentListResponseDto {
  @ApiProperty({ type: [DeploymentResponseDto] })
  deployments!: DeploymentResponseDto[];
}

export class PredictionDto {
  @ApiProperty({ example: '9b2f0c1e4d6a4b8f9e0a1c2d3e4f5a6b', description: 'Send it back with feedback.' })
  prediction_id!: string;

  @ApiPropertyOptional({ example: 1, description: 'Classification: the predicted class, in its original value.' })
  class?: unknown;

  @ApiPropertyOptional({ example: 0.87, description: 'Classification: probability of the predicted class.' })
  score?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'number' }, example: { '0': 0.13, '1': 0.87 } })
  probabilities?: Record<string, number>;

  @ApiPropertyOptional({ example: 1234.5, description: 'Regression: the predicted value. Forecast: the value of the period.' })
  value?: number;

  @ApiPropertyOptional({ example: '2024-03-01T00:00:00', description: 'Forecast (body `{"periods": n}`): the period, ISO 8601.' })
  timestamp?: string;

  @ApiPropertyOptional({ example: 1180.2, description: 'Forecast: lower end of the interval (the trained interval_width).' })
  lower?: number;

  @ApiPropertyOptional({ example: 1290.8, description: 'Forecast: upper end of the interval.' })
  upper?: number;
}

export class PredictResponseDto {
  @ApiProperty({ example: 'churn' })
  model_id!: string;

  @ApiProperty({ example: '3', description: 'The variant (registry version) that answered.' })
  version!: string;

  @ApiProperty({ type: [PredictionDto] })
  predictions!: PredictionDto[];
}

export class FeedbackResultDto {
  @ApiProperty({ example: 20 })
  recorded!: number;

  @ApiProperty({ type: [String], description: 'Ids that match no logged prediction of this deployment.' })
  unknown_prediction_ids!: string[];
}

export class LatencyPercentilesDto {
  @ApiProperty({ type: Number, nullable: true, example: 2.1 })
  p50!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 3.4 })
  p95!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 5.9 })
  p99!: number | null;
}

export class VariantMetricsDto {
  @ApiProperty({ example: '3' })
  version!: string;

  @ApiProperty({ example: 1200 })
  requests!: number;

  @ApiProperty({ example: 0 })
  errors!: number;

  @ApiProperty({ example: 0 })
  error_rate!: number;

  @ApiProperty({ example: 0.33 })
  throughput_per_second!: number;

  @ApiProperty({ type: LatencyPercentilesDto, description: 'Time in the replica call, milliseconds.' })
  latency_ms!: LatencyPercentilesDto;

  @ApiProperty({ example: 150 })
  feedback_count!: number;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 0.81, description: 'Classification, over feedback.' })
  accuracy?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Regression, over feedback.' })
  rmse?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Regression, over feedback.' })
  mae?: number | null;
}

export class ServingMetricsResponseDto {
  @ApiProperty({ example: 'churn' })
  model_id!: string;

  @ApiProperty({ example: '1h' })
  window!: string;

  @ApiProperty({ example: 'classification' })
  task_type!: string;

  @ApiProperty({ type: [VariantMetricsDto] })
  variants!: VariantMetricsDto[];
}

export class FeatureDriftDto {
  @ApiProperty({ example: 'tenure' })
  feature!: string;

  @ApiProperty({ enum: ['numeric', 'categorical'] })
  kind!: 'numeric' | 'categorical';

  @ApiProperty({ example: 400 })
  count!: number;

  @ApiProperty({ example: 0.03, description: 'Population stability index against the training split.' })
  psi!: number;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 0.04 })
  ks_statistic?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 0.6 })
  ks_p_value?: number | null;

  @ApiProperty({ example: false })
  drifted!: boolean;
}

export class DriftReportResponseDto {
  @ApiProperty({ example: 'churn' })
  model_id!: string;

  @ApiProperty({ example: '3' })
  version!: string;

  @ApiProperty({ example: '1h' })
  window!: string;

  @ApiProperty({ example: 400, description: 'Logged inputs compared.' })
  rows!: number;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { psi: 0.2, ks_p_value: 0.01, ks_statistic: 0.1, min_rows: 30 } })
  thresholds!: Record<string, number>;

  @ApiProperty({ type: [FeatureDriftDto] })
  features!: FeatureDriftDto[];

  @ApiProperty({ type: [String], example: ['tenure: PSI 0.912, KS 0.640 (p=1e-90)'] })
  alerts!: string[];
}
