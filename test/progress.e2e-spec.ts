import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { WebSocket } from 'ws';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { seedTrainingConfig } from '@app/ml/training/training.fixtures';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

interface StreamMessage {
  event: string;
  data: Record<string, unknown>;
}

/** Every message of one WebSocket connection, and how it closed. */
function follow(url: string, headers: Record<string, string> = {}): Promise<{ messages: StreamMessage[]; code: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    const messages: StreamMessage[] = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as StreamMessage));
    socket.on('close', (code) => resolve({ messages, code }));
    socket.on('error', reject);
  });
}

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

  it('refuses a bad key with an error message and close code 4401', async () => {
    const { messages, code } = await follow(`${progressUrl}?job_id=train-0123456789ab`, { 'X-API-Key': 'not-a-key' });
    expect(messages).toEqual([{ event: 'error', data: { status: 401, message: expect.stringContaining('API key') } }]);
    expect(code).toBe(4401);
  });
});
