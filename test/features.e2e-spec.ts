import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { ProfileResponseDto } from '@app/ml/eda/dto/profile-response.dto';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import type { FeatureSetLineageResponseDto, FeatureSetListResponseDto, FeatureSetVersionListResponseDto, FeatureSetVersionResponseDto, TrainingSetResponseDto } from '@app/ml/features/dto/feature-set-response.dto';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

// The demo customers' charges as known on 1 January 2024, and a rise of 1000 known from 1 June 2024 on.
const CHARGE_HISTORY =
  "SELECT customer_id, TIMESTAMP '2024-01-01' AS updated_at, monthly_charges, contract_type FROM ml_features.customer_churn " +
  "UNION ALL SELECT customer_id, TIMESTAMP '2024-06-01', monthly_charges + 1000, contract_type FROM ml_features.customer_churn";

const TRANSFORMED = [
  { column: 'monthly_charges' },
  { column: 'contract_type', transform: { type: 'one_hot' } },
  { column: 'monthly_charges', transform: { type: 'window', aggregation: 'count', days: 365 } },
];

function customerSet(features: Record<string, unknown>[]): Record<string, unknown> {
  return {
    name: 'customer',
    entity: { name: 'customer', join_keys: ['customer_id'] },
    source: { source: 'sql', query: CHARGE_HISTORY },
    timestamp_column: 'updated_at',
    features,
  };
}

describe('feature sets on Feast through the AI Service and the real ML Service', () => {
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

  it('versions a definition, builds a point-in-time training set from version 1, and shows none of it to another tenant', async () => {
    // Importing Feast in its worker takes a while on the first call.
    const first = (await api().post('/api/v1/ml/features/sets').set('X-API-Key', ACME_KEY).send(customerSet([{ column: 'monthly_charges' }])).expect(201))
      .body as FeatureSetVersionResponseDto;
    expect(first).toMatchObject({ name: 'customer', version: 1, feast_project: 'acme_corp', feast_feature_view: 'customer_v1' });

    const again = (await api().post('/api/v1/ml/features/sets').set('X-API-Key', ACME_KEY).send(customerSet([{ column: 'monthly_charges' }])).expect(200))
      .body as FeatureSetVersionResponseDto;
    expect(again.version).toBe(1);
    const changed = (
      await api()
        .post('/api/v1/ml/features/sets')
        .set('X-API-Key', ACME_KEY)
        .send(customerSet(TRANSFORMED))
        .expect(201)
    ).body as FeatureSetVersionResponseDto;
    expect(changed.version).toBe(2);
    expect(changed.definition.features[1]).toEqual(TRANSFORMED[1]);
    expect(changed.fitted[1].columns).toEqual(['contract_type_month-to-month', 'contract_type_one-year', 'contract_type_two-year']);

    const versions = (await api().get('/api/v1/ml/features/sets/customer/versions').set('X-API-Key', ACME_KEY).expect(200)).body as FeatureSetVersionListResponseDto;
    expect(versions.versions.map(({ version }) => version)).toEqual([1, 2]);
    expect(versions.versions[0].definition.features).toEqual([{ column: 'monthly_charges' }]);
    const latest = (await api().get('/api/v1/ml/features/sets/customer').set('X-API-Key', ACME_KEY).expect(200)).body as FeatureSetVersionResponseDto;
    expect(latest.version).toBe(2);

    const trainingSet = (
      await api()
        .post('/api/v1/ml/features/sets/customer/versions/1/training-sets')
        .set('X-API-Key', ACME_KEY)
        .send({
          entities: { source: 'sql', query: "SELECT customer_id, DATE '2024-03-01' AS as_of, churned FROM ml_features.customer_churn" },
          event_timestamp_column: 'as_of',
          output_table: 'churn_march',
        })
        .expect(201)
    ).body as TrainingSetResponseDto;
    expect(trainingSet).toEqual({ table: 'training_sets.churn_march', row_count: 5000, columns: ['customer_id', 'as_of', 'churned', 'monthly_charges'], feature_set: 'customer', version: 1 });
    // On 1 March only the January charges were known: the June rise (+1000) must not leak into any row.
    const profile = await api()
      .post('/api/v1/ml/eda/profiles')
      .set('X-API-Key', ACME_KEY)
      .send({ dataset: { source: 'table', table: 'training_sets.churn_march' } })
      .expect(201);
    const charges = (profile.body as ProfileResponseDto).columns.find(({ name }) => name === 'monthly_charges');
    expect(charges?.missing).toBe(0);
    expect(charges?.numeric?.max).toBeLessThan(1000);

    const transformed = (
      await api()
        .post('/api/v1/ml/features/sets/customer/versions/2/training-sets')
        .set('X-API-Key', ACME_KEY)
        .send({
          entities: { source: 'sql', query: "SELECT customer_id, DATE '2024-03-01' AS as_of, churned FROM ml_features.customer_churn" },
          event_timestamp_column: 'as_of',
          output_table: 'churn_march_v2',
        })
        .expect(201)
    ).body as TrainingSetResponseDto;
    expect(transformed.columns).toEqual([
      'customer_id',
      'as_of',
      'churned',
      'monthly_charges',
      'contract_type_month-to-month',
      'contract_type_one-year',
      'contract_type_two-year',
      'monthly_charges_count_365d',
    ]);
    const transformedProfile = await api()
      .post('/api/v1/ml/eda/profiles')
      .set('X-API-Key', ACME_KEY)
      .send({ dataset: { source: 'table', table: 'training_sets.churn_march_v2' } })
      .expect(201);
    // each customer has one charge known in the year before 1 March (January's); June's is in the future
    const counted = (transformedProfile.body as ProfileResponseDto).columns.find(({ name }) => name === 'monthly_charges_count_365d');
    expect([counted?.numeric?.min, counted?.numeric?.max]).toEqual([1, 1]);

    const theirs = (await api().get('/api/v1/ml/features/sets').set('X-API-Key', GLOBEX_KEY).expect(200)).body as FeatureSetListResponseDto;
    expect(theirs.feature_sets).toEqual([]);
    await api().get('/api/v1/ml/features/sets/customer').set('X-API-Key', GLOBEX_KEY).expect(404);
    await api().get('/api/v1/ml/features/sets/customer/versions/1').set('X-API-Key', GLOBEX_KEY).expect(404);
    await api()
      .post('/api/v1/ml/features/sets/customer/versions/1/training-sets')
      .set('X-API-Key', GLOBEX_KEY)
      .send({ entities: { source: 'table', table: 'ml_features.customer_churn' }, event_timestamp_column: 'as_of', output_table: 'stolen' })
      .expect(404);
    const ours = (await api().get('/api/v1/ml/features/sets').set('X-API-Key', ACME_KEY).expect(200)).body as FeatureSetListResponseDto;
    // other specs of the run define feature sets of their own for this tenant
    expect(ours.feature_sets).toContainEqual(expect.objectContaining({ name: 'customer', latest_version: 2 }));
  }, 120_000);

  it('trains on version 2 by entity rows alone, registers the model, and shows the lineage both ways', async () => {
    const accepted = await api()
      .post('/api/v1/ml/train')
      .set('X-API-Key', ACME_KEY)
      .send({
        name: 'churn-from-features',
        algorithm: 'xgboost',
        task_type: 'classification',
        dataset: {
          source: 'feature_set',
          name: 'customer',
          version: 2,
          entities: { source: 'sql', query: "SELECT customer_id, DATE '2024-03-01' AS as_of, churned FROM ml_features.customer_churn" },
          event_timestamp_column: 'as_of',
        },
        target_column: 'churned',
        feature_columns: ['monthly_charges', 'contract_type_month-to-month', 'contract_type_one-year', 'contract_type_two-year', 'monthly_charges_count_365d'],
        hyperparameters: { n_estimators: 20, max_depth: 3 },
      })
      .expect(202);
    let job = accepted.body as TrainingJobResponseDto;
    expect(job.feature_set).toEqual({ name: 'customer', version: 2 });
    const deadline = Date.now() + 180_000;
    while (!['completed', 'failed', 'cancelled'].includes(job.status) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      job = (await api().get(`/api/v1/ml/train/${job.job_id}`).set('X-API-Key', ACME_KEY).expect(200)).body as TrainingJobResponseDto;
    }
    expect(job.status).toBe('completed');
    expect(job.data_summary?.total_samples).toBe(5000);

    const registered = (await api().post('/api/v1/ml/registry/models/churn-features/versions').set('X-API-Key', ACME_KEY).send({ job_id: job.job_id }).expect(201)).body as {
      version: string;
      tags: Record<string, string>;
    };
    expect(registered.tags).toMatchObject({ feature_set: 'customer', feature_set_version: '2' });

    const lineage = (await api().get('/api/v1/ml/features/sets/customer/versions/2/lineage').set('X-API-Key', ACME_KEY).expect(200)).body as FeatureSetLineageResponseDto;
    expect(lineage.training_jobs).toEqual([
      expect.objectContaining({ job_id: job.job_id, mlflow_run_id: job.mlflow_run_id, registered_versions: [{ model_name: 'churn-features', version: registered.version }] }),
    ]);
    const unused = (await api().get('/api/v1/ml/features/sets/customer/versions/1/lineage').set('X-API-Key', ACME_KEY).expect(200)).body as FeatureSetLineageResponseDto;
    expect(unused.training_jobs).toEqual([]);
    await api().get('/api/v1/ml/features/sets/customer/versions/2/lineage').set('X-API-Key', GLOBEX_KEY).expect(404);
  }, 240_000);

  it('refuses a feature the source does not have, naming it, and a malformed body at the edge', async () => {
    const refused = await api().post('/api/v1/ml/features/sets').set('X-API-Key', ACME_KEY).send(customerSet([{ column: 'shoe_size' }])).expect(422);
    expect((refused.body as { errors: { field: string; message: string }[] }).errors).toEqual([
      expect.objectContaining({ field: 'features[0].column', message: expect.stringContaining('shoe_size') as unknown }),
    ]);

    const malformed = await api()
      .post('/api/v1/ml/features/sets')
      .set('X-API-Key', ACME_KEY)
      .send({
        ...customerSet([{ column: 'tenure', transform: { type: 'log' } }, { column: 'signup', transform: { type: 'date_part' } }]),
        name: 'Customer Set',
        source: { source: 'table', table: 'ml_features.customer_churn', tenant_id: 'globex' },
      })
      .expect(400);
    const fields = (malformed.body as { errors: { field: string }[] }).errors.map(({ field }) => field).sort();
    expect(fields).toEqual(['features[0].transform.type', 'features[1].transform.part', 'name', 'source.tenant_id']);
    const empty = await api().post('/api/v1/ml/features/sets').set('X-API-Key', ACME_KEY).send(customerSet([])).expect(400);
    expect((empty.body as { errors: { field: string }[] }).errors.map(({ field }) => field)).toEqual(['features']);
  }, 60_000);
});
