import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { FeatureImportance } from '@app/ml/client/ml-service.types';
import { FEATURE_SET_NAME, FEATURE_SET_NAME_MESSAGE } from '@app/ml/features/dto/feature-set-params.dto';
import { MODEL_NAME_PATTERN } from '@app/ml/registry/dto/registry-params.dto';
import { CHART_NAME_PATTERN, TrainingChartDto } from '@app/ml/training/dto/training-chart.dto';
import { FeatureSetRefDto } from '@app/ml/training/dto/training-job-response.dto';

/** Which model to explain (by the column it predicts, or by name) and, optionally, which feature set's association to add. */
export class FeatureImportanceQueryDto {
  @ApiPropertyOptional({ example: 'churned', description: 'The column to explain. Required unless `model_name` is given; with it, it must be what that model predicts.' })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  target?: string;

  @ApiPropertyOptional({ example: 'churn', description: "A registered model to explain instead of the target's Production / latest model." })
  @IsOptional()
  @Matches(MODEL_NAME_PATTERN, { message: 'model_name must be 1 to 128 letters, digits or _ . - starting with a letter or digit' })
  model_name?: string;

  @ApiPropertyOptional({ example: '2', description: "With `model_name`: its version (default: the one in Production, else the latest)." })
  @IsOptional()
  @Matches(/^[1-9][0-9]{0,8}$/, { message: 'model_version must be a version number (1, 2, ...)' })
  model_version?: string;

  @ApiPropertyOptional({ example: 'customer', description: "Also this feature set's features' association with the target." })
  @IsOptional()
  @Matches(FEATURE_SET_NAME, { message: `feature_set ${FEATURE_SET_NAME_MESSAGE}` })
  feature_set?: string;

  @ApiPropertyOptional({ example: 1, minimum: 1, description: 'With `feature_set`: its version (default: the latest).' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2 ** 31 - 1)
  feature_set_version?: number;
}

export class FeatureImportanceChartParamDto {
  @ApiProperty({ example: 'feature_importance', description: 'A name from `charts` of GET /api/v1/ml/features/importance: feature_importance or target_associations.' })
  @Matches(CHART_NAME_PATTERN, { message: 'name must be a chart name (lowercase letters, digits, underscore)' })
  name!: string;
}

export class FeatureScoreDto {
  @ApiProperty({ example: 'tenure' })
  feature!: string;

  @ApiProperty({ example: 0.41, description: "Its share of the model's total importance (0-1; the shares sum to 1; a negative permutation importance counts as 0)." })
  importance!: number;
}

export class ModelImportanceDto {
  @ApiProperty({
    enum: ['requested', 'production', 'latest_version', 'training_job'],
    description: "How the model was found: `requested` (model_name), `production` (the target's version in Production), `latest_version` (none in Production: the latest registered), `training_job` (nothing registered: the latest completed training job).",
  })
  chosen_by!: 'requested' | 'production' | 'latest_version' | 'training_job';

  @ApiProperty({ example: "model churn version 2 is in Production and predicts 'churned'", description: 'Why this model, in one sentence.' })
  reason!: string;

  @ApiProperty({ example: 'churn', nullable: true, type: String, description: "Null for a training job's model that was never registered." })
  model_name!: string | null;

  @ApiProperty({ example: '2', nullable: true, type: String })
  model_version!: string | null;

  @ApiProperty({ example: 'Production', nullable: true, type: String })
  stage!: string | null;

  @ApiProperty({ example: 'train-3f9a1c2b4d5e', nullable: true, type: String, description: 'The training job that made the model.' })
  job_id!: string | null;

  @ApiProperty({ example: 'xgboost' })
  algorithm!: string;

  @ApiProperty({ example: 'classification' })
  task_type!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { accuracy: 0.83, auc_roc: 0.9 }, description: "The job's metrics on its test split (seed 001's shape)." })
  test_metrics!: Record<string, unknown>;

  @ApiProperty({
    example: 'total gain (XGBoost `total_gain`): the loss reduction of every split on the feature',
    description: 'What the importance measures, by its standard name: XGBoost total gain, LightGBM gain, mean decrease in impurity (random forest), absolute standardised coefficients (linear), permutation importance (neural network).',
  })
  importance_kind!: string;

  @ApiProperty({ type: [FeatureScoreDto], description: 'Largest first.' })
  feature_importance!: FeatureScoreDto[];

  @ApiProperty({ type: FeatureSetRefDto, nullable: true, description: 'The feature set version the model trained on.' })
  feature_set!: FeatureSetRefDto | null;
}

export class FeatureAssociationDto {
  @ApiProperty({ example: 'contract_type_month-to-month' })
  feature!: string;

  @ApiProperty({ enum: ['pearson', 'cramers_v', 'correlation_ratio'], description: "|Pearson r| between numbers, Cramér's V between categories, the correlation ratio η across." })
  measure!: 'pearson' | 'cramers_v' | 'correlation_ratio';

  @ApiProperty({ example: 0.38, nullable: true, type: Number, description: '0 (none) to 1; null where undefined (a constant).' })
  value!: number | null;
}

/** A feature set version's features and their association with the target, from the data profiler. */
export class FeatureSetAssociationDto {
  @ApiProperty({ example: 'customer' })
  name!: string;

  @ApiProperty({ example: 1 })
  version!: number;

  @ApiProperty({
    enum: ['point_in_time'],
    description: "The rows profiled: the point-in-time training frame a training job built from this version (each feature as known at its entity row's time, the target from the entity rows), not the source as it is now.",
  })
  frame!: 'point_in_time';

  @ApiProperty({ example: 'training_sets.customer_v1_0a1b2c3d4e5f', description: "The frame's table in the caller's warehouse." })
  table!: string;

  @ApiProperty({ example: 'train-3f9a1c2b4d5e', description: 'The training job the frame was built for.' })
  job_id!: string;

  @ApiProperty({ example: 5000 })
  rows!: number;

  @ApiProperty({ type: [FeatureAssociationDto], description: 'Strongest first; a feature the profiler has no measure for (text, dates, identifiers) is left out.' })
  associations!: FeatureAssociationDto[];
}

/** "What matters for churn?": the importance the target's model found and, for a feature set, its features' association with the target. */
export class FeatureImportanceResponseDto {
  @ApiProperty({ example: 'churned', description: 'The column the model predicts.' })
  target!: string;

  @ApiProperty({ type: ModelImportanceDto })
  model!: ModelImportanceDto;

  @ApiProperty({ type: FeatureSetAssociationDto, nullable: true, description: 'Asked with `feature_set`.' })
  feature_set!: FeatureSetAssociationDto | null;

  @ApiProperty({ type: [TrainingChartDto], description: 'GET /api/v1/ml/features/importance/charts/{name} with the same query: feature_importance, and target_associations with `feature_set`.' })
  charts!: TrainingChartDto[];
}

export function toFeatureImportanceResponse(answer: FeatureImportance): FeatureImportanceResponseDto {
  const { model, feature_set: association } = answer;
  return {
    target: answer.target,
    model: {
      chosen_by: model.chosen_by,
      reason: model.reason,
      model_name: model.model_name ?? null,
      model_version: model.model_version ?? null,
      stage: model.stage ?? null,
      job_id: model.job_id ?? null,
      algorithm: model.algorithm,
      task_type: model.task_type,
      test_metrics: model.test_metrics,
      importance_kind: model.importance_kind,
      feature_importance: model.feature_importance.map(({ feature, importance }) => ({ feature, importance })),
      feature_set: model.feature_set ? { name: model.feature_set.name, version: model.feature_set.version } : null,
    },
    feature_set: association
      ? {
          name: association.name,
          version: association.version,
          frame: association.frame,
          table: association.table,
          job_id: association.job_id,
          rows: association.rows,
          associations: association.associations.map(({ feature, measure, value }) => ({ feature, measure, value: value ?? null })),
        }
      : null,
    charts: answer.charts.map(({ name, title, media_types }) => ({ name, title, media_types })),
  };
}
