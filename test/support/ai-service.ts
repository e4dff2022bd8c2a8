import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { App } from 'supertest/types';
import { configureApp } from '@app/configure-app';
import { createHttpAdapter } from '@app/http-adapter';

export const ACME_KEY = 'dev-acme-key';
export const GLOBEX_KEY = 'dev-globex-key';
/**
 * Tenants with demo tables of their own (MLS_DEMO_TENANTS in test/ml-service.global-setup.cjs), for
 * specs whose answers depend on everything the tenant has ("the best churn model"): the other specs'
 * models live in acme-corp.
 */
export const HOOLI_KEY = 'dev-hooli-key';
export const UMBRELLA_KEY = 'dev-umbrella-key';

/** The URL of the ML Service started by test/ml-service.global-setup.cjs. */
export function mlServiceUrl(): string {
  const url = process.env.ML_SERVICE_URL_E2E;
  if (url === undefined) {
    throw new Error('ML_SERVICE_URL_E2E is not set: run through `npm run test:e2e`');
  }
  return url;
}

/**
 * The standalone AI Service (AppModule, the real pipeline) for one test file. AppModule reads the
 * environment when it is first imported, and jest gives every test file its own process.env and
 * module registry, so each file can run the service with its own configuration.
 */
export async function startAiService(env: Record<string, string>): Promise<INestApplication<App>> {
  Object.assign(process.env, { API_KEYS: `${ACME_KEY}:acme-corp,${GLOBEX_KEY}:globex,${HOOLI_KEY}:hooli,${UMBRELLA_KEY}:umbrella`, ...env });
  const { AppModule } = await import('@app/app.module.js');
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication<INestApplication<App>>(createHttpAdapter(), { logger: ['error', 'warn'], bodyParser: false });
  configureApp(app); // as main.ts does
  await app.init();
  // supertest calls the Node server, which answers once Fastify has loaded its routes
  await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  return app;
}
