import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { PredictResponseDto } from '@app/ml/serving/dto/serving-responses.dto';
import { ServingController } from '@app/ml/serving/serving.controller';
import { ServingService } from '@app/ml/serving/serving.service';
import { startControllerApp } from '@test/support/controller-app';

const PREDICTION: PredictResponseDto = {
  model_id: 'churn',
  version: '3',
  predictions: [{ prediction_id: 'a'.repeat(32), class: 1, score: 0.9, probabilities: { '0': 0.1, '1': 0.9 } }],
};

describe('ServingController through the real pipeline', () => {
  let app: INestApplication<App>;
  const serving = {
    deploy: jest.fn<ServingService['deploy']>(),
    list: jest.fn<ServingService['list']>(),
    get: jest.fn<ServingService['get']>(),
    undeploy: jest.fn<ServingService['undeploy']>(),
    predict: jest.fn<ServingService['predict']>(),
    feedback: jest.fn<ServingService['feedback']>(),
    metrics: jest.fn<ServingService['metrics']>(),
    drift: jest.fn<ServingService['drift']>(),
    setTraffic: jest.fn<ServingService['setTraffic']>(),
    release: jest.fn<ServingService['release']>(),
    rollback: jest.fn<ServingService['rollback']>(),
  };

  beforeAll(async () => {
    app = await startControllerApp(ServingController, { provide: ServingService, useValue: serving });
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    jest.resetAllMocks();
  });

  function call(method: 'get' | 'post' | 'put' | 'delete', url: string): request.Test {
    return request(app.getHttpServer())[method](url).set('X-API-Key', 'dev-acme-key').set('X-Request-ID', 'req-1');
  }

  it('passes a predict body through untouched, with the request key', async () => {
    serving.predict.mockResolvedValue(PREDICTION);
    const body = { instances: [{ tenure: 3, contract_type: 'two-year', anything: null }] };
    const response = await call('post', '/api/v1/ml/serving/churn/predict').set('X-Request-Key', 'customer-42').send(body).expect(200);
    expect(response.body).toEqual(PREDICTION);
    expect(serving.predict).toHaveBeenCalledWith('churn', body, 'customer-42', { tenantId: 'acme-corp', requestId: 'req-1', actor: expect.any(String) });
  });

  it.each([
    ['post', '/api/v1/ml/serving/Churn!/predict', 'model_id'],
    ['get', '/api/v1/ml/serving/deployments/-x', 'model_id'],
    ['get', '/api/v1/ml/serving/churn/metrics?window=soon', 'window'],
    ['get', '/api/v1/ml/serving/churn/drift?version=0', 'version'],
  ] as const)('%s %s is 400 naming %s', async (method, url, field) => {
    const response = await call(method, url).send({}).expect(400);
    expect((response.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual([field]);
  });

  it('refuses a traffic split with a bad weight and a deployment without a model name', async () => {
    const split = await call('put', '/api/v1/ml/serving/churn/traffic').send({ variants: [{ version: 3, weight: 101 }] }).expect(400);
    expect((split.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['variants[0].weight']);
    const deploy = await call('post', '/api/v1/ml/serving/deployments').send({ version: 3 }).expect(400);
    expect((deploy.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['model_name']);
    expect(serving.setTraffic).not.toHaveBeenCalled();
    expect(serving.deploy).not.toHaveBeenCalled();
  });

  it('validates each feedback entry', async () => {
    await call('post', '/api/v1/ml/serving/churn/feedback').send([{ actual: 1 }]).expect(400);
    serving.feedback.mockResolvedValue({ recorded: 1, unknown_prediction_ids: [] });
    await call('post', '/api/v1/ml/serving/churn/feedback').send([{ prediction_id: 'a'.repeat(32), actual: 1 }]).expect(200);
    expect(serving.feedback).toHaveBeenCalledWith('churn', [{ prediction_id: 'a'.repeat(32), actual: 1 }], expect.anything());
  });

  it('undeploys with 204 and rolls back in one call', async () => {
    serving.undeploy.mockResolvedValue();
    await call('delete', '/api/v1/ml/serving/deployments/churn').expect(204);
    await call('post', '/api/v1/ml/serving/churn/rollback').expect(200);
    expect(serving.rollback).toHaveBeenCalledWith('churn', expect.anything());
  });
});
