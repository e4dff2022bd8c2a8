import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { seedTrainingConfig } from '@app/ml/training/training.fixtures';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';
import { follow } from '@test/support/progress-stream';

describe('training progress over WebSocket, through the AI Service and the real ML Service', () => {
  let app: INestApplication<App>;
  let progressUrl: string;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as unknown as Server).address() as AddressInfo;
    progressUrl = `ws://127.0.0.1:${port}/api/v1/ml/train/progress`;
  });

  afterAll(async () => {
    await app.close();
  });

  it('streams the progress and the completed job of an XGBoost training, then closes', async () => {
    const accepted = await request(app.getHttpServer())
      .post('/api/v1/ml/train')
      .set('X-API-Key', ACME_KEY)
      .set('Idempotency-Key', randomUUID())
      .send({ ...seedTrainingConfig(), name: 'progress-stream', hyperparameters: { n_estimators: 40, max_depth: 4 } })
      .expect(202);
    const jobId = (accepted.body as TrainingJobResponseDto).job_id;

    // The browser way: the key as a query parameter.
    const { messages, code } = await follow(`${progressUrl}?job_id=${jobId}&api_key=${ACME_KEY}`);

    const progress = messages.filter((message) => message.event === 'progress').map((message) => message.data.progress as Record<string, number>);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.at(-1)).toMatchObject({ total_iterations: 40 });
    expect(progress.at(-1)!.estimated_remaining_seconds).toEqual(expect.any(Number));
    const last = messages.at(-1)!;
    expect(last.event).toBe('end');
    expect(last.data.job).toMatchObject({ job_id: jobId, status: 'completed', model_artifact_id: expect.any(String) });
    expect(code).toBe(1000);

    // Polling shows the same latest progress, estimate included.
    const polled = await request(app.getHttpServer()).get(`/api/v1/ml/train/${jobId}`).set('X-API-Key', ACME_KEY).expect(200);
    expect((polled.body as TrainingJobResponseDto).progress).toMatchObject({ iteration: 40, total_iterations: 40, estimated_remaining_seconds: 0 });

    // Another tenant learns nothing about the job.
    const foreign = await follow(`${progressUrl}?job_id=${jobId}`, { 'X-API-Key': GLOBEX_KEY });
    expect(foreign.messages).toEqual([{ event: 'error', data: { status: 404, message: `training job ${jobId} does not exist` } }]);
    expect(foreign.code).toBe(4404);
  }, 240_000);

  it("shows a training job's and a batch prediction's progress on the one jobs gateway", async () => {
    const jobsUrl = progressUrl.replace('/train/progress', '/jobs/progress');
    const accepted = await request(app.getHttpServer())
      .post('/api/v1/ml/train')
      .set('X-API-Key', ACME_KEY)
      .set('Idempotency-Key', randomUUID())
      .send({ ...seedTrainingConfig(), name: 'jobs-gateway', hyperparameters: { n_estimators: 30, max_depth: 3 } })
      .expect(202);
    const jobId = (accepted.body as TrainingJobResponseDto).job_id;

    const training = await follow(`${jobsUrl}?job_id=${jobId}&api_key=${ACME_KEY}`);
    expect(training.messages.some((message) => message.event === 'progress' && message.data.kind === 'training')).toBe(true);
    expect(training.messages.at(-1)).toMatchObject({ event: 'end', data: { kind: 'training', job: { job_id: jobId, status: 'completed' } } });
    expect(training.code).toBe(1000);

    // The trained model, registered, predicts a whole table as a batch job (the ML Service's batch API).
    const modelName = `gateway-${randomUUID().slice(0, 8)}`;
    await request(app.getHttpServer()).post(`/api/v1/ml/registry/models/${modelName}/versions`).set('X-API-Key', ACME_KEY).send({ job_id: jobId }).expect(201);
    const batchResponse = await fetch(`${mlServiceUrl()}/api/v1/serving/batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Tenant-ID': 'acme-corp', Authorization: `Bearer ${process.env.ML_SERVICE_TOKEN ?? ''}` },
      body: JSON.stringify({
        model_name: modelName,
        version: 1,
        dataset: { source: 'sql', query: 'SELECT c.* FROM ml_features.customer_churn c, range(4)' },
        output_table: 'gateway_scores',
        chunk_rows: 1000,
      }),
    });
    expect(batchResponse.status).toBe(202);
    const batchId = ((await batchResponse.json()) as { batch_id: string }).batch_id;

    const batch = await follow(`${jobsUrl}?job_id=${batchId}&api_key=${ACME_KEY}`);
    const batchProgress = batch.messages.filter((message) => message.event === 'progress' && message.data.kind === 'batch_prediction');
    expect(batchProgress.length).toBeGreaterThanOrEqual(1);
    expect(batchProgress.at(-1)!.data.progress).toMatchObject({ rows_total: 20000 });
    const end = batch.messages.at(-1)!;
    expect(end).toMatchObject({ event: 'end', data: { kind: 'batch_prediction', job: { job_id: batchId, status: 'completed' } } });
    expect((end.data.progress as Record<string, number>).rows_done).toBe(20000);
    expect(batch.code).toBe(1000);
    const polled = await request(app.getHttpServer()).get(`/api/v1/ml/jobs/${batchId}`).set('X-API-Key', ACME_KEY).expect(200);
    expect(polled.body).toMatchObject({ kind: 'batch_prediction', status: 'completed', progress: { rows_done: 20000, rows_total: 20000 } });
  }, 480_000);

  it('refuses a bad key with an error message and close code 4401', async () => {
    const { messages, code } = await follow(`${progressUrl}?job_id=train-0123456789ab`, { 'X-API-Key': 'not-a-key' });
    expect(messages).toEqual([{ event: 'error', data: { status: 401, message: expect.stringContaining('API key') } }]);
    expect(code).toBe(4401);
  });

  describe("seed 001's resource limits, end to end", () => {
    /** globex has no demo tables: rows generated by the query itself. */
    const generated = {
      ...seedTrainingConfig(),
      dataset: { source: 'sql' as const, query: 'SELECT i AS tenure, i * 1.5 AS monthly_charges, i * 3.0 AS total_charges, (i % 2) AS churned FROM range(500) t(i)' },
      split: { strategy: 'random' as const, test_size: 0.2, random_state: 42 },
    };

    function submit(apiKey: string, resources: Record<string, number>): request.Test {
      return request(app.getHttpServer())
        .post('/api/v1/ml/train')
        .set('X-API-Key', apiKey)
        .set('Idempotency-Key', randomUUID())
        .send({ ...generated, resources });
    }

    it('refuses more CPUs than the 2-CPU test cluster has, naming the field', async () => {
      const response = await submit(ACME_KEY, { cpus: 3 }).expect(422);
      expect(response.body).toMatchObject({
        errors: [{ field: 'resources.cpus', message: '3 CPUs requested, but the cluster has 2 CPUs; the job could never start' }],
      });
    });

    it("applies the tenant's MLS_TENANT_LIMITS entry of the ML Service (test/ml-service.global-setup.cjs)", async () => {
      const response = await submit(GLOBEX_KEY, { cpus: 2 }).expect(422);
      expect(response.body).toMatchObject({
        errors: [{ field: 'resources.cpus', message: "2 CPUs requested, over the tenant's limit of 1 CPU per job (MLS_MAX_CPU_PER_JOB)" }],
      });
    });
  });
});
