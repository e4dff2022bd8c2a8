import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type INestApplication, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import type { Request } from 'express';
import request from 'supertest';
import type { App } from 'supertest/types';
import { CommonModule } from '@app/common/common.module';
import type { TenantResolver } from '@app/common/tenant/tenant-resolver';
import { MlModule } from '@app/ml/ml.module';
import { type LoopbackServer, sendJson, startLoopbackServer } from '@test/support/loopback-server';

/** What a host does after verifying its own JWT: the tenant claim lands in a header it controls. */
class HostJwtTenantResolver implements TenantResolver {
  resolve(request: Request): Promise<string | null> {
    const tenant = request.headers['x-host-verified-tenant'];
    return Promise.resolve(typeof tenant === 'string' ? tenant : null);
  }
}

/** A host application: its own configuration names, its own auth, none of our environment variables. */
function hostModule(mlServiceUrl: string): unknown {
  @Module({
    imports: [
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ platform: { mlBaseUrl: mlServiceUrl, mlTimeoutMs: 2000 } })] }),
      CommonModule,
      MlModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          mlServiceUrl: config.getOrThrow<string>('platform.mlBaseUrl'),
          timeoutMs: config.getOrThrow<number>('platform.mlTimeoutMs'),
          tenantResolver: new HostJwtTenantResolver(),
        }),
      }),
    ],
  })
  class HostAppModule {}
  return HostAppModule;
}

describe('a host application importing MlModule.forRootAsync', () => {
  let mlService: LoopbackServer;
  let app: INestApplication<App>;

  beforeAll(async () => {
    // API_KEYS is deliberately invalid: a host with its own resolver must not depend on it.
    process.env.API_KEYS = 'not a key list';
    mlService = await startLoopbackServer((_request, response) => sendJson(response, 200, []));
    const moduleRef = await Test.createTestingModule({ imports: [hostModule(mlService.url) as never] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useWebSocketAdapter(new WsAdapter(app)); // the progress WebSocket needs one
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    await mlService.close();
  });

  it("acts for the tenant the host's resolver returns, and tells the ML Service", async () => {
    const response = await request(app.getHttpServer())
      .get('/api/v1/ml/train?status=running')
      .set('X-Host-Verified-Tenant', 'initech')
      .set('X-Request-ID', 'host-req-7')
      .expect(200);

    expect(response.body).toEqual({ jobs: [] });
    const [call] = mlService.requests;
    expect(call?.url).toBe('/api/v1/training/jobs?status=running');
    expect(call?.headers['x-tenant-id']).toBe('initech');
    expect(call?.headers['x-request-id']).toBe('host-req-7');
  });

  it("refuses requests the host's resolver cannot place", async () => {
    await request(app.getHttpServer()).get('/api/v1/ml/train').expect(401);
  });
});
