/** The Swagger example: "Tune the learning rate for my churn model" on the demo tenant. */
export const CHURN_TUNING_REQUEST = {
  name: 'churn-sweep',
  algorithm: 'xgboost',
  task_type: 'classification',
  dataset: { source: 'sql', query: 'SELECT * FROM ml_features.customer_churn', tenant_id: 'acme-corp' },
  target_column: 'churned',
  split: { strategy: 'stratified', test_size: 0.2, random_state: 42 },
  hyperparameters: { n_estimators: 200 },
  search_space: {
    learning_rate: { type: 'loguniform', lower: 0.01, upper: 0.3 },
    max_depth: { type: 'randint', lower: 3, upper: 10 },
  },
  search: 'tpe',
  scheduler: { type: 'asha', grace_period: 10, reduction_factor: 3 },
  num_samples: 16,
  max_concurrent_trials: 2,
};
