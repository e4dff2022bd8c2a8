import type { Catalog } from '@app/ml/chat/chat-types';

const col = (name: string, type: string): { name: string; type: string } => ({ name, type });

/**
 * A tenant as the evaluation sees it: the demo warehouse's three tables (their real columns and
 * DuckDB types), an upload, two registered churn models and a lifetime-value regressor, one
 * deployment, recent jobs, a sweep and a feature set. Ids are invented.
 */
export const EVAL_CATALOG: Catalog = {
  tables: [
    {
      qualified_name: 'ml_features.customer_churn',
      name: 'customer_churn',
      columns: [
        col('customer_id', 'VARCHAR'),
        col('tenure', 'INTEGER'),
        col('monthly_charges', 'DOUBLE'),
        col('total_charges', 'DOUBLE'),
        col('contract_type', 'VARCHAR'),
        col('internet_service', 'VARCHAR'),
        col('payment_method', 'VARCHAR'),
        col('senior_citizen', 'BOOLEAN'),
        col('num_support_tickets', 'INTEGER'),
        col('churned', 'INTEGER'),
      ],
    },
    {
      qualified_name: 'ml_features.customer_value',
      name: 'customer_value',
      columns: [
        col('customer_id', 'VARCHAR'),
        col('tenure', 'INTEGER'),
        col('monthly_charges', 'DOUBLE'),
        col('contract_type', 'VARCHAR'),
        col('region', 'VARCHAR'),
        col('num_products', 'INTEGER'),
        col('has_premium_support', 'BOOLEAN'),
        col('lifetime_value', 'DOUBLE'),
      ],
    },
    { qualified_name: 'ml_features.daily_revenue', name: 'daily_revenue', columns: [col('date', 'DATE'), col('revenue', 'DOUBLE')] },
    { qualified_name: 'uploads.house_prices', name: 'house_prices', columns: [col('area_sqft', 'DOUBLE'), col('bedrooms', 'INTEGER'), col('neighborhood', 'VARCHAR'), col('price', 'DOUBLE')] },
  ],
  models: [
    {
      name: 'churn-xgboost',
      production_version: '2',
      versions: [
        { version: '1', stage: 'Archived', job_id: 'train-00000000000a', metrics: { accuracy: 0.8, f1_score: 0.61 } },
        { version: '2', stage: 'Production', job_id: 'train-00000000000b', metrics: { accuracy: 0.84, f1_score: 0.66 } },
      ],
    },
    { name: 'churn-lightgbm', production_version: null, versions: [{ version: '1', stage: 'None', job_id: 'train-00000000000c', metrics: { accuracy: 0.86, f1_score: 0.68 } }] },
    { name: 'ltv-regressor', production_version: null, versions: [{ version: '1', stage: 'Staging', job_id: 'train-00000000000d', metrics: { rmse: 812.5, r2: 0.71 } }] },
  ],
  deployments: [{ model_id: 'churn-prod', model_name: 'churn-xgboost', status: 'healthy', task_type: 'classification', versions: ['2'] }],
  jobs: [
    { job_id: 'train-0000000000ff', name: 'churn-xgboost', algorithm: 'xgboost', task_type: 'classification', status: 'completed', metrics: { accuracy: 0.83 }, registered_version: null },
    { job_id: 'train-00000000000e', name: 'house-price-random_forest', algorithm: 'random_forest', task_type: 'regression', status: 'running', metrics: null },
    { job_id: 'train-00000000000d', name: 'ltv-regressor', algorithm: 'lightgbm', task_type: 'regression', status: 'completed', metrics: { rmse: 812.5, r2: 0.71 }, registered_version: { model_name: 'ltv-regressor', version: '1' } },
    { job_id: 'train-00000000000c', name: 'churn-lightgbm', algorithm: 'lightgbm', task_type: 'classification', status: 'completed', metrics: { accuracy: 0.86 }, registered_version: { model_name: 'churn-lightgbm', version: '1' } },
    { job_id: 'train-00000000000b', name: 'churn-xgboost', algorithm: 'xgboost', task_type: 'classification', status: 'completed', metrics: { accuracy: 0.84 }, registered_version: { model_name: 'churn-xgboost', version: '2' } },
    { job_id: 'train-00000000000a', name: 'churn-xgboost', algorithm: 'xgboost', task_type: 'classification', status: 'completed', metrics: { accuracy: 0.8 }, registered_version: { model_name: 'churn-xgboost', version: '1' } },
  ],
  sweeps: [{ sweep_id: 'sweep-0000000000f1', name: 'churn-xgboost-sweep', status: 'running' }],
  feature_sets: ['customer_features'],
  algorithms: {
    xgboost: ['n_estimators', 'max_depth', 'learning_rate', 'subsample', 'min_child_weight'],
    lightgbm: ['n_estimators', 'num_leaves', 'learning_rate', 'max_depth'],
    random_forest: ['n_estimators', 'max_depth', 'min_samples_leaf'],
    linear: ['C', 'alpha'],
    neural_network: ['hidden_layers', 'epochs', 'learning_rate'],
    prophet: ['seasonality_mode', 'changepoint_prior_scale'],
    arima: ['p', 'd', 'q'],
  },
};
