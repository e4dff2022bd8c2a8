/**
 * The Swagger examples, on the demo tenant's churn table. The demo rows carry no event time, so the example query
 * dates every row 1 January 2024 (the values known from then on).
 */
export const CUSTOMER_FEATURE_SET = {
  name: 'customer',
  description: 'Contract and charges of each demo customer',
  entity: { name: 'customer', join_keys: ['customer_id'] },
  source: { source: 'sql', query: "SELECT *, TIMESTAMP '2024-01-01' AS updated_at FROM ml_features.customer_churn" },
  timestamp_column: 'updated_at',
  features: [{ column: 'tenure' }, { column: 'monthly_charges' }, { column: 'contract_type' }],
};

export const CUSTOMER_TRAINING_SET = {
  entities: { source: 'sql', query: "SELECT customer_id, DATE '2024-07-01' AS as_of, churned FROM ml_features.customer_churn" },
  event_timestamp_column: 'as_of',
  output_table: 'churn_training',
};
