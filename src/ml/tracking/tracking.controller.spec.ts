import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { TrackingController } from '@app/ml/tracking/tracking.controller';
import { TrackingService } from '@app/ml/tracking/tracking.service';
import { startControllerApp } from '@test/support/controller-app';

const ACME = { 'X-API-Key': 'dev-acme-key' };
const RUN_ID = '0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d';
const MODEL_ID = 'm-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d';
const OTHER_RUN_ID = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d';
/** Not valid UTF-8, so any decoding on the way would show. */
const PNG_BYTES = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00, 0xfe]);
const CALLER = { tenantId: 'acme-corp', requestId: 'req-1', actor: 'api-key:dev-acme' };

describe('TrackingController through the real pipeline', () => {
  let app: INestApplication<App>;
  const tracking = {
    createExperiment: jest.fn<TrackingService['createExperiment']>(),
    listExperiments: jest.fn<TrackingService['listExperiments']>(),
    getExperiment: jest.fn<TrackingService['getExperiment']>(),
    searchRuns: jest.fn<TrackingService['searchRuns']>(),
    getRun: jest.fn<TrackingService['getRun']>(),
    getMetricHistory: jest.fn<TrackingService['getMetricHistory']>(),
    listArtifacts: jest.fn<TrackingService['listArtifacts']>(),
    downloadArtifact: jest.fn<TrackingService['downloadArtifact']>(),
    compareRuns: jest.fn<TrackingService['compareRuns']>(),
    getLoggedModel: jest.fn<TrackingService['getLoggedModel']>(),
    listModelArtifacts: jest.fn<TrackingService['listModelArtifacts']>(),
    downloadModelArtifact: jest.fn<TrackingService['downloadModelArtifact']>(),
  };

  beforeAll(async () => {
    app = await startControllerApp(TrackingController, { provide: TrackingService, useValue: tracking });
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    jest.resetAllMocks();
    tracking.listArtifacts.mockResolvedValue({ root_uri: 'file:///x', files: [] });
    tracking.downloadArtifact.mockResolvedValue({ content: PNG_BYTES, contentType: 'image/png' });
    tracking.listModelArtifacts.mockResolvedValue({ root_uri: 'file:///m', files: [] });
    tracking.downloadModelArtifact.mockResolvedValue({ content: PNG_BYTES, contentType: 'application/octet-stream' });
  });

  function get(url: string): request.Test {
    return request(app.getHttpServer()).get(url).set(ACME).set('X-Request-ID', 'req-1');
  }

  async function refusal(response: request.Test, field: string): Promise<string> {
    const body = (await response.expect(400)).body as { message: string; errors: { field: string; message: string }[] };
    expect(body.errors.map((error) => error.field)).toEqual([field]);
    return body.message;
  }

  describe('artifact paths', () => {
    // Raw query strings: what the client sent, before Express decodes it once.
    it.each([
      ['../x', '..%2Fx', 'path must not contain .. segments'],
      ['a/../../b', 'a/../../b', 'path must not contain .. segments'],
      ['..\\x', '..%5Cx', 'path must use forward slashes, not backslashes'],
      ['/etc/passwd', '%2Fetc%2Fpasswd', 'path must be a relative path (no leading /)'],
      ['file:///etc/passwd', 'file%3A%2F%2F%2Fetc%2Fpasswd', 'path must be a relative path, not a URI (no scheme such as file:)'],
      ['%2e%2e/x (arrives as ../x)', '%2e%2e%2Fx', 'path must not contain .. segments'],
      ['%252e%252e/x (arrives as %2e%2e/x)', '%252e%252e%2Fx', 'path must not contain percent-escapes (it is already decoded once)'],
      ['a NUL byte', 'model%00.txt', 'path must not contain NUL characters'],
      ['a bare ..', '..', 'path must not contain .. segments'],
    ])('refuses %s on download and listing with 400 naming path', async (_case, rawQuery, message) => {
      expect(await refusal(get(`/api/v1/ml/tracking/runs/${RUN_ID}/artifacts/content?path=${rawQuery}`), 'path')).toBe(message);
      expect(await refusal(get(`/api/v1/ml/tracking/runs/${RUN_ID}/artifacts?path=${rawQuery}`), 'path')).toBe(message);
      expect(tracking.downloadArtifact).not.toHaveBeenCalled();
      expect(tracking.listArtifacts).not.toHaveBeenCalled();
    });

    it.each([
      ['../x', '..%2Fx', 'path must not contain .. segments'],
      ['..\\x', '..%5Cx', 'path must use forward slashes, not backslashes'],
      ['/etc/passwd', '%2Fetc%2Fpasswd', 'path must be a relative path (no leading /)'],
      ['file:///etc/passwd', 'file%3A%2F%2F%2Fetc%2Fpasswd', 'path must be a relative path, not a URI (no scheme such as file:)'],
      ['%252e%252e/x (arrives as %2e%2e/x)', '%252e%252e%2Fx', 'path must not contain percent-escapes (it is already decoded once)'],
      ['a NUL byte', 'MLmodel%00.txt', 'path must not contain NUL characters'],
    ])("refuses %s on a model's download and listing with 400 naming path", async (_case, rawQuery, message) => {
      expect(await refusal(get(`/api/v1/ml/tracking/models/${MODEL_ID}/artifacts/content?path=${rawQuery}`), 'path')).toBe(message);
      expect(await refusal(get(`/api/v1/ml/tracking/models/${MODEL_ID}/artifacts?path=${rawQuery}`), 'path')).toBe(message);
      expect(tracking.downloadModelArtifact).not.toHaveBeenCalled();
      expect(tracking.listModelArtifacts).not.toHaveBeenCalled();
    });

    it("requires a path for a model file's download", async () => {
      expect(await refusal(get(`/api/v1/ml/tracking/models/${MODEL_ID}/artifacts/content`), 'path')).toBe('path must be a string');
    });

    it("lists a model's files at the root or a folder, and streams one file's bytes", async () => {
      await get(`/api/v1/ml/tracking/models/${MODEL_ID}/artifacts`).expect(200, { root_uri: 'file:///m', files: [] });
      await get(`/api/v1/ml/tracking/models/${MODEL_ID}/artifacts?path=data`).expect(200);
      expect(tracking.listModelArtifacts.mock.calls).toEqual([
        [MODEL_ID, undefined, CALLER],
        [MODEL_ID, 'data', CALLER],
      ]);
      const response = await get(`/api/v1/ml/tracking/models/${MODEL_ID}/artifacts/content?path=model.ubj`)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(response.headers['content-type']).toBe('application/octet-stream');
      expect(response.headers['content-disposition']).toBe('attachment; filename="model.ubj"');
      expect(Buffer.compare(response.body as Buffer, PNG_BYTES)).toBe(0);
      expect(tracking.downloadModelArtifact).toHaveBeenCalledWith(MODEL_ID, 'model.ubj', CALLER);
    });

    it('requires a path for a download', async () => {
      expect(await refusal(get(`/api/v1/ml/tracking/runs/${RUN_ID}/artifacts/content`), 'path')).toBe('path must be a string');
    });

    it('refuses a path given twice', async () => {
      expect(await refusal(get(`/api/v1/ml/tracking/runs/${RUN_ID}/artifacts/content?path=a&path=b`), 'path')).toBe('path must be a string');
    });

    it('passes a nested relative path on, and the root when none is given', async () => {
      await get(`/api/v1/ml/tracking/runs/${RUN_ID}/artifacts?path=model/data`).expect(200);
      await get(`/api/v1/ml/tracking/runs/${RUN_ID}/artifacts`).expect(200);
      expect(tracking.listArtifacts.mock.calls.map((call) => call[1])).toEqual(['model/data', undefined]);
    });

    it("streams the artifact's bytes with the ML Service's content type", async () => {
      const response = await get(`/api/v1/ml/tracking/runs/${RUN_ID}/artifacts/content?path=charts/roc curve.png`)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(response.headers['content-type']).toBe('image/png');
      expect(response.headers['content-disposition']).toBe('attachment; filename="roc_curve.png"');
      expect(Buffer.compare(response.body as Buffer, PNG_BYTES)).toBe(0);
      expect(tracking.downloadArtifact).toHaveBeenCalledWith(RUN_ID, 'charts/roc curve.png', CALLER);
    });
  });

  describe('ids', () => {
    it.each([
      [`/api/v1/ml/tracking/runs/${RUN_ID.toUpperCase()}`, 'run_id', 'run_id must be a run id (32 hex digits)'],
      ['/api/v1/ml/tracking/runs/..%2F..%2Fetc', 'run_id', 'run_id must be a run id (32 hex digits)'],
      ['/api/v1/ml/tracking/experiments/1%20OR%201', 'experiment_id', 'experiment_id must be digits'],
      [`/api/v1/ml/tracking/runs/${RUN_ID}/metrics/a%2F..%2Fb/history`, 'metric_key', 'metric_key must be letters, digits, spaces or _ . - (no ..)'],
      ['/api/v1/ml/tracking/models/..%2Fsecrets', 'model_artifact_id', 'model_artifact_id must look like m-<32 hex digits>'],
      ['/api/v1/ml/tracking/models/m-bad/artifacts', 'model_artifact_id', 'model_artifact_id must look like m-<32 hex digits>'],
      ['/api/v1/ml/tracking/models/m-bad/artifacts/content?path=MLmodel', 'model_artifact_id', 'model_artifact_id must look like m-<32 hex digits>'],
    ])('GET %s is 400 naming %s', async (url, field, message) => {
      expect(await refusal(get(url), field)).toBe(message);
    });

    it('passes well-formed ids on with the caller', async () => {
      tracking.getRun.mockResolvedValue({ run_id: RUN_ID } as never);
      await get(`/api/v1/ml/tracking/runs/${RUN_ID}`).expect(200);
      await get(`/api/v1/ml/tracking/runs/${RUN_ID}/metrics/validation_logloss/history`).expect(200);
      expect(tracking.getRun).toHaveBeenCalledWith(RUN_ID, CALLER);
      expect(tracking.getMetricHistory).toHaveBeenCalledWith(RUN_ID, 'validation_logloss', CALLER);
    });
  });

  describe('bodies', () => {
    function post(url: string, body: object): request.Test {
      return request(app.getHttpServer()).post(url).set(ACME).set('X-Request-ID', 'req-1').send(body);
    }

    it.each([
      [{ run_ids: [RUN_ID] }, 'run_ids', 'run_ids must name 2 to 10 runs'],
      [{ run_ids: Array.from({ length: 11 }, () => RUN_ID) }, 'run_ids', 'run_ids must name 2 to 10 runs'],
      [{ run_ids: [RUN_ID, '../etc'] }, 'run_ids', 'each value in run_ids must be a run id (32 hex digits)'],
    ])('compare refuses %j', async (body, field, message) => {
      expect(await refusal(post('/api/v1/ml/tracking/runs/compare', body), field)).toBe(message);
    });

    it.each([
      [{ max_results: 1001 }, 'max_results', 'max_results must not be greater than 1000'],
      [{ max_results: 0 }, 'max_results', 'max_results must not be less than 1'],
      [{ experiment_ids: ['1', 'x'] }, 'experiment_ids', 'each value in experiment_ids must be digits'],
      [{ filter: 42 }, 'filter', 'filter must be a string'],
      [{ tenant: 'globex' }, 'tenant', 'property tenant should not exist'],
    ])('search refuses %j', async (body, field, message) => {
      expect(await refusal(post('/api/v1/ml/tracking/runs/search', body), field)).toBe(message);
    });

    it('searches with 200 and compares with 200', async () => {
      tracking.searchRuns.mockResolvedValue({ runs: [], next_page_token: null });
      const search = { filter: 'metrics.auc_roc > 0.5', order_by: ['metrics.auc_roc DESC'], max_results: 1000 };
      await post('/api/v1/ml/tracking/runs/search', search).expect(200);
      await post('/api/v1/ml/tracking/runs/compare', { run_ids: [RUN_ID, OTHER_RUN_ID] }).expect(200);
      expect(tracking.searchRuns).toHaveBeenCalledWith(search, CALLER);
      expect(tracking.compareRuns).toHaveBeenCalledWith([RUN_ID, OTHER_RUN_ID], CALLER);
    });

    it('creates an experiment with 201', async () => {
      await post('/api/v1/ml/tracking/experiments', { name: 'churn-experiments', tags: { team: 'retention' } }).expect(201);
      expect(await refusal(post('/api/v1/ml/tracking/experiments', { name: '../x' }), 'name')).toBe(
        'name must be 1 to 128 letters, digits or _ . - starting with a letter or digit',
      );
    });
  });

  it('answers 401 without an API key', async () => {
    await request(app.getHttpServer()).get('/api/v1/ml/tracking/experiments').expect(401);
  });
});
