import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { FeatureImportanceResponseDto } from '@app/ml/features/dto/feature-importance.dto';
import type { FeatureSetVersionResponseDto } from '@app/ml/features/dto/feature-set-response.dto';
import type { OnlineFeaturesResponseDto } from '@app/ml/features/dto/online-features.dto';
import type { JobResponseDto } from '@app/ml/jobs/dto/job-response.dto';
import type { DeploymentResponseDto } from '@app/ml/serving/dto/serving-responses.dto';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

// Issue 15's walk as a new user would take it, on the demo data: a customer feature set over ml_features.customer_churn
// (its updated_at is the event time) with a window aggregate and a one-hot encoding -> point-in-time training -> register
// -> materialise -> deploy -> predict by customer_id alone; a second version changes nothing for the deployed model.
const SET = 'customer_walk';
const BASE = {
  name: SET,
  entity: { name: 'customer', join_keys: ['customer_id'] },
  source: { source: 'table', table: 'ml_features.customer_churn' },
  timestamp_column: 'updated_at',
};
const FEATURES = [
  { column: 'tenure' },
  { column: 'monthly_charges' },
  { column: 'contract_type', transform: { type: 'one_hot' } },
  { column: 'num_support_tickets', transform: { type: 'window', aggregation: 'sum', days: 3650 } },
];
const COLUMNS = ['tenure', 'monthly_charges', 'contract_type_month-to-month', 'contract_type_one-year', 'contract_type_two-year', 'num_support_tickets_sum_3650d'];

describe('predicting by entity key through the AI Service on Feast, Ray and MLflow', () => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
  });

  afterAll(async () => {
    await app.close();
  });

  function api(): ReturnType<typeof request> {
    return request(app.getHttpServer());
  }

  async function until<T extends { status: string }>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 180_000;
    let value = await read();
    while (!done(value)) {
      if (Date.now() > deadline) throw new Error(`${what} did not finish: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      value = await read();
    }
    return value;
  }

  async function materialize(version: number): Promise<JobResponseDto> {
    const job = (await api().post(`/api/v1/ml/features/sets/${SET}/versions/${version}/materialize`).set('X-API-Key', ACME_KEY).send({}).expect(202)).body as JobResponseDto;
    expect(job).toMatchObject({ kind: 'feature_materialization', status: expect.stringMatching(/queued|running/) as unknown });
    return until(
      async () => (await api().get(`/api/v1/ml/jobs/${job.job_id}`).set('X-API-Key', ACME_KEY).expect(200)).body as JobResponseDto,
      ({ status }) => ['completed', 'failed', 'cancelled'].includes(status),
      'materialisation',
    );
  }

  it('defines, trains, registers, materialises, deploys and predicts by customer_id only, pinned to version 1', async () => {
    const first = (await api().post('/api/v1/ml/features/sets').set('X-API-Key', ACME_KEY).send({ ...BASE, features: FEATURES }).expect(201)).body as FeatureSetVersionResponseDto;
    expect(first.fitted.flatMap(({ columns }) => columns)).toEqual(COLUMNS);

    const accepted = (
      await api()
        .post('/api/v1/ml/train')
        .set('X-API-Key', ACME_KEY)
        .send({
          name: 'churn-by-customer',
          algorithm: 'xgboost',
          task_type: 'classification',
          dataset: {
            source: 'feature_set',
            name: SET,
            version: first.version,
            entities: { source: 'sql', query: 'SELECT customer_id, updated_at AS as_of, churned FROM ml_features.customer_churn' },
            event_timestamp_column: 'as_of',
          },
          target_column: 'churned',
          feature_columns: COLUMNS,
          hyperparameters: { n_estimators: 30, max_depth: 3 },
        })
        .expect(202)
    ).body as TrainingJobResponseDto;
    const job = await until(
      async () => (await api().get(`/api/v1/ml/train/${accepted.job_id}`).set('X-API-Key', ACME_KEY).expect(200)).body as TrainingJobResponseDto,
      ({ status }) => ['completed', 'failed', 'cancelled'].includes(status),
      'training',
    );
    expect(job.status).toBe('completed');
    const registered = (await api().post('/api/v1/ml/registry/models/churn-by-customer/versions').set('X-API-Key', ACME_KEY).send({ job_id: job.job_id }).expect(201)).body as {
      version: string;
    };

    // What matters for churn, for this model and this feature set version: the importance its job recorded, and the
    // profiler's association of the version's features with churned on the point-in-time frame the job trained on.
    const question = { target: 'churned', model_name: 'churn-by-customer', model_version: registered.version, feature_set: SET, feature_set_version: first.version };
    const answer = (await api().get('/api/v1/ml/features/importance').query(question).set('X-API-Key', ACME_KEY).expect(200)).body as FeatureImportanceResponseDto;
    expect(answer.model).toMatchObject({ chosen_by: 'requested', model_name: 'churn-by-customer', job_id: job.job_id, algorithm: 'xgboost', feature_set: { name: SET, version: first.version } });
    expect(answer.model.importance_kind).toMatch(/^total gain/);
    expect(Object.fromEntries(answer.model.feature_importance.map(({ feature, importance }) => [feature, importance]))).toEqual(job.feature_importance);
    expect(answer.feature_set).toMatchObject({ name: SET, version: first.version, frame: 'point_in_time', job_id: job.job_id, rows: 5000 });
    expect(answer.feature_set?.associations.map(({ feature }) => feature).sort()).toEqual([...COLUMNS].sort());
    expect(answer.charts.map(({ name }) => name)).toEqual(['feature_importance', 'target_associations']);
    const chart = await api().get('/api/v1/ml/features/importance/charts/target_associations').query(question).set('X-API-Key', ACME_KEY).set('Accept', 'image/png').expect(200);
    expect(chart.headers['content-type']).toBe('image/png');
    await api().get('/api/v1/ml/features/importance').query(question).set('X-API-Key', GLOBEX_KEY).expect(404);

    const deployment = (
      await api()
        .post('/api/v1/ml/serving/deployments')
        .set('X-API-Key', ACME_KEY)
        .send({ model_name: 'churn-by-customer', version: Number(registered.version), runtime: 'embedded' })
        .expect(202)
    ).body as DeploymentResponseDto;
    expect(deployment.variants[0].feature_set).toEqual({ name: SET, version: first.version });
    await until(
      async () => (await api().get(`/api/v1/ml/serving/deployments/${deployment.model_id}`).set('X-API-Key', ACME_KEY).expect(200)).body as DeploymentResponseDto,
      ({ status }) => status !== 'deploying',
      'deployment',
    );
    const byKey = { entities: { customer_id: ['CUST-00001', 'CUST-00002'] } };
    const early = await api().post(`/api/v1/ml/serving/${deployment.model_id}/predict`).set('X-API-Key', ACME_KEY).send(byKey).expect(409);
    expect((early.body as { message: string }).message).toContain('materialize');

    const materialized = await materialize(first.version);
    expect(materialized.status).toBe('completed');
    expect(materialized.progress).toEqual({ stage: 'done', stages_done: 3, stages_total: 3 });

    // Version 2 standardises tenure under the same name; the deployed model keeps version 1's raw tenure.
    const second = (
      await api()
        .post('/api/v1/ml/features/sets')
        .set('X-API-Key', ACME_KEY)
        .send({ ...BASE, features: [{ column: 'tenure', name: 'tenure', transform: { type: 'standard' } }, ...FEATURES.slice(1)] })
        .expect(201)
    ).body as FeatureSetVersionResponseDto;
    expect(second.version).toBe(first.version + 1);
    expect((await materialize(second.version)).status).toBe('completed');

    const v1 = (
      await api()
        .post('/api/v1/ml/features/online')
        .set('X-API-Key', ACME_KEY)
        .send({ features: COLUMNS.map((column) => `${SET}_v${first.version}:${column}`), entities: byKey.entities })
        .expect(200)
    ).body as OnlineFeaturesResponseDto;
    // Feast answers the join keys first, then the features in its own order: results[i] is feature_names[i]
    expect(v1.metadata.feature_names[0]).toBe('customer_id');
    expect([...v1.metadata.feature_names].sort()).toEqual(['customer_id', ...COLUMNS].sort());
    const vectors = new Map(v1.metadata.feature_names.map((name, index) => [name, v1.results[index]]));
    expect(COLUMNS.map((column) => vectors.get(column)?.statuses)).toEqual(COLUMNS.map(() => ['PRESENT', 'PRESENT']));
    const instances = [0, 1].map((row) => Object.fromEntries(COLUMNS.map((column) => [column, vectors.get(column)?.values[row]])));
    expect(instances.every(({ tenure }) => Number.isInteger(tenure))).toBe(true);

    const predicted = (await api().post(`/api/v1/ml/serving/${deployment.model_id}/predict`).set('X-API-Key', ACME_KEY).send(byKey).expect(200)).body as {
      version: string;
      predictions: Record<string, unknown>[];
    };
    const direct = (await api().post(`/api/v1/ml/serving/${deployment.model_id}/predict`).set('X-API-Key', ACME_KEY).send({ instances }).expect(200)).body as {
      predictions: Record<string, unknown>[];
    };
    const scores = (predictions: Record<string, unknown>[]): unknown[] => predictions.map(({ prediction_id: _id, ...rest }) => rest);
    expect(predicted.predictions).toHaveLength(2);
    expect(scores(predicted.predictions)).toEqual(scores(direct.predictions));

    const unknown = await api()
      .post(`/api/v1/ml/serving/${deployment.model_id}/predict`)
      .set('X-API-Key', ACME_KEY)
      .send({ entities: { customer_id: ['CUST-00001', 'CUST-99999'] } })
      .expect(422);
    expect((unknown.body as { errors: { field: string }[] }).errors.map(({ field }) => field)).toEqual(['entities.customer_id[1]']);

    // Another tenant sees neither the set, its online values nor the deployment.
    const theirs = await api()
      .post('/api/v1/ml/features/online')
      .set('X-API-Key', GLOBEX_KEY)
      .send({ features: [`${SET}_v${first.version}:tenure`], entities: byKey.entities })
      .expect(422);
    expect((theirs.body as { errors: { field: string }[] }).errors[0].field).toBe('features[0]');
    await api().post(`/api/v1/ml/serving/${deployment.model_id}/predict`).set('X-API-Key', GLOBEX_KEY).send(byKey).expect(404);
    await api().post(`/api/v1/ml/features/sets/${SET}/versions/1/materialize`).set('X-API-Key', GLOBEX_KEY).send({}).expect(404);
  }, 600_000);
});
