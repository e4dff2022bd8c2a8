import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { ModelVersionResponseDto } from '@app/ml/registry/dto/registry-responses.dto';
import type { BatchPredictionResponseDto } from '@app/ml/serving/dto/batch-prediction.dto';
import type {
  DeploymentResponseDto,
  FeedbackResultDto,
  PredictResponseDto,
  ServingMetricsResponseDto,
} from '@app/ml/serving/dto/serving-responses.dto';
import type { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { seedTrainingConfig } from '@app/ml/training/training.fixtures';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

const ENDED = new Set(['completed', 'failed', 'cancelled']);
const execFileAsync = promisify(execFile);

/** What test/support/kserve_v2_client.py prints. */
interface KserveClientReport {
  server_live: boolean;
  server_ready: boolean;
  server_metadata: { name: string };
  model_ready: boolean;
  version_ready: boolean;
  metadata: { versions: string[]; inputs: { name: string; datatype: string }[] };
  infer: { response: Record<string, unknown>; class: unknown[]; score: number[] };
  pinned: { version: string; outputs: string[] };
  other_tenant: { model_ready: boolean; metadata: { status: string }; infer: { status: string } };
  no_key: { status: string; error: string };
}
const CUSTOMER = { tenure: 3, monthly_charges: 89.5, total_charges: 268.5, contract_type: 'month-to-month' };

/**
 * Issue 5 as a new user would try it, through the AI Service: train and register two small churn
 * models, deploy one, predict, send feedback, read live metrics, split 20 % to the second version,
 * release it blue-green and roll back in one call. One deployment serves every step.
 */
describe('serving through the AI Service and the real ML Service', () => {
  let app: INestApplication<App>;
  const modelName = `churn-serve-e2e-${randomUUID().slice(0, 8)}`;
  const modelId = modelName;
  const versions: string[] = [];

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
  });

  afterAll(async () => {
    await api('delete', `/api/v1/ml/serving/deployments/${modelId}`);
    await app.close();
  });

  function api(method: 'get' | 'post' | 'put' | 'delete', url: string, apiKey = ACME_KEY): request.Test {
    return request(app.getHttpServer())[method](url).set('X-API-Key', apiKey);
  }

  async function trainAndRegister(maxDepth: number): Promise<string> {
    const config: CreateTrainingJobDto = {
      ...seedTrainingConfig(),
      name: `${modelName}-${maxDepth}`,
      feature_columns: ['tenure', 'monthly_charges', 'total_charges', 'contract_type'],
      hyperparameters: { n_estimators: 20, max_depth: maxDepth },
    };
    const accepted = await api('post', '/api/v1/ml/train').set('Idempotency-Key', randomUUID()).send(config).expect(202);
    const jobId = (accepted.body as TrainingJobResponseDto).job_id;
    const deadline = Date.now() + 240_000;
    let job: TrainingJobResponseDto;
    for (;;) {
      job = (await api('get', `/api/v1/ml/train/${jobId}`).expect(200)).body as TrainingJobResponseDto;
      if (ENDED.has(job.status) || Date.now() > deadline) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(job.status).toBe('completed');
    const registered = await api('post', `/api/v1/ml/registry/models/${modelName}/versions`).send({ job_id: jobId }).expect(201);
    return (registered.body as ModelVersionResponseDto).version;
  }

  async function waitHealthy(): Promise<DeploymentResponseDto> {
    const deadline = Date.now() + 240_000;
    for (;;) {
      const deployment = (await api('get', `/api/v1/ml/serving/deployments/${modelId}`).expect(200)).body as DeploymentResponseDto;
      if (deployment.status !== 'deploying' || Date.now() > deadline) {
        return deployment;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  function predict(body: unknown, key?: string): request.Test {
    const call = api('post', `/api/v1/ml/serving/${modelId}/predict`);
    return (key === undefined ? call : call.set('X-Request-Key', key)).send(body as object);
  }

  it('trains and registers two versions, deploys the first and waits until it is healthy', async () => {
    versions.push(...(await Promise.all([trainAndRegister(2), trainAndRegister(4)])));
    const accepted = await api('post', '/api/v1/ml/serving/deployments')
      .send({ model_name: modelName, version: Number(versions[0]), model_id: modelId })
      .expect(202);
    expect((accepted.body as DeploymentResponseDto).status).toBe('deploying');
    const deployment = await waitHealthy();
    expect(deployment.status).toBe('healthy');
    expect(deployment.inputs.map((field) => field.name).sort()).toEqual(Object.keys(CUSTOMER).sort());
  });

  it('predicts one record and instances, and names each bad field with 422', async () => {
    const answered = await predict(CUSTOMER).expect(200);
    const single = answered.body as PredictResponseDto;
    expect(single.version).toBe(versions[0]);
    // straight from the replica (Ray Serve's direct ingress), which always times its own part
    expect(answered.headers['server-timing']).toMatch(/^check;dur=[\d.]+, compute;dur=[\d.]+, replica;dur=[\d.]+, ml_call;dur=[\d.]+$/);
    expect(single.predictions).toHaveLength(1);
    expect([0, 1]).toContain(single.predictions[0].class);
    expect(single.predictions[0].score).toBeGreaterThanOrEqual(0.5);

    const many = (await predict({ instances: [CUSTOMER, { ...CUSTOMER, tenure: 60, contract_type: 'two-year' }] }).expect(200)).body as PredictResponseDto;
    expect(many.predictions).toHaveLength(2);

    const bad = await predict({ instances: [{ monthly_charges: 'lots', total_charges: 1, contract_type: 'two-year', colour: 'red' }] }).expect(422);
    const fields = (bad.body as { errors: { field: string; message: string }[] }).errors.map((error) => `${error.field}: ${error.message}`);
    expect(fields.sort()).toEqual(['instances.0.colour: not a feature of the model', 'instances.0.monthly_charges: must be a number', 'instances.0.tenure: missing']);

    // As Python's json writes them (requests.post(json=...)): the same 422 as the ML Service's own.
    const nonFinite = await api('post', `/api/v1/ml/serving/${modelId}/predict`)
      .set('Content-Type', 'application/json')
      .send('{"instances": [{"tenure": NaN, "monthly_charges": Infinity, "total_charges": -1e400, "contract_type": "two-year"}]}')
      .expect(422);
    expect((nonFinite.body as { errors: { field: string }[] }).errors.map((error) => error.field).sort()).toEqual([
      'instances.0.monthly_charges',
      'instances.0.tenure',
      'instances.0.total_charges',
    ]);
  });

  it('answers a stock KServe v2 client (tritonclient) with an API key: live, ready, metadata, infer; 404 for another tenant', async () => {
    const server = app.getHttpServer() as unknown as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const records = [CUSTOMER, { ...CUSTOMER, tenure: 60, contract_type: 'two-year' }];
    const python = path.join(process.cwd(), 'ml-service', '.venv', 'bin', 'python');
    const script = path.join(process.cwd(), 'test', 'support', 'kserve_v2_client.py');
    const { stdout } = await execFileAsync(python, [script, `127.0.0.1:${port}/api/v1/ml/serving`, ACME_KEY, GLOBEX_KEY, modelId, JSON.stringify(records)], {
      timeout: 120_000,
    });
    const answered = JSON.parse(stdout) as KserveClientReport;
    expect(answered).toMatchObject({ server_live: true, server_ready: true, model_ready: true, version_ready: true });
    expect(answered.server_metadata.name).toBe('ml-service');
    expect(answered.metadata.versions).toEqual([versions[0]]);
    expect(Object.fromEntries(answered.metadata.inputs.map((tensor) => [tensor.name, tensor.datatype]))).toEqual({
      tenure: 'FP64',
      monthly_charges: 'FP64',
      total_charges: 'FP64',
      contract_type: 'BYTES',
    });
    expect(answered.infer.response).toMatchObject({ model_name: modelId, model_version: versions[0], id: 'e2e-1' });
    // the same predictions as the seed's predict shape gives for the same records
    const viaPredict = (await predict({ instances: records }).expect(200)).body as PredictResponseDto;
    expect(answered.infer.class).toEqual(viaPredict.predictions.map((prediction) => prediction.class));
    answered.infer.score.forEach((score, index) => expect(score).toBeCloseTo(viaPredict.predictions[index].score as number, 6));
    expect(answered.pinned).toEqual({ version: versions[0], outputs: ['score'] });
    expect(answered.other_tenant.model_ready).toBe(false);
    expect(answered.other_tenant.metadata.status).toBe('404');
    expect(answered.other_tenant.infer.status).toBe('404');
    expect(answered.no_key.status).toBe('401');
    expect(answered.no_key.error).toMatch(/API key/i);
  });

  it('scores a table in a batch through the AI Service, for the caller only', async () => {
    const outputTable = `scores_${randomUUID().slice(0, 8).replace(/-/g, '')}`;
    const body = { model_id: modelId, dataset: { source: 'sql', query: 'SELECT * FROM ml_features.customer_churn LIMIT 1500' }, output_table: outputTable };
    const unreadable = await api('post', '/api/v1/ml/serving/batch').send({ ...body, dataset: { source: 'sql', query: 'SELECT nope FROM ml_features.customer_churn' } }).expect(422);
    expect((unreadable.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['dataset.query']);
    const both = await api('post', '/api/v1/ml/serving/batch').send({ ...body, model_name: modelName, version: 1 }).expect(400);
    expect((both.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['model_name']);
    await api('post', '/api/v1/ml/serving/batch', GLOBEX_KEY).send(body).expect(404);

    const accepted = (await api('post', '/api/v1/ml/serving/batch').send(body).expect(202)).body as BatchPredictionResponseDto;
    expect(accepted.output_table).toBe(`predictions.${outputTable}`);
    const deadline = Date.now() + 120_000;
    let batch = accepted;
    while (!ENDED.has(batch.status) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      batch = (await api('get', `/api/v1/ml/serving/batch/${accepted.batch_id}`).expect(200)).body as BatchPredictionResponseDto;
    }
    expect(batch).toMatchObject({ status: 'completed', rows_total: 1500, rows_done: 1500, prediction_columns: ['predicted_class', 'score'] });
    await api('get', `/api/v1/ml/serving/batch/${accepted.batch_id}`, GLOBEX_KEY).expect(404);
    await api('delete', `/api/v1/ml/serving/batch/${accepted.batch_id}`).expect(409);
    const table = (await api('get', `/api/v1/ml/datasets/predictions.${outputTable}`).expect(200)).body as { row_count: number; columns: { name: string }[] };
    expect(table.row_count).toBe(1500);
    expect(table.columns.map((column) => column.name)).toEqual(expect.arrayContaining(['tenure', 'churned', 'predicted_class', 'score']));
  });

  it('predicts the 10,000 records a request may carry, and refuses one more naming instances', async () => {
    const full = (await predict({ instances: Array.from({ length: 10_000 }, (_, index) => ({ ...CUSTOMER, tenure: index % 72 })) }).expect(200)).body as PredictResponseDto;
    expect(full.predictions).toHaveLength(10_000);
    const over = await predict({ instances: Array.from({ length: 10_001 }, () => CUSTOMER) }).expect(422);
    expect((over.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['instances']);
  }, 120_000);

  it('turns feedback into live accuracy and latency metrics', async () => {
    const records = Array.from({ length: 10 }, (_, index) => ({ ...CUSTOMER, tenure: index * 6 + 1 }));
    const answered = (await predict({ instances: records }).expect(200)).body as PredictResponseDto;
    const feedback = answered.predictions.map((prediction, index) => ({
      prediction_id: prediction.prediction_id,
      actual: index < 8 ? prediction.class : 1 - (prediction.class as number),
    }));
    const recorded = (await api('post', `/api/v1/ml/serving/${modelId}/feedback`).send(feedback).expect(200)).body as FeedbackResultDto;
    expect(recorded).toEqual({ recorded: 10, unknown_prediction_ids: [] });
    const metrics = (await api('get', `/api/v1/ml/serving/${modelId}/metrics?window=1h`).expect(200)).body as ServingMetricsResponseDto;
    const [variant] = metrics.variants;
    expect(variant.version).toBe(versions[0]);
    expect(variant.feedback_count).toBe(10);
    expect(variant.accuracy).toBeCloseTo(0.8);
    expect(variant.latency_ms.p50).toBeGreaterThan(0);
    await api('get', `/api/v1/ml/serving/${modelId}/metrics?window=soon`).expect(400);
  });

  it('sends 20 % to the second version, which shows in per-variant metrics', async () => {
    const split = await api('put', `/api/v1/ml/serving/${modelId}/traffic`)
      .send({ variants: [{ version: Number(versions[0]), weight: 80 }, { version: Number(versions[1]), weight: 20 }] })
      .expect(200);
    expect((split.body as DeploymentResponseDto).variants.map((variant) => [variant.version, variant.weight])).toEqual([
      [versions[0], 80],
      [versions[1], 20],
    ]);
    // a split goes through the ML Service (its Server-Timing is off here), never to one replica
    const routed = await predict(CUSTOMER).expect(200);
    expect(routed.headers['server-timing']).toBeUndefined();
    const answeredBy: Record<string, number> = {};
    for (let index = 0; index < 200; index += 1) {
      const version = ((await predict(CUSTOMER, `customer-${index}`).expect(200)).body as PredictResponseDto).version;
      answeredBy[version] = (answeredBy[version] ?? 0) + 1;
    }
    expect(answeredBy[versions[1]] / 200).toBeGreaterThan(0.1);
    expect(answeredBy[versions[1]] / 200).toBeLessThan(0.3);
    const sticky = new Set<string>();
    for (let index = 0; index < 5; index += 1) {
      sticky.add(((await predict(CUSTOMER, 'customer-42').expect(200)).body as PredictResponseDto).version);
    }
    expect(sticky.size).toBe(1);
    const metrics = (await api('get', `/api/v1/ml/serving/${modelId}/metrics`).expect(200)).body as ServingMetricsResponseDto;
    expect(metrics.variants.map((variant) => variant.version).sort()).toEqual([...versions].sort());
  });

  it('releases the second version blue-green and rolls back in one call', async () => {
    const released = (await api('post', `/api/v1/ml/serving/${modelId}/release`).send({ version: Number(versions[1]) }).expect(200)).body as DeploymentResponseDto;
    expect(released.variants.map((variant) => [variant.version, variant.weight])).toEqual([[versions[1], 100]]);
    expect(((await predict(CUSTOMER).expect(200)).body as PredictResponseDto).version).toBe(versions[1]);
    const rolledBack = (await api('post', `/api/v1/ml/serving/${modelId}/rollback`).expect(200)).body as DeploymentResponseDto;
    expect(rolledBack.variants.map((variant) => [variant.version, variant.weight])).toEqual([
      [versions[0], 80],
      [versions[1], 20],
    ]);
  });

  it('is invisible to another tenant', async () => {
    await api('get', `/api/v1/ml/serving/deployments/${modelId}`, GLOBEX_KEY).expect(404);
    await api('post', `/api/v1/ml/serving/${modelId}/predict`, GLOBEX_KEY).send(CUSTOMER).expect(404);
  });

  it('serves the same version embedded in the ML Service with the same predictions', async () => {
    const embeddedId = `${modelId}-embedded`;
    const served = (await predict(CUSTOMER, 'customer-7').expect(200)).body as PredictResponseDto;
    await api('post', '/api/v1/ml/serving/deployments')
      .send({ model_name: modelName, version: Number(served.version), model_id: embeddedId, runtime: 'embedded', replicas: 3 })
      .expect(422);
    await api('post', '/api/v1/ml/serving/deployments').send({ model_name: modelName, version: Number(served.version), model_id: embeddedId, runtime: 'bare-metal' }).expect(400);
    await api('post', '/api/v1/ml/serving/deployments')
      .send({ model_name: modelName, version: Number(served.version), model_id: embeddedId, runtime: 'embedded' })
      .expect(202);
    try {
      let deployment: DeploymentResponseDto;
      const deadline = Date.now() + 60_000;
      do {
        await new Promise((resolve) => setTimeout(resolve, 200));
        deployment = (await api('get', `/api/v1/ml/serving/deployments/${embeddedId}`).expect(200)).body as DeploymentResponseDto;
      } while (deployment.status === 'deploying' && Date.now() < deadline);
      expect(deployment).toMatchObject({ status: 'healthy', runtime: 'embedded' });
      const embedded = (await api('post', `/api/v1/ml/serving/${embeddedId}/predict`).send(CUSTOMER).expect(200)).body as PredictResponseDto;
      expect(embedded.version).toBe(served.version);
      expect(embedded.predictions[0].class).toBe(served.predictions[0].class);
      expect(embedded.predictions[0].score).toBeCloseTo(served.predictions[0].score as number, 6);
    } finally {
      await api('delete', `/api/v1/ml/serving/deployments/${embeddedId}`);
    }
  });
});
