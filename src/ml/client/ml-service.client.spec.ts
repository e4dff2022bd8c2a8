import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { failureOf } from '@test/support/http-failure';
import { MLServiceClient, type MlCallContext } from '@app/ml/client/ml-service.client';
import type { TrainingSubmission } from '@app/ml/client/ml-service.types';
import { ML_MODULE_DEFAULTS, type ResolvedMlModuleOptions } from '@app/ml/ml-module-options';
import { closedPortUrl, LoopbackServer, sendJson, startLoopbackServer } from '@test/support/loopback-server';

const caller: MlCallContext = { tenantId: 'acme-corp', requestId: 'req-123' };

const submission: TrainingSubmission = {
  name: 'churn',
  algorithm: 'xgboost',
  task_type: 'classification',
  dataset: { source: 'table', table: 'ml_features.customer_churn' },
  target_column: 'churned',
  split: { strategy: 'random', test_size: 0.2 },
  hyperparameters: {},
};

const JOB = { job_id: 'train-0123456789ab', name: 'churn', algorithm: 'xgboost', task_type: 'classification', status: 'queued', progress: 0, created_at: '2026-01-01T00:00:00Z' };

let httpService: HttpService;

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({ imports: [HttpModule] }).compile();
  httpService = moduleRef.get(HttpService);
});

function clientFor(url: string, overrides: Partial<ResolvedMlModuleOptions> = {}): MLServiceClient {
  return new MLServiceClient(httpService, {
    ...ML_MODULE_DEFAULTS,
    mlServiceUrl: url,
    timeoutMs: 300,
    maxAttempts: 3,
    retryBaseDelayMs: 10,
    ...overrides,
  });
}

describe('MLServiceClient against a real loopback server', () => {
  let server: LoopbackServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('gives up on a slow server with 504 after one deadline, without a second copy of the work', async () => {
    server = await startLoopbackServer(() => {
      /* never answers */
    });
    const started = Date.now();

    const error = await failureOf(clientFor(server.url, { timeoutMs: 300 }).getTrainingJob(caller, 'train-0123456789ab'));

    expect(error.getStatus()).toBe(504);
    expect(error.message).toBe('ML Service did not answer within 0.3 s');
    expect(server.requests).toHaveLength(1);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(1500);
    // The timed-out attempt closed its socket instead of leaving it to hang.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requests.every((request) => request.abandoned)).toBe(true);
  });

  it("does not retry the ML Service's 504 for a query over its time limit, and passes its reason on", async () => {
    const detail = 'query: the statement was stopped after 20 s, the time limit of warehouse work (MLS_QUERY_TIMEOUT_SECONDS)';
    server = await startLoopbackServer((_request, response) => sendJson(response, 504, { detail, errors: [{ field: 'query', message: detail }] }));

    const error = await failureOf(clientFor(server.url).getDatasetSchema(caller, { source: 'sql', query: 'SELECT 1' }));

    expect(error.getStatus()).toBe(504);
    expect(error.message).toBe(detail);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a server that drops the connection, then answers 503 naming the reason (not the internal address)', async () => {
    server = await startLoopbackServer((request) => request.socket.destroy());

    const error = await failureOf(clientFor(server.url).listAlgorithms(caller));

    expect(error.getStatus()).toBe(503);
    expect(error.message).toBe(`ML Service unreachable: socket hang up`);
    expect(server.requests).toHaveLength(3);
  });

  it('answers 503 with ECONNREFUSED when nothing listens', async () => {
    const url = await closedPortUrl();

    const error = await failureOf(clientFor(url).listAlgorithms(caller));

    expect(error.getStatus()).toBe(503);
    expect(error.message).toBe(`ML Service unreachable: ECONNREFUSED`);
  });

  it('succeeds on the second attempt after a 503', async () => {
    server = await startLoopbackServer((_request, response, number) =>
      number === 1 ? sendJson(response, 503, { detail: 'warming up' }) : sendJson(response, 200, JOB),
    );

    await expect(clientFor(server.url).getTrainingJob(caller, JOB.job_id)).resolves.toEqual(JOB);
    expect(server.requests).toHaveLength(2);
  });

  it('waits as long as Retry-After asks after a 429, then succeeds', async () => {
    server = await startLoopbackServer((_request, response, number) =>
      number === 1 ? sendJson(response, 429, { detail: 'slow down' }, { 'retry-after': '1' }) : sendJson(response, 200, [JOB]),
    );
    const started = Date.now();

    await expect(clientFor(server.url).listTrainingJobs(caller, {})).resolves.toEqual([JOB]);

    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('passes a 429 on at once when Retry-After asks for longer than it would ever wait', async () => {
    server = await startLoopbackServer((_request, response) =>
      sendJson(response, 429, { detail: 'tenant acme-corp already has 5 active jobs' }, { 'retry-after': '30' }),
    );

    const error = await failureOf(clientFor(server.url, { retryMaxDelayMs: 1000 }).listTrainingJobs(caller, {}));

    expect(error.getStatus()).toBe(429);
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry a POST that has no Idempotency-Key', async () => {
    server = await startLoopbackServer((_request, response) => sendJson(response, 503, { detail: 'busy' }));

    const error = await failureOf(
      clientFor(server.url).request({ method: 'POST', path: '/api/v1/anything', context: caller, body: {} }),
    );

    expect(error.getStatus()).toBe(502);
    expect(error.message).toBe('ML Service failed: busy');
    expect(server.requests).toHaveLength(1);
  });

  it('reuses the idempotency key on every attempt and sends the service token, tenant and request id each time', async () => {
    server = await startLoopbackServer((_request, response, number) =>
      number < 3 ? sendJson(response, 502, { detail: 'bad gateway' }) : sendJson(response, 202, JOB),
    );

    await expect(clientFor(server.url, { serviceToken: 'the-shared-service-token' }).submitTrainingJob(caller, submission, 'key-1')).resolves.toEqual(JOB);

    expect(server.requests).toHaveLength(3);
    for (const request of server.requests) {
      expect(request.headers.authorization).toBe('Bearer the-shared-service-token');
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/api/v1/training/submit');
      expect(request.headers['idempotency-key']).toBe('key-1');
      expect(request.headers['x-tenant-id']).toBe('acme-corp');
      expect(request.headers['x-request-id']).toBe('req-123');
      expect(JSON.parse(request.body)).toEqual(submission);
    }
  });

  it('passes a 422 through with the ML Service message and its field errors, without retrying', async () => {
    const body = { detail: 'target_column: column "churn" does not exist', errors: [{ field: 'target_column', message: 'column "churn" does not exist' }] };
    server = await startLoopbackServer((_request, response) => sendJson(response, 422, body));

    const error = await failureOf(clientFor(server.url).submitTrainingJob(caller, submission, 'key-2'));

    expect(error).toBeInstanceOf(FieldErrorsException);
    expect(error.getStatus()).toBe(422);
    expect(error.message).toBe('target_column: column "churn" does not exist');
    expect((error as FieldErrorsException).fieldErrors).toEqual(body.errors);
    expect(server.requests).toHaveLength(1);
  });

  it.each([400, 404, 409])('passes %i through with the ML Service detail', async (status) => {
    server = await startLoopbackServer((_request, response) => sendJson(response, status, { detail: `status ${status} detail` }));

    const error = await failureOf(clientFor(server.url).cancelTrainingJob(caller, JOB.job_id));

    expect(error.getStatus()).toBe(status);
    expect(error.message).toBe(`status ${status} detail`);
    expect(server.requests).toHaveLength(1);
  });

  it('maps a 500 to 502 without retrying it', async () => {
    server = await startLoopbackServer((_request, response) => sendJson(response, 500, { detail: 'division by zero' }));

    const error = await failureOf(clientFor(server.url).getTrainingJob(caller, JOB.job_id));

    expect(error.getStatus()).toBe(502);
    expect(error.message).toBe('ML Service failed: division by zero');
    expect(server.requests).toHaveLength(1);
  });
});
