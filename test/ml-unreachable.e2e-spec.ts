import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { seedTrainingConfig } from '@app/ml/training/training.fixtures';
import { ACME_KEY, startAiService } from '@test/support/ai-service';
import { closedPortUrl } from '@test/support/loopback-server';

describe('AI Service whose ML Service is stopped', () => {
  let app: INestApplication<App>;
  let url: string;

  beforeAll(async () => {
    url = await closedPortUrl();
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: url });
  });

  afterAll(async () => {
    await app.close();
  });

  it('is live but not ready', async () => {
    await request(app.getHttpServer()).get('/health/live').expect(200);
    const ready = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(ready.body.message).toBe(`Not ready: ml_service (${url}/health/ready): connect ECONNREFUSED ${url.replace('http://', '')}`);
  });

  it('fails a training request fast, naming the ML Service', async () => {
    const started = Date.now();
    const response = await request(app.getHttpServer()).post('/api/v1/ml/train').set('X-API-Key', ACME_KEY).send(seedTrainingConfig()).expect(503);
    expect(response.body.message).toBe(`ML Service unreachable: ECONNREFUSED`);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
