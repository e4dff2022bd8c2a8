import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { ApiKeyTenantResolver } from '@app/common/tenant/api-key.tenant-resolver';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { EdaComparison, EdaProfile, Job } from '@app/ml/client/ml-service.types';
import { EdaComparisonsController } from '@app/ml/eda/eda-comparisons.controller';
import { EdaController } from '@app/ml/eda/eda.controller';
import { EdaService } from '@app/ml/eda/eda.service';
import { startControllerApp } from '@test/support/controller-app';

const ACME = { 'X-API-Key': 'dev-acme-key', 'X-Request-ID': 'req-1' };
const CHURN = { source: 'table', table: 'ml_features.customer_churn' };
const PROFILE = { profile_id: 'prof-0123456789ab', alerts: [] } as unknown as EdaProfile;

describe('EdaController through the real pipeline', () => {
  let app: INestApplication<App>;
  const client = {
    createEdaProfile: jest.fn<MLServiceClient['createEdaProfile']>(),
    listEdaProfiles: jest.fn<MLServiceClient['listEdaProfiles']>(),
    getEdaProfile: jest.fn<MLServiceClient['getEdaProfile']>(),
    listEdaProfileCharts: jest.fn<MLServiceClient['listEdaProfileCharts']>(),
    getEdaProfileChart: jest.fn<MLServiceClient['getEdaProfileChart']>(),
    getEdaProfileReport: jest.fn<MLServiceClient['getEdaProfileReport']>(),
  };

  beforeAll(async () => {
    // The real EdaService over a stubbed client: what reaches the ML Service is what is checked.
    app = await startControllerApp(EdaController, EdaService, new ApiKeyTenantResolver(new Map([['dev-acme-key', 'acme-corp']])), [
      { provide: MLServiceClient, useValue: client },
    ]);
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    jest.resetAllMocks();
    client.createEdaProfile.mockResolvedValue({ profile: PROFILE });
    client.getEdaProfile.mockResolvedValue(PROFILE);
    client.listEdaProfiles.mockResolvedValue({ profiles: [] });
  });

  function post(body: object): request.Test {
    return request(app.getHttpServer()).post('/api/v1/ml/eda/profiles').set(ACME).send(body);
  }

  it('forwards a valid request without the dataset tenant and answers 201 with the profile', async () => {
    const body = {
      dataset: { ...CHURN, tenant_id: 'acme-corp' },
      target_column: 'churned',
      sample: { rows: 1000, random_state: 3 },
      thresholds: { correlation: 0.8, missing_percent: 5 },
    };
    const response = await post(body).expect(201);
    expect(response.body).toEqual(PROFILE);
    const [context, sent, respondAsync] = client.createEdaProfile.mock.calls[0];
    expect(context).toMatchObject({ tenantId: 'acme-corp', requestId: 'req-1' });
    expect(sent).toEqual({ ...body, dataset: { source: 'table', table: 'ml_features.customer_churn', query: undefined } });
    expect(respondAsync).toBe(false);
  });

  it('answers 202 with the profiling job and its Location when the ML Service made the profile a job', async () => {
    const job = {
      job_id: 'profile-0123456789ab',
      kind: 'profiling',
      tenant_id: 'acme-corp',
      name: 'ml_features.customer_churn',
      status: 'queued',
      progress: null,
      result: null,
      error: null,
      mlflow_run_ids: [],
      created_at: '2026-11-30T06:00:00Z',
      started_at: null,
      finished_at: null,
    } satisfies Job;
    client.createEdaProfile.mockResolvedValue({ job });
    const asked = await post({ dataset: CHURN }).set('Prefer', 'respond-async').expect(202);
    expect(asked.headers.location).toBe('/api/v1/ml/jobs/profile-0123456789ab');
    expect(asked.headers['preference-applied']).toBe('respond-async');
    expect(asked.body).toMatchObject({ job_id: 'profile-0123456789ab', kind: 'profiling', status: 'queued' });
    expect(asked.body).not.toHaveProperty('tenant_id');
    expect(client.createEdaProfile.mock.calls[0][2]).toBe(true);
    // Made a job for its size, unasked: no Preference-Applied.
    const large = await post({ dataset: CHURN }).expect(202);
    expect(large.headers['preference-applied']).toBeUndefined();
    expect(client.createEdaProfile.mock.calls[1][2]).toBe(false);
  });

  it.each([
    [{}, 'dataset'],
    [{ dataset: { source: 'table' } }, 'dataset.table'],
    [{ dataset: { source: 'sql' } }, 'dataset.query'],
    [{ dataset: CHURN, sample: { rows: 0 } }, 'sample.rows'],
    [{ dataset: CHURN, bins: 1 }, 'bins'],
    [{ dataset: CHURN, thresholds: { correlation: 2 } }, 'thresholds.correlation'],
    [{ dataset: CHURN, thresholds: { missing_percent: -1 } }, 'thresholds.missing_percent'],
    [{ dataset: CHURN, colour: 'red' }, 'colour'],
  ])('refuses %j naming %s', async (body, field) => {
    const response = await post(body).expect(400);
    expect((response.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toContain(field);
    expect(client.createEdaProfile).not.toHaveBeenCalled();
  });

  it("refuses another tenant's dataset with 403", async () => {
    await post({ dataset: { ...CHURN, tenant_id: 'globex' } }).expect(403);
    expect(client.createEdaProfile).not.toHaveBeenCalled();
  });

  it('lists with a limit and reads one profile by a well-formed id only', async () => {
    await request(app.getHttpServer()).get('/api/v1/ml/eda/profiles?limit=5').set(ACME).expect(200, { profiles: [] });
    expect(client.listEdaProfiles.mock.calls[0][1]).toBe(5);
    await request(app.getHttpServer()).get('/api/v1/ml/eda/profiles?limit=0').set(ACME).expect(400);
    await request(app.getHttpServer()).get('/api/v1/ml/eda/profiles/prof-0123456789ab').set(ACME).expect(200);
    expect(client.getEdaProfile.mock.calls[0][1]).toBe('prof-0123456789ab');
    await request(app.getHttpServer()).get('/api/v1/ml/eda/profiles/..%2Fetc').set(ACME).expect(400);
  });

  it('serves a chart as the ML Service sent it, asking for what Accept allows', async () => {
    client.getEdaProfileChart.mockResolvedValue({ content: Buffer.from('\x89PNG'), contentType: 'image/png' });
    const response = await request(app.getHttpServer()).get('/api/v1/ml/eda/profiles/prof-0123456789ab/charts/histogram_tenure').set(ACME).set('Accept', 'image/png').expect(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(client.getEdaProfileChart.mock.calls[0].slice(1)).toEqual(['prof-0123456789ab', 'histogram_tenure', 'image/png']);
    await request(app.getHttpServer()).get('/api/v1/ml/eda/profiles/prof-0123456789ab/charts/histogram_tenure').set(ACME).set('Accept', 'text/csv').expect(406);
    await request(app.getHttpServer()).get('/api/v1/ml/eda/profiles/prof-0123456789ab/charts/Bad.Name').set(ACME).expect(400);
    expect(client.getEdaProfileChart).toHaveBeenCalledTimes(1);
  });

  it('serves the report as HTML', async () => {
    client.getEdaProfileReport.mockResolvedValue({ content: Buffer.from('<!DOCTYPE html><html></html>'), contentType: 'text/html; charset=utf-8' });
    const response = await request(app.getHttpServer()).get('/api/v1/ml/eda/profiles/prof-0123456789ab/report').set(ACME).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toBe('<!DOCTYPE html><html></html>');
  });

  it('needs an API key', async () => {
    await request(app.getHttpServer()).post('/api/v1/ml/eda/profiles').send({ dataset: CHURN }).expect(401);
  });
});

describe('EdaComparisonsController through the real pipeline', () => {
  let app: INestApplication<App>;
  const client = { createEdaComparison: jest.fn<MLServiceClient['createEdaComparison']>() };

  beforeAll(async () => {
    app = await startControllerApp(EdaComparisonsController, EdaService, new ApiKeyTenantResolver(new Map([['dev-acme-key', 'acme-corp']])), [
      { provide: MLServiceClient, useValue: client },
    ]);
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    jest.resetAllMocks();
    client.createEdaComparison.mockResolvedValue({ comparison_id: 'cmp-0123456789ab' } as unknown as EdaComparison);
  });

  function post(body: object): request.Test {
    return request(app.getHttpServer()).post('/api/v1/ml/eda/comparisons').set(ACME).send(body);
  }

  it('forwards both sources without their tenant', async () => {
    await post({ reference: { ...CHURN, tenant_id: 'acme-corp' }, current: { source: 'sql', query: 'SELECT 1' }, columns: ['tenure'] }).expect(201);
    expect(client.createEdaComparison.mock.calls[0][1]).toEqual({
      reference: { source: 'table', table: 'ml_features.customer_churn', query: undefined },
      current: { source: 'sql', query: 'SELECT 1', table: undefined },
      columns: ['tenure'],
    });
  });

  it("refuses another tenant's source with 403 naming the side, and a malformed one with 400", async () => {
    const refused = await post({ reference: CHURN, current: { ...CHURN, tenant_id: 'globex' } }).expect(403);
    expect((refused.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['current.tenant_id']);
    const malformed = await post({ reference: CHURN, current: { source: 'table' } }).expect(400);
    expect((malformed.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toContain('current.table');
    await post({ reference: CHURN, current: CHURN, columns: [] }).expect(400);
    expect(client.createEdaComparison).not.toHaveBeenCalled();
  });
});
