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

/** A neural network (PyTorch on Ray Train) on the same churn data: seed 003's config shape. */
export const NEURAL_NETWORK_TRAINING_REQUEST: CreateTrainingJobDto = {
  name: 'churn-mlp',
  algorithm: 'neural_network',
  task_type: 'classification',
  dataset: { source: 'table', table: 'ml_features.customer_churn', tenant_id: 'acme-corp' },
  target_column: 'churned',
  split: { strategy: 'stratified', test_size: 0.2, random_state: 42 },
  hyperparameters: {
    hidden_layers: [64, 32],
    activation: 'relu',
    dropout: 0.1,
    learning_rate: 0.001,
    epochs: 30,
    batch_size: 64,
  },
};

/** Two weeks of demo daily revenue held out and forecast with Prophet. */
export const FORECASTING_TRAINING_REQUEST: CreateTrainingJobDto = {
  name: 'revenue-forecast',
  algorithm: 'prophet',
  task_type: 'forecasting',
  dataset: { source: 'table', table: 'ml_features.daily_revenue', tenant_id: 'acme-corp' },
  target_column: 'revenue',
  time_column: 'date',
  horizon: 14,
  frequency: 'D',
  split: { strategy: 'random', test_size: 0.2, random_state: 42 },
  hyperparameters: { seasonality_mode: 'multiplicative' },
};
