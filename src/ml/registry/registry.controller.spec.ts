import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { Request } from 'express';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { TenantResolver } from '@app/common/tenant/tenant-resolver';
import { RegistryController } from '@app/ml/registry/registry.controller';
import { RegistryService } from '@app/ml/registry/registry.service';
import { startControllerApp } from '@test/support/controller-app';

const RUN_ID = '0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d';

/** A host resolver that knows its users by name. */
const hostResolver: TenantResolver = {
  resolve: (request: Request) => Promise.resolve(request.headers['x-user'] === 'alice' ? { tenantId: 'acme-corp', actor: 'alice' } : null),
};

describe('RegistryController through the real pipeline', () => {
  let app: INestApplication<App>;
  const registry = {
    registerVersion: jest.fn<RegistryService['registerVersion']>(),
    searchModels: jest.fn<RegistryService['searchModels']>(),
    getModel: jest.fn<RegistryService['getModel']>(),
    updateModel: jest.fn<RegistryService['updateModel']>(),
    deleteModel: jest.fn<RegistryService['deleteModel']>(),
    getVersion: jest.fn<RegistryService['getVersion']>(),
    updateVersion: jest.fn<RegistryService['updateVersion']>(),
    deleteVersion: jest.fn<RegistryService['deleteVersion']>(),
    transitionStage: jest.fn<RegistryService['transitionStage']>(),
    setAlias: jest.fn<RegistryService['setAlias']>(),
    deleteAlias: jest.fn<RegistryService['deleteAlias']>(),
    getAudit: jest.fn<RegistryService['getAudit']>(),
  };
  const CALLER = { tenantId: 'acme-corp', requestId: 'req-1', actor: 'alice' };

  beforeAll(async () => {
    app = await startControllerApp(RegistryController, { provide: RegistryService, useValue: registry }, hostResolver);
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    jest.resetAllMocks();
  });

  function call(method: 'get' | 'post' | 'patch' | 'put' | 'delete', url: string, body?: object): request.Test {
    const test = request(app.getHttpServer())[method](url).set('X-User', 'alice').set('X-Request-ID', 'req-1');
    return body === undefined ? test : test.send(body);
  }

  async function refusal(response: request.Test, field: string): Promise<string> {
    const body = (await response.expect(400)).body as { message: string; errors: { field: string; message: string }[] };
    expect(body.errors.map((error) => error.field)).toEqual([field]);
    return body.message;
  }

  it.each([
    ['get', '/api/v1/ml/registry/models/-churn', 'name', 'name must be 1 to 128 letters, digits or _ . - starting with a letter or digit'],
    ['get', '/api/v1/ml/registry/models/..', 'name', 'name must be 1 to 128 letters, digits or _ . - starting with a letter or digit'],
    ['get', `/api/v1/ml/registry/models/${'a'.repeat(129)}`, 'name', 'name must be 1 to 128 letters, digits or _ . - starting with a letter or digit'],
    ['get', '/api/v1/ml/registry/models/churn/versions/0', 'version', 'version must be a positive integer'],
    ['get', '/api/v1/ml/registry/models/churn/versions/1.5', 'version', 'version must be a positive integer'],
    ['delete', '/api/v1/ml/registry/models/churn/versions/-1', 'version', 'version must be a positive integer'],
    ['delete', '/api/v1/ml/registry/models/churn/aliases/1st', 'alias', 'alias must be 1 to 64 letters, digits, _ or - starting with a letter'],
    ['delete', '/api/v1/ml/registry/models/churn?dry_run=maybe', 'dry_run', 'dry_run must be true or false'],
    ['get', '/api/v1/ml/registry/models?tag=team', 'tag', 'tag must look like key=value'],
    ['get', '/api/v1/ml/registry/models?metric=auc_roc%20~%200.8', 'metric', 'metric must look like auc_roc>0.8 (a metric, one of > >= < <= =, a number)'],
    ['get', '/api/v1/ml/registry/models?stage=Live', 'stage', 'stage must be one of the following values: None, Staging, Production, Archived'],
  ] as const)('%s %s is 400 naming %s', async (method, url, field, message) => {
    expect(await refusal(call(method, url), field)).toBe(message);
  });

  it.each([
    [{}, 'job_id', 'exactly one of job_id or run_id is required'],
    [{ job_id: 'train-0123456789ab', run_id: RUN_ID }, 'job_id', 'exactly one of job_id or run_id is required'],
    [{ job_id: 'train-../../x' }, 'job_id', 'job_id must look like train-<12 hex digits>'],
    [{ run_id: 'abc' }, 'run_id', 'run_id must be a run id (32 hex digits)'],
  ])('registration refuses %j', async (body, field, message) => {
    expect(await refusal(call('post', '/api/v1/ml/registry/models/churn/versions', body), field)).toBe(message);
    expect(registry.registerVersion).not.toHaveBeenCalled();
  });

  it.each([
    [{ stage: 'Live' }, 'stage', 'stage must be one of the following values: None, Staging, Production, Archived'],
    [{ stage: 'Production', reason: 7 }, 'reason', 'reason must be a string'],
  ])('stage transition refuses %j', async (body, field, message) => {
    expect(await refusal(call('post', '/api/v1/ml/registry/models/churn/versions/1/stage', body), field)).toBe(message);
  });

  it('refuses an alias assignment without a positive version', async () => {
    expect(await refusal(call('put', '/api/v1/ml/registry/models/churn/aliases/champion', { version: 0 }), 'version')).toBe('version must be a positive integer');
  });

  it('registers from a job with 201, passing the actor the resolver supplied', async () => {
    await call('post', '/api/v1/ml/registry/models/churn.v2/versions', { job_id: 'train-0123456789ab', tags: { team: 'retention' } }).expect(201);
    expect(registry.registerVersion).toHaveBeenCalledWith('churn.v2', { job_id: 'train-0123456789ab', tags: { team: 'retention' } }, CALLER);
  });

  it('transitions with 200 and the reason', async () => {
    await call('post', '/api/v1/ml/registry/models/churn/versions/2/stage', { stage: 'Production', reason: 'better auc' }).expect(200);
    expect(registry.transitionStage).toHaveBeenCalledWith('churn', '2', { stage: 'Production', reason: 'better auc' }, CALLER);
  });

  it('reads dry_run=true as a boolean and deletes versions with 204', async () => {
    await call('delete', '/api/v1/ml/registry/models/churn?dry_run=true').expect(200);
    expect(registry.deleteModel).toHaveBeenCalledWith('churn', { dry_run: true }, CALLER);
    await call('delete', '/api/v1/ml/registry/models/churn/versions/3').expect(204);
    expect(registry.deleteVersion).toHaveBeenCalledWith('churn', '3', CALLER);
  });

  it('searches by name, tag, stage and metric', async () => {
    registry.searchModels.mockResolvedValue({ models: [] });
    await call('get', '/api/v1/ml/registry/models?name=churn&tag=team%3Dretention&stage=Production&metric=auc_roc%3E0.8').expect(200);
    expect(registry.searchModels).toHaveBeenCalledWith({ name: 'churn', tag: 'team=retention', stage: 'Production', metric: 'auc_roc>0.8' }, CALLER);
  });

  it('answers 401 to a caller the host does not know', async () => {
    await request(app.getHttpServer()).get('/api/v1/ml/registry/models').expect(401);
  });
});
