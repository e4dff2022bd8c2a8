import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { App } from 'supertest/types';
import { CommonModule } from '@app/common/common.module';
import { ApiKeyTenantResolver } from '@app/common/tenant/api-key.tenant-resolver';
import { TENANT_RESOLVER } from '@app/common/tenant/tenant-resolver';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import { ML_OPTIONS, type ResolvedMlModuleOptions } from '@app/ml/ml-module-options';
import { MlModule } from '@app/ml/ml.module';
import { closedPortUrl } from '@test/support/loopback-server';

describe('MlModule.forRoot', () => {
  let app: INestApplication<App>;
  let mlServiceUrl: string;

  beforeAll(async () => {
    mlServiceUrl = await closedPortUrl();
    process.env.API_KEYS = 'module-test-key:acme-corp';
    const moduleRef = await Test.createTestingModule({
      imports: [CommonModule, MlModule.forRoot({ mlServiceUrl: `${mlServiceUrl}/`, maxAttempts: 1 })],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useWebSocketAdapter(new WsAdapter(app)); // the progress WebSocket needs one
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('fills every option it was not given with its default', () => {
    expect(app.get<ResolvedMlModuleOptions>(ML_OPTIONS)).toEqual({
      mlServiceUrl,
      serviceToken: '',
      timeoutMs: 30_000,
      maxAttempts: 1,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 10_000,
      predictMaxInFlight: 32,
      predictDirect: true,
      maxDatasetSizeGb: 10,
      catalogCacheTtlMs: 60_000,
      uploadDirectory: tmpdir(),
      llm: null,
    });
  });

  it('defaults to the API-key resolver over API_KEYS', () => {
    expect(app.get(TENANT_RESOLVER)).toBeInstanceOf(ApiKeyTenantResolver);
  });

  it('exposes the one MLServiceClient to the application', () => {
    expect(app.get(MLServiceClient)).toBeInstanceOf(MLServiceClient);
  });

  it('registers the training routes behind the tenant guard', async () => {
    await request(app.getHttpServer()).get('/api/v1/ml/train').expect(401);
    const response = await request(app.getHttpServer()).get('/api/v1/ml/train').set('X-API-Key', 'module-test-key').expect(503);
    expect(response.body.message).toBe(`ML Service unreachable: ECONNREFUSED`);
  });
});
