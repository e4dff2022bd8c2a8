import type { AlgorithmSpec, TrainingJob, ValidatedTrainingConfig } from '@app/ml/client/ml-service.types';
import type { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';

/** Seed 001's training configuration, verbatim. */
export function seedTrainingConfig(): CreateTrainingJobDto {
  return {
    name: 'churn-predictor-v2',
    algorithm: 'xgboost',
    task_type: 'classification',
    dataset: { source: 'sql', query: 'SELECT * FROM ml_features.customer_churn', tenant_id: 'acme-corp' },
    target_column: 'churned',
    feature_columns: ['tenure', 'monthly_charges', 'total_charges'],
    split: { strategy: 'stratified', test_size: 0.2, random_state: 42 },
    hyperparameters: { n_estimators: 100, max_depth: 6, learning_rate: 0.1 },
  };
}

/** The ML Service's answer to validating seed 001's config on the demo churn table. */
export const VALIDATED_CHURN_CONFIG: ValidatedTrainingConfig = {
  algorithm: 'xgboost',
  task_type: 'classification',
  target_column: 'churned',
  feature_columns: ['tenure', 'monthly_charges', 'total_charges'],
  categorical_columns: [],
  hyperparameters: { n_estimators: 100, max_depth: 6, learning_rate: 0.1, objective: 'binary:logistic' },
  split: { strategy: 'stratified', test_size: 0.2, random_state: 42 },
  row_count: 5000,
};

export const XGBOOST_CATALOG: AlgorithmSpec[] = [
  {
    name: 'xgboost',
    task_types: ['classification', 'regression'],
    framework: 'xgboost',
    hyperparameters: [
      { name: 'n_estimators', type: 'integer', minimum: 1, maximum: 5000, exclusive_minimum: false, choices: null, default: 100, description: 'boosting rounds' },
      { name: 'max_depth', type: 'integer', minimum: 1, maximum: 20, exclusive_minimum: false, choices: null, default: 6, description: 'tree depth' },
      { name: 'learning_rate', type: 'number', minimum: 0, exclusive_minimum: true, maximum: 1, choices: null, default: 0.3, description: 'shrinkage' },
      { name: 'objective', type: 'string', minimum: null, maximum: null, exclusive_minimum: false, choices: ['binary:logistic', 'reg:squarederror'], default: 'binary:logistic', description: 'loss' },
    ],
  },
];

export const QUEUED_JOB: TrainingJob = {
  job_id: 'train-0123456789ab',
  tenant_id: 'acme-corp',
  name: 'churn-predictor-v2',
  algorithm: 'xgboost',
  task_type: 'classification',
  status: 'queued',
  created_at: '2026-09-01T12:00:00Z',
  started_at: null,
  finished_at: null,
  progress: null,
  error: null,
  metrics: null,
  feature_importance: null,
  model_artifact_id: null,
  forecast: null,
  training_duration_seconds: null,
  data_summary: null,
  mlflow_run_id: null,
  tuned_by: null,
  feature_set: null,
  registered_version: null,
};

/** A two-week ARIMA forecast of the demo daily revenue; forecasting needs no split. */
export function revenueForecastConfig(): CreateTrainingJobDto {
  return {
    name: 'revenue-forecast',
    algorithm: 'arima',
    task_type: 'forecasting',
    dataset: { source: 'table', table: 'ml_features.daily_revenue' },
    target_column: 'revenue',
    time_column: 'date',
    horizon: 14,
    frequency: 'D',
    hyperparameters: { order: [2, 1, 1], seasonal_order: null },
  };
}
