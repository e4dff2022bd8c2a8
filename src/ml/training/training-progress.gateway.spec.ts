import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { TrainingEvent } from '@app/ml/client/ml-service.types';
import { QUEUED_JOB } from '@app/ml/training/training.fixtures';
import { type LoopbackServer, sendJson, startLoopbackServer } from '@test/support/loopback-server';
import { follow, startProgressApp, writeEventStream } from '@test/support/progress-stream';

const JOB_ID = QUEUED_JOB.job_id;
const PROGRESS = { iteration: 3, total_iterations: 10, metrics: { logloss: 0.4 }, elapsed_seconds: 2, estimated_remaining_seconds: 4.7 };
const EVENTS: TrainingEvent[] = [
  { type: 'status', job_id: JOB_ID, status: 'running', progress: null, job: null },
  { type: 'progress', job_id: JOB_ID, status: 'running', progress: PROGRESS, job: null },
  { type: 'end', job_id: JOB_ID, status: 'completed', progress: PROGRESS, job: { ...QUEUED_JOB, status: 'completed', progress: PROGRESS } },
];

type Behaviour = 'complete' | 'cut' | 'not-found';

function serveEvents(response: ServerResponse, behaviour: Behaviour): void {
  if (behaviour === 'not-found') {
    sendJson(response, 404, { detail: `training job ${JOB_ID} does not exist` });
    return;
  }
  writeEventStream(response, EVENTS, behaviour);
}

describe('the training progress stream (WebSocket and SSE) against a fake ML Service', () => {
  let mlService: LoopbackServer;
  let app: INestApplication<App>;
  let wsUrl: string;
  let behaviour: Behaviour;

  beforeAll(async () => {
    mlService = await startLoopbackServer((_request, response) => serveEvents(response, behaviour));
    const started = await startProgressApp(mlService.url);
    app = started.app;
    wsUrl = `${started.wsBase}/api/v1/ml/train/progress`;
  });

  afterAll(async () => {
    await app.close();
    await mlService.close();
  });

  beforeEach(() => {
    behaviour = 'complete';
  });

  it('streams every event with the X-API-Key header, for the caller tenant only, then closes normally', async () => {
    const received = await follow(`${wsUrl}?job_id=${JOB_ID}`, { 'X-API-Key': 'acme-key' });

    expect(received.messages.map((message) => message.event)).toEqual(['status', 'progress', 'end']);
    expect(received.messages[1].data.progress).toEqual(PROGRESS);
    expect((received.messages[2].data.job as { status: string }).status).toBe('completed');
    expect(received.code).toBe(1000);
    const asked = mlService.requests.at(-1)!;
    expect(asked.url).toBe(`/api/v1/training/jobs/${JOB_ID}/events`);
    expect(asked.headers['x-tenant-id']).toBe('acme-corp');
  });

  it.each([
    ['an api_key query parameter', `?job_id=${JOB_ID}&api_key=acme-key`, {}],
    ['Authorization: Bearer', `?job_id=${JOB_ID}`, { Authorization: 'Bearer acme-key' }],
  ])('accepts %s', async (_name, query, headers) => {
    const received = await follow(`${wsUrl}${query}`, headers);
    expect(received.messages.at(-1)!.event).toBe('end');
  });

  it('refuses a missing or unknown key with an error message and close code 4401, asking the ML Service nothing', async () => {
    const before = mlService.requests.length;
    for (const query of [`?job_id=${JOB_ID}`, `?job_id=${JOB_ID}&api_key=wrong`]) {
      const received = await follow(`${wsUrl}${query}`);
      expect(received.messages).toEqual([{ event: 'error', data: { status: 401, message: expect.stringContaining('API key') } }]);
      expect(received.code).toBe(4401);
    }
    expect(mlService.requests.length).toBe(before);
  });

  it('refuses a malformed job id with 4400', async () => {
    const received = await follow(`${wsUrl}?job_id=../../health&api_key=acme-key`);
    expect(received.messages[0].data.status).toBe(400);
    expect(received.code).toBe(4400);
  });

  it("answers another tenant's job (a 404 from the ML Service) with an error and 4404, nothing else", async () => {
    behaviour = 'not-found';
    const received = await follow(`${wsUrl}?job_id=${JOB_ID}&api_key=acme-key`);
    expect(received.messages).toEqual([{ event: 'error', data: { status: 404, message: `training job ${JOB_ID} does not exist` } }]);
    expect(received.code).toBe(4404);
  });

  it('ends with an error naming the ML Service when its stream breaks', async () => {
    behaviour = 'cut';
    const received = await follow(`${wsUrl}?job_id=${JOB_ID}&api_key=acme-key`);
    expect(received.messages.map((message) => message.event)).toEqual(['status', 'progress', 'error']);
    expect(received.messages[2].data).toEqual({ status: 502, message: expect.stringContaining('the ML Service') });
    expect(received.code).toBe(4502);
  });

  describe('GET /api/v1/ml/train/:job_id/events (SSE)', () => {
    it('relays the events as text/event-stream and ends with the job', async () => {
      const response = await request(app.getHttpServer()).get(`/api/v1/ml/train/${JOB_ID}/events`).set('X-API-Key', 'acme-key').expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
      const names = [...response.text.matchAll(/^event: (\w+)$/gm)].map((match) => match[1]);
      expect(names).toEqual(['status', 'progress', 'end']);
    });

    it('refuses a caller without a key with 401', async () => {
      await request(app.getHttpServer()).get(`/api/v1/ml/train/${JOB_ID}/events`).expect(401);
    });

    it("answers another tenant's job with a plain 404", async () => {
      behaviour = 'not-found';
      const response = await request(app.getHttpServer()).get(`/api/v1/ml/train/${JOB_ID}/events`).set('X-API-Key', 'acme-key').expect(404);
      expect((response.body as { message: string }).message).toBe(`training job ${JOB_ID} does not exist`);
    });

    it('sends an error event naming the ML Service when its stream breaks', async () => {
      behaviour = 'cut';
      const response = await request(app.getHttpServer()).get(`/api/v1/ml/train/${JOB_ID}/events`).set('X-API-Key', 'acme-key').expect(200);
      expect(response.text).toMatch(/event: error\n(id: \d+\n)?data: \{"status":502,"message":"the ML Service/);
    });
  });
});
