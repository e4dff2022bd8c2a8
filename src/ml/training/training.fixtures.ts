import type { AlgorithmSpec, DatasetSchema, TrainingJob } from '@app/ml/client/ml-service.types';
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

export const CHURN_SCHEMA: DatasetSchema = {
  row_count: 5000,
  columns: [
    { name: 'customer_id', type: 'VARCHAR', kind: 'text', distinct_count: 5000, null_count: 0 },
    { name: 'tenure', type: 'INTEGER', kind: 'numeric', distinct_count: 72, null_count: 0 },
    { name: 'monthly_charges', type: 'DOUBLE', kind: 'numeric', distinct_count: 4200, null_count: 0 },
    { name: 'total_charges', type: 'DOUBLE', kind: 'numeric', distinct_count: 4900, null_count: 0 },
    { name: 'contract_type', type: 'VARCHAR', kind: 'categorical', distinct_count: 3, null_count: 0 },
    { name: 'churned', type: 'INTEGER', kind: 'numeric', distinct_count: 2, null_count: 0 },
  ],
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
};

/** The demo daily revenue table and an ARIMA catalog entry, for forecasting requests. */
export const REVENUE_SCHEMA: DatasetSchema = {
  row_count: 731,
  columns: [
    { name: 'date', type: 'DATE', kind: 'datetime', distinct_count: 731, null_count: 0 },
    { name: 'revenue', type: 'DOUBLE', kind: 'numeric', distinct_count: 731, null_count: 0 },
  ],
};

export const ARIMA_CATALOG: AlgorithmSpec[] = [
  {
    name: 'arima',
    task_types: ['forecasting'],
    framework: 'statsmodels',
    hyperparameters: [
      { name: 'order', type: 'integer_list', minimum: 0, maximum: 10, exclusive_minimum: false, choices: null, default: [1, 1, 1], description: '(p, d, q)', min_items: 3, max_items: 3, nullable: false },
      { name: 'seasonal_order', type: 'integer_list', minimum: 0, maximum: 400, exclusive_minimum: false, choices: null, default: null, description: '(P, D, Q, s)', min_items: 4, max_items: 4, nullable: true },
    ],
  },
];

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
    split: { strategy: 'random', test_size: 0.2 },
    hyperparameters: { order: [2, 1, 1], seasonal_order: null },
  };
}
