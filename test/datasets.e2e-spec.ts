import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { DatasetListResponseDto, DatasetTableResponseDto } from '@app/ml/datasets/dto/dataset-responses.dto';
import type { AlgorithmListResponseDto } from '@app/ml/training/dto/algorithm-response.dto';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

/** Fisher's iris data as shipped by scikit-learn (the README's walk-through uses the same file). */
const IRIS_CSV = readFileSync(join(process.cwd(), 'docs', 'examples', 'iris.csv'));
const ENDED = new Set(['completed', 'failed', 'cancelled']);

/** globex has no demo tables: its warehouse is created by its first upload. */
describe('bring your own data through the AI Service and the real ML Service', () => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl(), ML_MAX_DATASET_SIZE_GB: '0.001' });
  });

  afterAll(async () => {
    await app.close();
  });

  function api(): ReturnType<typeof request> {
    return request(app.getHttpServer());
  }

  function upload(content: Buffer, filename: string, fields: Record<string, string>): request.Test {
    let call = api().post('/api/v1/ml/datasets').set('X-API-Key', GLOBEX_KEY);
    for (const [name, value] of Object.entries(fields)) {
      call = call.field(name, value);
    }
    return call.attach('file', content, filename);
  }

  async function trainIris(): Promise<TrainingJobResponseDto> {
    const accepted = await api()
      .post('/api/v1/ml/train')
      .set('X-API-Key', GLOBEX_KEY)
      .set('Idempotency-Key', randomUUID())
      .send({
        name: 'iris-forest',
        algorithm: 'random_forest',
        task_type: 'classification',
        dataset: { source: 'table', table: 'uploads.iris' },
        target_column: 'species',
        split: { strategy: 'stratified', test_size: 0.3, random_state: 7 },
        hyperparameters: { n_estimators: 50 },
      })
      .expect(202);
    const jobId = (accepted.body as TrainingJobResponseDto).job_id;
    const deadline = Date.now() + 150_000;
    for (;;) {
      const job = (await api().get(`/api/v1/ml/train/${jobId}`).set('X-API-Key', GLOBEX_KEY).expect(200)).body as TrainingJobResponseDto;
      if (ENDED.has(job.status) || Date.now() > deadline) {
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  it('uploads iris.csv as uploads.iris, lists and describes it', async () => {
    const created = await upload(IRIS_CSV, 'iris.csv', { table: 'iris', if_exists: 'replace' }).expect(201);
    const table = created.body as DatasetTableResponseDto;
    expect(table).toMatchObject({ qualified_name: 'uploads.iris', uploaded: true, row_count: 150 });
    expect(table.columns.map((column) => [column.name, column.kind])).toEqual([
      ['sepal_length', 'numeric'],
      ['sepal_width', 'numeric'],
      ['petal_length', 'numeric'],
      ['petal_width', 'numeric'],
      ['species', 'categorical'],
    ]);

    const listed = (await api().get('/api/v1/ml/datasets').set('X-API-Key', GLOBEX_KEY).expect(200)).body as DatasetListResponseDto;
    expect(listed.tables.map((entry) => entry.qualified_name)).toContain('uploads.iris');
    const described = await api().get('/api/v1/ml/datasets/uploads.iris').set('X-API-Key', GLOBEX_KEY).expect(200);
    expect(described.body).toEqual({ schema_name: table.schema_name, name: table.name, qualified_name: table.qualified_name, uploaded: true, row_count: 150, columns: table.columns });
    // Another tenant does not see it.
    await api().get('/api/v1/ml/datasets/uploads.iris').set('X-API-Key', 'dev-acme-key').expect(404);
  });

  it('shows the algorithm catalog with the hyperparameters a caller may set', async () => {
    const catalog = (await api().get('/api/v1/ml/train/algorithms').set('X-API-Key', GLOBEX_KEY).expect(200)).body as AlgorithmListResponseDto;
    const forest = catalog.algorithms.find((algorithm) => algorithm.name === 'random_forest');
    expect(forest?.task_types).toContain('classification');
    expect(forest?.hyperparameters.find((parameter) => parameter.name === 'n_estimators')).toMatchObject({ type: 'integer', default: 100 });
  });

  it('trains random_forest on the upload twice with random_state and gets identical metrics', async () => {
    const [first, second] = await Promise.all([trainIris(), trainIris()]);
    expect(first.status).toBe('completed');
    expect(second.status).toBe('completed');
    expect(first.data_summary).toEqual({ total_samples: 150, train_samples: 105, test_samples: 45 });
    expect(second.metrics).toEqual(first.metrics);
    expect(second.feature_importance).toEqual(first.feature_importance);
    expect((first.metrics as { accuracy: number }).accuracy).toBeGreaterThan(0.85);
  }, 200_000);

  it('refuses a malformed CSV with 422 naming file and keeps no table', async () => {
    const response = await upload(Buffer.from('a,b,c\n1,2,3\n4,5\n6,7,8,9\n'), 'ragged.csv', { table: 'ragged' }).expect(422);
    expect(response.body.errors).toEqual([{ field: 'file', message: expect.stringContaining('ragged.csv could not be read as csv') }]);
    await api().get('/api/v1/ml/datasets/uploads.ragged').set('X-API-Key', GLOBEX_KEY).expect(404);
  });

  it('refuses a file over ML_MAX_DATASET_SIZE_GB with 413 naming file', async () => {
    const response = await upload(Buffer.alloc(1024 ** 3 / 1000 + 1, 'a'), 'big.csv', { table: 'big' }).expect(413);
    expect(response.body.errors[0].field).toBe('file');
  });

  it('deletes the uploaded table but not a demo table', async () => {
    await api().delete('/api/v1/ml/datasets/ml_features.customer_churn').set('X-API-Key', 'dev-acme-key').expect(403);
    await upload(Buffer.from('x\n1\n'), 'gone.csv', { table: 'gone', if_exists: 'replace' }).expect(201);
    expect((await api().delete('/api/v1/ml/datasets/gone').set('X-API-Key', GLOBEX_KEY).expect(200)).body).toEqual({ deleted: 'uploads.gone' });
    await api().get('/api/v1/ml/datasets/gone').set('X-API-Key', GLOBEX_KEY).expect(404);
  });
});
