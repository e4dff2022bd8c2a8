import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { App } from 'supertest/types';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import { closedPortUrl } from '@test/support/loopback-server';

describe('AppModule with MODULE_ML_ENABLED=0', () => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    // Jest gives each test file its own process.env; AppModule reads it when first imported.
    process.env.MODULE_ML_ENABLED = '0';
    process.env.ML_SERVICE_URL = await closedPortUrl();
    process.env.API_KEYS = 'dev-acme-key:acme-corp';
    const { AppModule } = await import('@app/app.module.js');
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('registers no ML route', async () => {
    const response = await request(app.getHttpServer()).get('/api/v1/ml/train').set('X-API-Key', 'dev-acme-key').expect(404);
    expect(response.body).toEqual({ message: 'Cannot GET /api/v1/ml/train', request_id: expect.any(String) });
    await request(app.getHttpServer()).post('/api/v1/ml/train').set('X-API-Key', 'dev-acme-key').send({}).expect(404);
  });

  it('registers no ML provider', () => {
    expect(() => app.get(MLServiceClient, { strict: false })).toThrow();
  });

  it('is ready without the ML Service, which is not running', async () => {
    const response = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(response.body.status).toBe('ok');
  });
});
