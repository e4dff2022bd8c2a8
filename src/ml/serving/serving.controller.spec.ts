import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { RetryLaterException } from '@app/common/filters/retry-later.exception';
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
    submitBatch: jest.fn<ServingService['submitBatch']>(),
    getBatch: jest.fn<ServingService['getBatch']>(),
    cancelBatch: jest.fn<ServingService['cancelBatch']>(),
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
    expect(serving.predict).toHaveBeenCalledWith('churn', body, 'customer-42', { tenantId: 'acme-corp', requestId: 'req-1', actor: expect.any(String) }, expect.any(Function));
    expect(response.headers['server-timing']).toBeUndefined();
  });

  it('answers the per-hop Server-Timing the ML Service gave, when it times its hops', async () => {
    const timing = 'ingress;dur=0.200, compute;dur=0.150, ml;dur=1.000, ml_call;dur=1.600';
    serving.predict.mockImplementation((_modelId, _features, _key, _caller, onTiming) => {
      onTiming?.(timing);
      return Promise.resolve(PREDICTION);
    });
    const response = await call('post', '/api/v1/ml/serving/churn/predict').send({ tenure: 3 }).expect(200);
    expect(response.headers['server-timing']).toBe(timing);
    expect(response.body).toEqual(PREDICTION);
  });

  it('answers a deployment at capacity with 503 and the Retry-After it was given', async () => {
    const detail = 'deployment churn is at capacity; retry shortly or add replicas';
    serving.predict.mockRejectedValue(new RetryLaterException(detail, 503, '1'));
    const response = await call('post', '/api/v1/ml/serving/churn/predict').send({ tenure: 3 }).expect(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body).toEqual({ message: detail, request_id: 'req-1' });
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

  it.each([
    [{}, ['model_id', 'dataset', 'output_table']],
    [{ model_name: 'churn-predictor-v2', dataset: { source: 'table', table: 'ml_features.customer_churn' }, output_table: 'scores' }, ['version']],
    [{ model_id: 'churn', dataset: { source: 'sql' }, output_table: 'scores' }, ['dataset.query']],
    [{ model_id: 'churn', dataset: { source: 'table', table: 'x' }, output_table: 'predictions.scores', chunk_rows: 10 }, ['output_table', 'chunk_rows']],
  ])('refuses the batch body %j naming %j', async (body, fields) => {
    const response = await call('post', '/api/v1/ml/serving/batch').send(body).expect(400);
    expect((response.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(fields);
    expect(serving.submitBatch).not.toHaveBeenCalled();
  });

  it('queues a batch with the caller\'s Idempotency-Key, and reads and cancels it by a well-formed id', async () => {
    const batch = { batch_id: 'batch-0123456789ab', status: 'queued' as const, rows_total: null, rows_done: 0, output_table: 'predictions.scores', rows_per_second: null, predict_rows_per_second: null, error: null };
    serving.submitBatch.mockResolvedValue(batch);
    serving.getBatch.mockResolvedValue(batch);
    serving.cancelBatch.mockResolvedValue({ ...batch, status: 'cancelled' });
    const body = { model_name: 'churn-predictor-v2', version: 2, dataset: { source: 'sql', query: 'SELECT * FROM ml_features.customer_churn' }, output_table: 'scores' };
    const accepted = await call('post', '/api/v1/ml/serving/batch').set('Idempotency-Key', 'nightly-2026-11-30').send(body).expect(202);
    expect(accepted.body).toEqual(batch);
    expect(serving.submitBatch).toHaveBeenCalledWith(expect.objectContaining(body), 'nightly-2026-11-30', expect.objectContaining({ tenantId: 'acme-corp' }));
    await call('get', '/api/v1/ml/serving/batch/batch-0123456789ab').expect(200);
    expect((await call('delete', '/api/v1/ml/serving/batch/batch-0123456789ab').expect(200)).body).toMatchObject({ status: 'cancelled' });
    const malformed = await call('get', '/api/v1/ml/serving/batch/batch-1').expect(400);
    expect((malformed.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['batch_id']);
  });
});
