import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { seedTrainingConfig } from '@app/ml/training/training.fixtures';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

const ENDED = new Set(['completed', 'failed', 'cancelled']);

/** Only acme-corp has the demo tables; another tenant trains on rows generated in its own query. */
const GENERATED_ROWS = {
  source: 'sql' as const,
  query: 'SELECT i AS tenure, i * 1.5 AS monthly_charges, i * 3.0 AS total_charges, (i % 2) AS churned FROM range(2000) t(i)',
};

/** Long enough to still be running while the quota and cancellation are tested. */
function slowJob(name: string): CreateTrainingJobDto {
  return {
    ...seedTrainingConfig(),
    name,
    dataset: { source: 'table', table: 'ml_features.customer_churn' },
    hyperparameters: { n_estimators: 3000, max_depth: 12, learning_rate: 0.01 },
  };
}

describe('training through the AI Service and the real ML Service', () => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
  });

  afterAll(async () => {
    await app.close();
  });

  function submit(config: unknown, apiKey = ACME_KEY, idempotencyKey = randomUUID()): request.Test {
    return request(app.getHttpServer()).post('/api/v1/ml/train').set('X-API-Key', apiKey).set('Idempotency-Key', idempotencyKey).send(config as object);
  }

  async function getJob(jobId: string, apiKey = ACME_KEY): Promise<TrainingJobResponseDto> {
    const response = await request(app.getHttpServer()).get(`/api/v1/ml/train/${jobId}`).set('X-API-Key', apiKey).expect(200);
    return response.body as TrainingJobResponseDto;
  }

  async function waitForEnd(jobId: string, timeoutMs: number, apiKey = ACME_KEY): Promise<TrainingJobResponseDto> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await getJob(jobId, apiKey);
      if (ENDED.has(job.status) || Date.now() > deadline) {
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  it("trains seed 001's request verbatim to completion with a consistent result", async () => {
    const accepted = await submit(seedTrainingConfig()).expect(202);
    const submitted = accepted.body as TrainingJobResponseDto;
    expect(submitted.job_id).toMatch(/^train-[0-9a-f]{12}$/);
    expect(['queued', 'running']).toContain(submitted.status);

    // 90 s for 100 trees on 5,000 rows, Ray's first task on a cold ML Service included.
    const job = await waitForEnd(submitted.job_id, 180_000);

    expect(job.status).toBe('completed');
    const summary = job.data_summary!;
    expect(summary.train_samples + summary.test_samples).toBe(summary.total_samples);
    const matrix = (job.metrics as { confusion_matrix: number[][] }).confusion_matrix;
    expect(matrix.flat().reduce((sum, cell) => sum + cell, 0)).toBe(summary.test_samples);
    expect(Object.keys(job.feature_importance!).sort()).toEqual(['monthly_charges', 'tenure', 'total_charges']);
    expect(job.model_artifact_id).toEqual(expect.any(String));

    const listed = await request(app.getHttpServer()).get('/api/v1/ml/train?tenant_id=acme-corp&status=completed').set('X-API-Key', ACME_KEY).expect(200);
    expect((listed.body as { jobs: TrainingJobResponseDto[] }).jobs.map((listedJob) => listedJob.job_id)).toContain(submitted.job_id);

    // The charts logged with the run: listed, and confusion_matrix as a PNG and as its Vega-Lite spec.
    const charts = await request(app.getHttpServer()).get(`/api/v1/ml/train/${submitted.job_id}/charts`).set('X-API-Key', ACME_KEY).expect(200);
    expect((charts.body as { charts: { name: string }[] }).charts.map((chart) => chart.name)).toEqual(
      expect.arrayContaining(['confusion_matrix', 'roc_curve', 'precision_recall', 'feature_importance']),
    );
    const chartPath = `/api/v1/ml/train/${submitted.job_id}/charts/confusion_matrix`;
    const png = await request(app.getHttpServer()).get(chartPath).set('X-API-Key', ACME_KEY).set('Accept', 'image/png').expect(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(Buffer.from(png.body as Buffer).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const spec = await request(app.getHttpServer()).get(chartPath).set('X-API-Key', ACME_KEY).set('Accept', 'application/json').expect(200);
    expect(spec.headers['content-type']).toMatch(/^application\/json/);
    expect((spec.body as { title: { text: string } }).title.text).toBe('Confusion matrix');
  }, 240_000);

  it.each<[string, Partial<CreateTrainingJobDto>, number, string]>([
    ['an unknown target column', { target_column: 'churn' }, 422, 'target_column'],
    ['an unknown feature column', { feature_columns: ['tenure', 'monthly_charge'] }, 422, 'feature_columns[1]'],
    ['a continuous target for classification', { target_column: 'monthly_charges', feature_columns: ['tenure'] }, 422, 'target_column'],
    [
      'a non-numeric target for regression',
      { task_type: 'regression', target_column: 'contract_type', feature_columns: ['tenure'], split: { strategy: 'random', test_size: 0.2 } },
      422,
      'target_column',
    ],
    ['a task the algorithm does not support', { algorithm: 'prophet', hyperparameters: {} }, 422, 'task_type'],
    ['forecasting without its fields', { task_type: 'forecasting', algorithm: 'arima', feature_columns: undefined, target_column: 'total_charges', split: { strategy: 'random', test_size: 0.2 }, hyperparameters: {} }, 422, 'time_column'],
    ['test_size out of range', { split: { strategy: 'stratified', test_size: 1.5 } }, 400, 'split.test_size'],
    ['an out-of-range hyperparameter', { hyperparameters: { max_depth: 1000 } }, 422, 'hyperparameters.max_depth'],
    ['an unknown hyperparameter', { hyperparameters: { max_leaves: 8 } }, 422, 'hyperparameters.max_leaves'],
  ])('refuses %s, naming the field', async (_case, change, status, field) => {
    const response = await submit({ ...seedTrainingConfig(), ...change }).expect(status);
    const body = response.body as { message: string; errors: { field: string }[] };
    expect(body.errors.map((error) => error.field)).toContain(field);
    expect(body.message).toContain(field);
  });

  it('trains the documented logistic alias with split and hyperparameters left out', async () => {
    const { split: _split, hyperparameters: _hyperparameters, ...rest } = seedTrainingConfig();
    const accepted = await submit({ ...rest, name: 'logistic-defaults', algorithm: 'logistic' }).expect(202);
    const jobId = (accepted.body as TrainingJobResponseDto).job_id;
    const job = await waitForEnd(jobId, 240_000);
    if (!ENDED.has(job.status)) {
      // Never left active: the quota test below counts this tenant's active jobs.
      await request(app.getHttpServer()).delete(`/api/v1/ml/train/${jobId}`).set('X-API-Key', ACME_KEY);
    }
    expect(job).toMatchObject({ status: 'completed', algorithm: 'linear' });
    expect(job.data_summary).toMatchObject({ total_samples: 5000, test_samples: 1000 });
  }, 270_000);

  it('lists every problem of a refused config, named as this API names fields', async () => {
    const response = await submit({ ...seedTrainingConfig(), target_column: 'churn', feature_columns: ['tenure', 'nope'], hyperparameters: { max_depth: 99 } }).expect(422);
    const body = response.body as { errors: { field: string }[] };
    expect(body.errors.map((error) => error.field)).toEqual(['hyperparameters.max_depth', 'target_column']);
    const features = await submit({ ...seedTrainingConfig(), feature_columns: ['tenure', 'nope', 'churned'] }).expect(422);
    expect((features.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['feature_columns[1]', 'feature_columns[2]']);
  });

  it('keeps tenants apart', async () => {
    await request(app.getHttpServer()).get('/api/v1/ml/train').expect(401);
    const listForGlobex = await request(app.getHttpServer()).get('/api/v1/ml/train?tenant_id=globex').set('X-API-Key', ACME_KEY).expect(403);
    expect(listForGlobex.body.message).toContain('tenant_id');
    await submit({ ...seedTrainingConfig(), dataset: { ...seedTrainingConfig().dataset, tenant_id: 'globex' } }).expect(403);

    const acmeJobs = await request(app.getHttpServer()).get('/api/v1/ml/train').set('X-API-Key', ACME_KEY).expect(200);
    const acmeJobId = (acmeJobs.body as { jobs: TrainingJobResponseDto[] }).jobs[0].job_id;
    await request(app.getHttpServer()).get(`/api/v1/ml/train/${acmeJobId}`).set('X-API-Key', GLOBEX_KEY).expect(404);
    await request(app.getHttpServer()).delete(`/api/v1/ml/train/${acmeJobId}`).set('X-API-Key', GLOBEX_KEY).expect(404);
  });

  it('returns the same job for a repeated Idempotency-Key', async () => {
    const key = randomUUID();
    const first = await submit(slowJob('idempotent'), ACME_KEY, key).expect(202);
    const again = await submit(slowJob('idempotent'), ACME_KEY, key).expect(202);
    expect((again.body as TrainingJobResponseDto).job_id).toBe((first.body as TrainingJobResponseDto).job_id);
    await request(app.getHttpServer()).delete(`/api/v1/ml/train/${(first.body as TrainingJobResponseDto).job_id}`).set('X-API-Key', ACME_KEY).expect(200);
    expect((await waitForEnd((first.body as TrainingJobResponseDto).job_id, 30_000)).status).toBe('cancelled');
  }, 60_000);

  it('enforces the per-tenant job limit, leaves other tenants alone, and cancels', async () => {
    const accepted: { jobId: string; apiKey: string }[] = [];
    try {
      const responses = await Promise.all(Array.from({ length: 6 }, (_unused, index) => submit(slowJob(`slow-${index}`))));
      for (const response of responses.filter((candidate) => candidate.status === 202)) {
        accepted.push({ jobId: (response.body as TrainingJobResponseDto).job_id, apiKey: ACME_KEY });
      }
      expect(responses.map((response) => response.status).sort()).toEqual([202, 202, 202, 202, 202, 429]);
      const refused = responses.find((response) => response.status === 429);
      expect(refused?.body.message).toEqual(expect.any(String));

      const globex = await submit({ ...slowJob('globex-slow'), dataset: GENERATED_ROWS }, GLOBEX_KEY).expect(202);
      accepted.push({ jobId: (globex.body as TrainingJobResponseDto).job_id, apiKey: GLOBEX_KEY });
    } finally {
      // Cancelled even when an assertion failed, so no slow job outlives the test and skews the next run.
      for (const { jobId, apiKey } of accepted) {
        await request(app.getHttpServer()).delete(`/api/v1/ml/train/${jobId}`).set('X-API-Key', apiKey);
      }
    }
    for (const { jobId, apiKey } of accepted) {
      expect((await waitForEnd(jobId, 30_000, apiKey)).status).toBe('cancelled');
    }
  }, 240_000);
});
