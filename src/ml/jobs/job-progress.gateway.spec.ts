import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { Job, JobEvent } from '@app/ml/client/ml-service.types';
import { type LoopbackServer, sendJson, startLoopbackServer } from '@test/support/loopback-server';
import { follow, startProgressApp, writeEventStream } from '@test/support/progress-stream';

const BATCH_ID = 'batch-0123456789ab';
const RUNNING: Job = {
  job_id: BATCH_ID,
  kind: 'batch_prediction',
  tenant_id: 'acme-corp',
  name: 'predictions.scores',
  status: 'running',
  progress: { rows_done: 1000, rows_total: 4000 },
  result: null,
  error: null,
  mlflow_run_ids: [],
  created_at: '2026-03-01T12:00:00Z',
  started_at: '2026-03-01T12:00:01Z',
  finished_at: null,
};
const DONE: Job = { ...RUNNING, status: 'completed', progress: { rows_done: 4000, rows_total: 4000 }, result: { rows_per_second: 9000 } };
const EVENTS: JobEvent[] = [
  { type: 'status', job_id: BATCH_ID, kind: 'batch_prediction', status: 'running', progress: RUNNING.progress, job: null },
  { type: 'progress', job_id: BATCH_ID, kind: 'batch_prediction', status: 'running', progress: RUNNING.progress, job: null },
  { type: 'progress', job_id: BATCH_ID, kind: 'batch_prediction', status: 'running', progress: DONE.progress, job: null },
  { type: 'end', job_id: BATCH_ID, kind: 'batch_prediction', status: 'completed', progress: DONE.progress, job: DONE },
];

type Behaviour = 'complete' | 'cut' | 'not-found';

function serve(url: string, response: ServerResponse, behaviour: Behaviour): void {
  if (behaviour === 'not-found') {
    sendJson(response, 404, { detail: `job ${BATCH_ID} does not exist` });
    return;
  }
  if (!url.endsWith('/events')) {
    sendJson(response, 200, RUNNING);
    return;
  }
  writeEventStream(response, EVENTS, behaviour);
}

describe('the one progress gateway and event relay of every kind of job, against a fake ML Service', () => {
  let mlService: LoopbackServer;
  let app: INestApplication<App>;
  let wsUrl: string;
  let behaviour: Behaviour;

  beforeAll(async () => {
    mlService = await startLoopbackServer((incoming, response) => serve(incoming.url ?? '', response, behaviour));
    const started = await startProgressApp(mlService.url);
    app = started.app;
    wsUrl = `${started.wsBase}/api/v1/ml/jobs/progress`;
  });

  afterAll(async () => {
    await app.close();
    await mlService.close();
  });

  beforeEach(() => {
    behaviour = 'complete';
  });

  it("relays a batch job's events from the generic stream, for the caller tenant, then closes normally", async () => {
    const received = await follow(`${wsUrl}?job_id=${BATCH_ID}`, { 'X-API-Key': 'acme-key' });

    expect(received.messages.map((message) => message.event)).toEqual(['status', 'progress', 'progress', 'end']);
    expect(received.messages[2].data).toMatchObject({ kind: 'batch_prediction', progress: { rows_done: 4000, rows_total: 4000 } });
    const job = received.messages[3].data.job as Record<string, unknown>;
    expect(job).toMatchObject({ job_id: BATCH_ID, kind: 'batch_prediction', status: 'completed', result: { rows_per_second: 9000 } });
    expect(job).not.toHaveProperty('tenant_id');
    expect(received.code).toBe(1000);
    const asked = mlService.requests.at(-1)!;
    expect(asked.url).toBe(`/api/v1/jobs/${BATCH_ID}/events`);
    expect(asked.headers['x-tenant-id']).toBe('acme-corp');
  });

  it('takes a training job on the same gateway', async () => {
    await follow(`${wsUrl}?job_id=train-0123456789ab&api_key=acme-key`);
    expect(mlService.requests.at(-1)!.url).toBe('/api/v1/jobs/train-0123456789ab/events');
  });

  it('refuses a malformed job id with 4400 and a missing key with 4401, asking the ML Service nothing', async () => {
    const before = mlService.requests.length;
    const malformed = await follow(`${wsUrl}?job_id=../../health&api_key=acme-key`);
    expect(malformed.messages[0].data).toEqual({ status: 400, message: expect.stringContaining('<kind>-<12 hex digits>') });
    expect(malformed.code).toBe(4400);
    const anonymous = await follow(`${wsUrl}?job_id=${BATCH_ID}`);
    expect(anonymous.code).toBe(4401);
    expect(mlService.requests.length).toBe(before);
  });

  it("answers another tenant's job with an error and 4404, nothing else", async () => {
    behaviour = 'not-found';
    const received = await follow(`${wsUrl}?job_id=${BATCH_ID}&api_key=acme-key`);
    expect(received.messages).toEqual([{ event: 'error', data: { status: 404, message: `job ${BATCH_ID} does not exist` } }]);
    expect(received.code).toBe(4404);
  });

  it('ends with an error naming the ML Service when its stream breaks', async () => {
    behaviour = 'cut';
    const received = await follow(`${wsUrl}?job_id=${BATCH_ID}&api_key=acme-key`);
    expect(received.messages.map((message) => message.event)).toEqual(['status', 'progress', 'error']);
    expect(received.messages[2].data).toEqual({ status: 502, message: expect.stringContaining('the ML Service') });
    expect(received.code).toBe(4502);
  });

  describe('GET /api/v1/ml/jobs/:job_id and its SSE', () => {
    it('answers the job in the generic shape', async () => {
      const response = await request(app.getHttpServer()).get(`/api/v1/ml/jobs/${BATCH_ID}`).set('X-API-Key', 'acme-key').expect(200);
      expect(response.body).toMatchObject({ job_id: BATCH_ID, kind: 'batch_prediction', status: 'running', progress: { rows_done: 1000 } });
      expect(mlService.requests.at(-1)!.url).toBe(`/api/v1/jobs/${BATCH_ID}`);
    });

    it('refuses a malformed id with 400', async () => {
      await request(app.getHttpServer()).get('/api/v1/ml/jobs/not-a-job').set('X-API-Key', 'acme-key').expect(400);
    });

    it('relays the events as text/event-stream and ends with the job', async () => {
      const response = await request(app.getHttpServer()).get(`/api/v1/ml/jobs/${BATCH_ID}/events`).set('X-API-Key', 'acme-key').expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
      expect([...response.text.matchAll(/^event: (\w+)$/gm)].map((match) => match[1])).toEqual(['status', 'progress', 'progress', 'end']);
    });
  });
});
