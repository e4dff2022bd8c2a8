import type { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';

/**
 * Seed 001's training request, verbatim: the example the Swagger UI pre-fills, so "Try it out" →
 * "Execute" trains the demo churn model. The README's curl sends docs/examples/train-churn.json,
 * which a unit test keeps identical to this.
 */
export const SEED_001_TRAINING_REQUEST: CreateTrainingJobDto = {
  name: 'churn-predictor-v2',
  algorithm: 'xgboost',
  task_type: 'classification',
  dataset: {
    source: 'sql',
    query: 'SELECT * FROM ml_features.customer_churn',
    tenant_id: 'acme-corp',
  },
  target_column: 'churned',
  feature_columns: ['tenure', 'monthly_charges', 'total_charges'],
  split: {
    strategy: 'stratified',
    test_size: 0.2,
    random_state: 42,
  },
  hyperparameters: {
    n_estimators: 100,
    max_depth: 6,
    learning_rate: 0.1,
  },
};
