import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { ApiKeyTenantResolver } from '@app/common/tenant/api-key.tenant-resolver';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { FeatureImportance } from '@app/ml/client/ml-service.types';
import { FeaturesController } from '@app/ml/features/features.controller';
import { FeaturesService } from '@app/ml/features/features.service';
import { startControllerApp } from '@test/support/controller-app';

const ACME = { 'X-API-Key': 'dev-acme-key', 'X-Request-ID': 'req-1' };
const IMPORTANCE = '/api/v1/ml/features/importance';

const ANSWER: FeatureImportance = {
  target: 'churned',
  model: {
    chosen_by: 'production',
    reason: "model churn version 2 is in Production and predicts 'churned'",
    model_name: 'churn',
    model_version: '2',
    stage: 'Production',
    job_id: 'train-0123456789ab',
    algorithm: 'xgboost',
    task_type: 'classification',
    test_metrics: { accuracy: 0.83, auc_roc: 0.9 },
    importance_kind: 'total gain (XGBoost `total_gain`): the loss reduction of every split on the feature',
    feature_importance: [
      { feature: 'tenure', importance: 0.6 },
      { feature: 'monthly_charges', importance: 0.4 },
    ],
    feature_set: { name: 'customer', version: 1 },
  },
  feature_set: {
    name: 'customer',
    version: 1,
    frame: 'point_in_time',
    table: 'training_sets.customer_v1_0a1b2c3d4e5f',
    job_id: 'train-0123456789ab',
    rows: 5000,
    associations: [{ feature: 'tenure', measure: 'correlation_ratio', value: 0.35 }],
  },
  charts: [{ name: 'feature_importance', title: 'What drives churned', media_types: ['image/png', 'application/vnd.vegalite.v5+json'] }],
};

describe('FeaturesController importance through the real pipeline', () => {
  let app: INestApplication<App>;
  const client = {
    getFeatureImportance: jest.fn<MLServiceClient['getFeatureImportance']>(),
    getFeatureImportanceChart: jest.fn<MLServiceClient['getFeatureImportanceChart']>(),
  };

  beforeAll(async () => {
    // The real FeaturesService over a stubbed client: what reaches the ML Service is what is checked.
    app = await startControllerApp(FeaturesController, FeaturesService, new ApiKeyTenantResolver(new Map([['dev-acme-key', 'acme-corp']])), [
      { provide: MLServiceClient, useValue: client },
    ]);
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    jest.resetAllMocks();
    client.getFeatureImportance.mockResolvedValue(ANSWER);
  });

  it("forwards the caller's question for its tenant and answers the model, why it was chosen, and the feature set's association", async () => {
    const response = await request(app.getHttpServer()).get(IMPORTANCE).query({ target: 'churned', feature_set: 'customer', feature_set_version: '1' }).set(ACME).expect(200);
    expect(response.body).toEqual(ANSWER);
    const [context, query] = client.getFeatureImportance.mock.calls[0];
    expect(context).toMatchObject({ tenantId: 'acme-corp', requestId: 'req-1' });
    expect(query).toEqual({ target: 'churned', model_name: undefined, model_version: undefined, feature_set: 'customer', feature_set_version: 1 });
  });

  it.each([
    [{ model_name: 'bad name' }, 'model_name must be 1 to 128 letters'],
    [{ model_name: 'churn', model_version: 'latest' }, 'model_version must be a version number'],
    [{ target: 'churned', feature_set: 'Customer' }, 'feature_set must be lowercase letters'],
    [{ target: 'churned', feature_set: 'customer', feature_set_version: '0' }, 'feature_set_version must not be less than 1'],
    [{ target: 'churned', tenant: 'other-co' }, 'property tenant should not exist'],
  ])('refuses %j with a 400 naming the field, before the ML Service', async (query, message) => {
    const response = await request(app.getHttpServer()).get(IMPORTANCE).query(query).set(ACME).expect(400);
    expect(JSON.stringify(response.body)).toContain(message);
    expect(client.getFeatureImportance).not.toHaveBeenCalled();
  });

  it('serves a chart of the same question as the ML Service sent it, asking for what Accept allows', async () => {
    client.getFeatureImportanceChart.mockResolvedValue({ content: Buffer.from('\x89PNG'), contentType: 'image/png' });
    const response = await request(app.getHttpServer()).get(`${IMPORTANCE}/charts/feature_importance`).query({ target: 'churned' }).set(ACME).set('Accept', 'image/png').expect(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(client.getFeatureImportanceChart.mock.calls[0].slice(1)).toEqual([
      'feature_importance',
      { target: 'churned', model_name: undefined, model_version: undefined, feature_set: undefined, feature_set_version: undefined },
      'image/png',
    ]);
    await request(app.getHttpServer()).get(`${IMPORTANCE}/charts/feature_importance`).query({ target: 'churned' }).set(ACME).set('Accept', 'text/csv').expect(406);
    await request(app.getHttpServer()).get(`${IMPORTANCE}/charts/Bad.Name`).query({ target: 'churned' }).set(ACME).expect(400);
    expect(client.getFeatureImportanceChart).toHaveBeenCalledTimes(1);
  });

  it('needs an API key', async () => {
    await request(app.getHttpServer()).get(IMPORTANCE).query({ target: 'churned' }).expect(401);
  });
});
