import { ApiProperty } from '@nestjs/swagger';
import { TASK_TYPES, TRAINING_JOB_STATUSES } from '@app/ml/training/dto/training-enums';

export class DataSummaryDto {
  @ApiProperty({ example: 5000 })
  total_samples!: number;

  @ApiProperty({ example: 4000 })
  train_samples!: number;

  @ApiProperty({ example: 1000 })
  test_samples!: number;
}

export class TrainingProgressDto {
  @ApiProperty({ example: 40, description: 'Boosting rounds (or epochs) done.' })
  iteration!: number;

  @ApiProperty({ example: 100 })
  total_iterations!: number;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { logloss: 0.31 }, description: 'Latest evaluation metrics on the test split.' })
  metrics!: Record<string, number>;

  @ApiProperty({ example: 3.2, description: 'Since the job started running.' })
  elapsed_seconds!: number;

  @ApiProperty({ example: 4.8, nullable: true, type: Number, description: 'From the pace of the iterations so far; null before the first one reports.' })
  estimated_remaining_seconds!: number | null;

  @ApiProperty({ required: false, nullable: true, type: String, example: 'refitting on all 731 periods', description: 'What the job is doing now, for algorithms that fit in one step (forecasting).' })
  stage?: string | null;
}

export class ForecastPointDto {
  @ApiProperty({ example: '2025-01-01T00:00:00', description: 'Start of the period.' })
  timestamp!: string;

  @ApiProperty({ example: 12840.5, description: 'Point forecast.' })
  value!: number;

  @ApiProperty({ example: 11920.1, description: 'Lower bound of the prediction interval.' })
  lower!: number;

  @ApiProperty({ example: 13770.9, description: 'Upper bound of the prediction interval.' })
  upper!: number;

  @ApiProperty({ example: 12571.3, nullable: true, type: Number, description: 'The observed value (held-out tail); null for future periods or a period without data.' })
  actual!: number | null;
}

/** A forecasting job's forecast: the held-out tail (with actuals) and the periods after the data. */
export class ForecastDto {
  @ApiProperty({ example: 'D', description: 'One period, as a pandas offset alias.' })
  frequency!: string;

  @ApiProperty({ example: 0.8, description: 'Coverage of lower..upper.' })
  interval_width!: number;

  @ApiProperty({ type: [ForecastPointDto], description: 'The last `horizon` periods, forecast by a model fitted without them, with the actual values.' })
  holdout!: ForecastPointDto[];

  @ApiProperty({ type: [ForecastPointDto], description: '`horizon` periods after the data, forecast by the model refitted on all of it.' })
  future!: ForecastPointDto[];
}

export class TunedByDto {
  @ApiProperty({ example: 'sweep-3f9a1c2b4d5e' })
  sweep_id!: string;

  @ApiProperty({ example: 'a1b2c3d4_00003' })
  trial_id!: string;
}

export class FeatureSetRefDto {
  @ApiProperty({ example: 'customer' })
  name!: string;

  @ApiProperty({ example: 1 })
  version!: number;
}

export class RegisteredVersionRefDto {
  @ApiProperty({ example: 'churn' })
  model_name!: string;

  @ApiProperty({ example: '3' })
  version!: string;
}

/** A training job in seed 001's shape: the result fields are filled once the job is completed. */
export class TrainingJobResponseDto {
  @ApiProperty({ example: 'train-3f9a1c2b4d5e' })
  job_id!: string;

  @ApiProperty({ example: 'acme-corp' })
  tenant_id!: string;

  @ApiProperty({ example: 'churn-predictor-v2' })
  name!: string;

  @ApiProperty({ example: 'xgboost', description: 'The catalog name (GET /api/v1/ml/train/algorithms); an alias such as logistic is resolved.' })
  algorithm!: string;

  @ApiProperty({ enum: TASK_TYPES, example: 'classification' })
  task_type!: string;

  @ApiProperty({ enum: TRAINING_JOB_STATUSES, example: 'running' })
  status!: (typeof TRAINING_JOB_STATUSES)[number];

  @ApiProperty({ type: TrainingProgressDto, nullable: true, description: 'Null until the first iteration reports.' })
  progress!: TrainingProgressDto | null;

  @ApiProperty({ example: '2026-09-01T12:00:00Z' })
  created_at!: string;

  @ApiProperty({ example: '2026-09-01T12:00:01Z', nullable: true, type: String })
  started_at!: string | null;

  @ApiProperty({ example: '2026-09-01T12:00:15Z', nullable: true, type: String })
  finished_at!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'Why the job failed; only when status is failed.' })
  error!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      'Classification: accuracy, precision, recall, f1_score (binary: of the positive class; multi-class: macro averages), auc_roc (multi-class: one-vs-rest), confusion_matrix (rows: true class), log_loss, per_class ({label: {precision, recall, f1_score, support}}); regression: rmse, mae, r2, mape (a share: 0.1 = 10 %); forecasting (on the held-out tail): mape, smape (shares), rmse, mae.',
    example: {
      accuracy: 0.94,
      precision: 0.91,
      recall: 0.88,
      f1_score: 0.895,
      auc_roc: 0.96,
      confusion_matrix: [[450, 30], [25, 95]],
      log_loss: 0.18,
      per_class: { '0': { precision: 0.95, recall: 0.94, f1_score: 0.945, support: 480 }, '1': { precision: 0.76, recall: 0.79, f1_score: 0.775, support: 120 } },
    },
  })
  metrics!: object | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    nullable: true,
    description: 'Share of importance per feature (gain, or permutation importance for models without their own), summing to 1; null for forecasting.',
    example: { tenure: 0.35, monthly_charges: 0.28, total_charges: 0.22 },
  })
  feature_importance!: Record<string, number> | null;

  @ApiProperty({ type: ForecastDto, nullable: true, required: false, description: 'Forecasting jobs, once completed.' })
  forecast?: ForecastDto | null;

  @ApiProperty({ example: 'm-xyz789', nullable: true, type: String, description: 'The MLflow model id.' })
  model_artifact_id!: string | null;

  @ApiProperty({ example: 842, nullable: true, type: Number })
  training_duration_seconds!: number | null;

  @ApiProperty({ type: DataSummaryDto, nullable: true })
  data_summary!: DataSummaryDto | null;

  @ApiProperty({ example: '3f2a…', nullable: true, type: String, description: 'The MLflow run with parameters, metrics and artifacts.' })
  mlflow_run_id!: string | null;

  @ApiProperty({ type: TunedByDto, nullable: true, required: false, description: 'Train-best jobs (POST /api/v1/ml/tuning/:sweep_id/train-best): the sweep and trial this configuration comes from.' })
  tuned_by?: TunedByDto | null;

  @ApiProperty({ type: FeatureSetRefDto, nullable: true, required: false, description: 'Jobs trained on a feature set (`dataset.source` `feature_set`): the version whose frame they trained on.' })
  feature_set?: FeatureSetRefDto | null;

  @ApiProperty({ type: RegisteredVersionRefDto, nullable: true, required: false, description: 'Train-best with `register`: the model version registered from this job once trained.' })
  registered_version?: RegisteredVersionRefDto | null;
}

export class TrainingJobListResponseDto {
  @ApiProperty({ type: [TrainingJobResponseDto], description: "The caller's jobs, newest first." })
  jobs!: TrainingJobResponseDto[];
}
