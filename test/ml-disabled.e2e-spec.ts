import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { ACME_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

describe('AI Service with MODULE_ML_ENABLED=false', () => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'false', ML_SERVICE_URL: mlServiceUrl() });
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers 404 on every ML route', async () => {
    await request(app.getHttpServer()).get('/api/v1/ml/train').set('X-API-Key', ACME_KEY).expect(404);
    await request(app.getHttpServer()).post('/api/v1/ml/train').set('X-API-Key', ACME_KEY).send({}).expect(404);
  });

  it('serves no workbench page (it would have nothing to talk to)', async () => {
    await request(app.getHttpServer()).get('/workbench').expect(404);
  });

  it('is live and ready without checking the ML Service', async () => {
    await request(app.getHttpServer()).get('/health/live').expect(200);
    const ready = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(ready.body.details).toEqual({});
  });
});
