import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { TrainingController } from '@app/ml/training/training.controller';
import { QUEUED_JOB, seedTrainingConfig } from '@app/ml/training/training.fixtures';
import { TrainingService } from '@app/ml/training/training.service';
import { startControllerApp } from '@test/support/controller-app';

const ACME = { 'X-API-Key': 'dev-acme-key' };

describe('TrainingController through the real pipeline', () => {
  let app: INestApplication<App>;
  const training = {
    submit: jest.fn<TrainingService['submit']>(),
    get: jest.fn<TrainingService['get']>(),
    list: jest.fn<TrainingService['list']>(),
    cancel: jest.fn<TrainingService['cancel']>(),
    listCharts: jest.fn<TrainingService['listCharts']>(),
    getChart: jest.fn<TrainingService['getChart']>(),
    listAlgorithms: jest.fn<TrainingService['listAlgorithms']>(),
  };

  beforeAll(async () => {
    app = await startControllerApp(TrainingController, { provide: TrainingService, useValue: training });
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    jest.resetAllMocks();
    training.submit.mockResolvedValue({ ...QUEUED_JOB });
  });

  async function badRequest(body: unknown): Promise<{ message: string; errors: { field: string; message: string }[] }> {
    const response = await request(app.getHttpServer()).post('/api/v1/ml/train').set(ACME).send(body as object).expect(400);
    expect(training.submit).not.toHaveBeenCalled();
    return response.body as { message: string; errors: { field: string; message: string }[] };
  }

  it("accepts seed 001's request verbatim with 202, the caller's tenant and a generated idempotency key", async () => {
    const response = await request(app.getHttpServer()).post('/api/v1/ml/train').set(ACME).set('X-Request-ID', 'abc-1').send(seedTrainingConfig()).expect(202);

    expect(response.body).toEqual(QUEUED_JOB);
    expect(response.headers['x-request-id']).toBe('abc-1');
    const [config, caller, key] = training.submit.mock.calls[0];
    expect(config).toEqual(seedTrainingConfig());
    expect(caller).toEqual({ tenantId: 'acme-corp', requestId: 'abc-1', actor: 'api-key:dev-acme' });
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("passes the caller's Idempotency-Key on", async () => {
    await request(app.getHttpServer()).post('/api/v1/ml/train').set(ACME).set('Idempotency-Key', 'submit-42').send(seedTrainingConfig()).expect(202);
    expect(training.submit.mock.calls[0][2]).toBe('submit-42');
  });

  it.each([
    [{ split: { strategy: 'random', test_size: 1 } }, 'split.test_size', 'split.test_size must be greater than 0 and less than 1'],
    [{ split: { strategy: 'random', test_size: 0 } }, 'split.test_size', 'split.test_size must be greater than 0 and less than 1'],
    [{ split: { strategy: 'shuffled', test_size: 0.2 } }, 'split.strategy', 'split.strategy must be one of the following values: random, stratified, time'],
    [{ algorithm: '' }, 'algorithm', 'algorithm should not be empty'],
    [{ split: { strategy: 'time', time_column: 7 } }, 'split.time_column', 'split.time_column must be a string'],
    [{ task_type: 'clustering' }, 'task_type', 'task_type must be one of the following values: classification, regression, forecasting'],
    [{ dataset: { source: 'sql' } }, 'dataset.query', 'dataset.query is required when source is sql'],
    [{ dataset: { source: 'table', table: 'a;drop' } }, 'dataset.table', 'dataset.table must look like schema.table'],
    [{ target_column: 'x'.repeat(1025) }, 'target_column', 'target_column must be shorter than or equal to 1024 characters'],
    [{ feature_columns: ['tenure', ''] }, 'feature_columns', 'each value in feature_columns should not be empty'],
    [{ hyperparameters: [1, 2] }, 'hyperparameters', 'hyperparameters must be an object'],
    [{ priority: 'high' }, 'priority', 'property priority should not exist'],
    [{ horizon: 0 }, 'horizon', 'horizon must not be less than 1'],
    [{ horizon: 2.5 }, 'horizon', 'horizon must be an integer number'],
    [{ frequency: 'every day' }, 'frequency', 'frequency must be a pandas offset alias such as D, W, h or MS'],
    [{ time_column: 42 }, 'time_column', 'time_column must be a string'],
  ])('answers 400 to %j naming %s', async (change, field, message) => {
    const body = await badRequest({ ...seedTrainingConfig(), ...change });
    expect(body.message).toBe(message);
    expect(body.errors).toEqual([{ field, message }]);
  });

  it('answers 400 to a missing field', async () => {
    const { target_column: _target, ...withoutTarget } = seedTrainingConfig();
    const body = await badRequest(withoutTarget);
    expect(body.errors).toEqual([{ field: 'target_column', message: 'target_column must be a string' }]);
  });

  it.each([
    ['an alias the catalog resolves', { algorithm: 'logistic' }],
    ['column names a file can carry', { target_column: 'churn?', feature_columns: ['mean radius', 'price[usd]', 'weight (kg)', 'Größe', 'a.b', 'x,y', '"q"', 'a<b'] }],
    ['no split and no hyperparameters', { split: undefined, hyperparameters: undefined }],
    ['a time split', { split: { strategy: 'time', time_column: 'signup date', test_size: 0.25 } }],
  ])('accepts %s: the ML Service decides', async (_, change) => {
    await request(app.getHttpServer()).post('/api/v1/ml/train').set(ACME).send({ ...seedTrainingConfig(), ...change }).expect(202);
    expect(training.submit.mock.calls[0][0]).toMatchObject(change);
  });

  it('answers 400 naming body to JSON nested 3,000 levels deep, instead of overflowing the stack', async () => {
    const deep = `{"hyperparameters":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    const response = await request(app.getHttpServer()).post('/api/v1/ml/train').set(ACME).set('Content-Type', 'application/json').send(deep).expect(400);
    expect(response.body.errors).toEqual([{ field: 'body', message: 'the JSON body is nested deeper than 64 levels' }]);
    expect(training.submit).not.toHaveBeenCalled();
  });

  it('answers 400 to a malformed Idempotency-Key', async () => {
    const response = await request(app.getHttpServer()).post('/api/v1/ml/train').set(ACME).set('Idempotency-Key', 'a b').send(seedTrainingConfig()).expect(400);
    expect(response.body.message).toBe('Idempotency-Key must be 1 to 128 letters, digits or ._:-');
  });

  it('answers 400 to a malformed job id', async () => {
    const response = await request(app.getHttpServer()).get('/api/v1/ml/train/../../etc').set(ACME);
    expect(response.status).toBe(404);
    const bad = await request(app.getHttpServer()).get('/api/v1/ml/train/job-1').set(ACME).expect(400);
    expect(bad.body.message).toBe('job_id must look like train-<12 hex digits>');
  });

  it('serves the algorithm catalog at /algorithms, not as a job id', async () => {
    const catalog = { algorithms: [{ name: 'xgboost', task_types: ['classification'], framework: 'XGBoost + Ray Train', hyperparameters: [] }] };
    training.listAlgorithms.mockResolvedValue(catalog);
    const response = await request(app.getHttpServer()).get('/api/v1/ml/train/algorithms').set(ACME).expect(200);
    expect(response.body).toEqual(catalog);
    expect(training.get).not.toHaveBeenCalled();
  });

  it('answers 400 to an unknown status filter', async () => {
    const response = await request(app.getHttpServer()).get('/api/v1/ml/train?status=done').set(ACME).expect(400);
    expect(response.body.message).toBe('status must be one of the following values: queued, running, completed, failed, cancelled');
  });

  it('answers 401 without a key and 403 for another tenant, before validating', async () => {
    const unauthorized = await request(app.getHttpServer()).post('/api/v1/ml/train').send({}).expect(401);
    expect(unauthorized.body).toEqual({
      message: 'Missing or unknown API key: send X-API-Key: <key> or Authorization: Bearer <key>',
      request_id: expect.any(String),
    });
    const forbidden = await request(app.getHttpServer()).get('/api/v1/ml/train?tenant_id=globex').set(ACME).expect(403);
    expect(forbidden.body.errors).toEqual([{ field: 'tenant_id', message: 'tenant_id "globex" is not your tenant; your credentials are for "acme-corp"' }]);
  });

  it('answers an unexpected error with a generic 500 and no stack', async () => {
    training.get.mockRejectedValue(new TypeError('cannot read properties of undefined'));
    const response = await request(app.getHttpServer()).get(`/api/v1/ml/train/${QUEUED_JOB.job_id}`).set(ACME).expect(500);
    expect(response.body).toEqual({ message: 'Internal server error', request_id: expect.any(String) });
  });

  describe('charts', () => {
    const chartPath = `/api/v1/ml/train/${QUEUED_JOB.job_id}/charts`;
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

    it('lists the charts of a job', async () => {
      const list = { job_id: QUEUED_JOB.job_id, charts: [{ name: 'roc_curve', title: 'ROC curve (AUC = 0.91)', media_types: ['image/png', 'application/vnd.vegalite.v5+json'] }] };
      training.listCharts.mockResolvedValue(list);
      const response = await request(app.getHttpServer()).get(chartPath).set(ACME).expect(200);
      expect(response.body).toEqual(list);
      expect(training.listCharts.mock.calls[0][0]).toBe(QUEUED_JOB.job_id);
    });

    it('streams the PNG as image/png, passing Accept on', async () => {
      training.getChart.mockResolvedValue({ content: png, contentType: 'image/png' });
      const response = await request(app.getHttpServer()).get(`${chartPath}/confusion_matrix`).set(ACME).set('Accept', 'image/png').expect(200);
      expect(response.headers['content-type']).toBe('image/png');
      expect(response.headers.vary).toContain('Accept');
      expect(Buffer.from(response.body as Buffer)).toEqual(png);
      const [jobId, name, accept] = training.getChart.mock.calls[0];
      expect([jobId, name, accept]).toEqual([QUEUED_JOB.job_id, 'confusion_matrix', 'image/png']);
    });

    it('answers the Vega-Lite spec as JSON', async () => {
      const spec = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', mark: 'rect' };
      training.getChart.mockResolvedValue({ content: Buffer.from(JSON.stringify(spec)), contentType: 'application/json' });
      const response = await request(app.getHttpServer()).get(`${chartPath}/confusion_matrix`).set(ACME).expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual(spec);
    });

    it.each(['Confusion', 'a.png', '_x'])('answers 400 to the chart name %s', async (name) => {
      const response = await request(app.getHttpServer()).get(`${chartPath}/${name}`).set(ACME).expect(400);
      expect(response.body.message).toBe('name must be a chart name (lowercase letters, digits, underscore)');
      expect(training.getChart).not.toHaveBeenCalled();
    });
  });
});
