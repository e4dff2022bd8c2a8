import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import { MLServiceClient, type MlCallContext } from '@app/ml/client/ml-service.client';
import { ML_MODULE_DEFAULTS } from '@app/ml/ml-module-options';
import { failureOf } from '@test/support/http-failure';
import { LoopbackServer, sendJson, startLoopbackServer } from '@test/support/loopback-server';

const caller: MlCallContext = { tenantId: 'acme-corp', requestId: 'req-9', actor: 'api-key:dev-acme' };
const RUN_ID = '0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d';
const MODEL_ID = 'm-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d';
const VERSION = { name: 'churn', version: 1, stage: 'Production' };

let httpService: HttpService;

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({ imports: [HttpModule] }).compile();
  httpService = moduleRef.get(HttpService);
});

function clientFor(url: string): MLServiceClient {
  return new MLServiceClient(httpService, { ...ML_MODULE_DEFAULTS, mlServiceUrl: url, timeoutMs: 500, maxAttempts: 3, retryBaseDelayMs: 5 });
}

describe('MLServiceClient tracking and registry calls against a real loopback server', () => {
  let server: LoopbackServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** Answers 503 first, then 200: how many attempts a call made tells whether it was retried. */
  async function flakyServer(body: unknown = VERSION): Promise<LoopbackServer> {
    return startLoopbackServer((_request, response, number) =>
      number === 1 ? sendJson(response, 503, { detail: 'restarting' }) : sendJson(response, 200, body),
    );
  }

  it('does not retry a stage transition (a POST that acts) after a 503', async () => {
    server = await flakyServer();

    const error = await failureOf(clientFor(server.url).transitionModelVersionStage(caller, 'churn', 1, { stage: 'Production', reason: 'best' }));

    expect(error.getStatus()).toBe(502);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].method).toBe('POST');
    expect(server.requests[0].url).toBe('/api/v1/registry/models/churn/versions/1/stage');
    expect(JSON.parse(server.requests[0].body)).toEqual({ stage: 'Production', reason: 'best' });
  });

  it.each([
    ['registering a version', (client: MLServiceClient) => client.registerModelVersion(caller, 'churn', { job_id: 'train-0123456789ab' })],
    ['updating a model', (client: MLServiceClient) => client.updateModel(caller, 'churn', { description: 'x' })],
    ['updating a version', (client: MLServiceClient) => client.updateModelVersion(caller, 'churn', 1, { tags: { a: 'b' } })],
    ['creating an experiment', (client: MLServiceClient) => client.createExperiment(caller, { name: 'e' })],
  ])('does not retry %s after a 503', async (_case, call) => {
    server = await flakyServer();
    expect((await failureOf(call(clientFor(server.url)))).getStatus()).toBe(502);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['setting an alias (PUT)', 'PUT', (client: MLServiceClient) => client.setModelAlias(caller, 'churn', 'champion', { version: 1 })],
    ['deleting an alias', 'DELETE', (client: MLServiceClient) => client.deleteModelAlias(caller, 'churn', 'champion')],
    ['deleting a version', 'DELETE', (client: MLServiceClient) => client.deleteModelVersion(caller, 'churn', 1)],
    ['deleting a model', 'DELETE', (client: MLServiceClient) => client.deleteModel(caller, 'churn', false)],
    ['reading the audit', 'GET', (client: MLServiceClient) => client.getModelAudit(caller, 'churn')],
    ['searching runs (a POST that only reads)', 'POST', (client: MLServiceClient) => client.searchRuns(caller, { filter: 'metrics.auc_roc > 0.8' })],
    ['comparing runs (a POST that only reads)', 'POST', (client: MLServiceClient) => client.compareRuns(caller, [RUN_ID, RUN_ID])],
  ])('retries %s after a 503, sending the same request twice', async (_case, method, call) => {
    server = await flakyServer();
    await expect(call(clientFor(server.url))).resolves.toEqual(VERSION);
    expect(server.requests).toHaveLength(2);
    expect(server.requests.map((request) => request.method)).toEqual([method, method]);
    expect(server.requests[1].body).toBe(server.requests[0].body);
  });

  it('sends X-Actor with the tenant and request id, and dry_run only when asked', async () => {
    server = await startLoopbackServer((_request, response) => sendJson(response, 200, { deleted: { name: 'churn', versions: [1], aliases: [] } }));
    const client = clientFor(server.url);

    await client.deleteModel(caller, 'churn', true);
    await client.deleteModel(caller, 'churn', false);

    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/registry/models/churn?dry_run=true', '/api/v1/registry/models/churn']);
    for (const request of server.requests) {
      expect(request.headers['x-actor']).toBe('api-key:dev-acme');
      expect(request.headers['x-tenant-id']).toBe('acme-corp');
      expect(request.headers['x-request-id']).toBe('req-9');
    }
  });

  it('sends no X-Actor when the resolver supplied none', async () => {
    server = await startLoopbackServer((_request, response) => sendJson(response, 200, { experiments: [] }));
    await clientFor(server.url).listExperiments({ tenantId: 'acme-corp', requestId: 'req-1' });
    expect(server.requests[0].headers['x-actor']).toBeUndefined();
  });

  it('encodes the artifact path as a query parameter and returns the bytes untouched with their content type', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00, 0xfe]);
    server = await startLoopbackServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(bytes);
    });

    const artifact = await clientFor(server.url).downloadArtifact(caller, RUN_ID, 'charts/roc curve.png');

    expect(artifact.contentType).toBe('image/png');
    expect(Buffer.compare(artifact.content, bytes)).toBe(0);
    expect(server.requests[0].url).toBe(`/api/v1/tracking/runs/${RUN_ID}/artifacts/content?path=charts%2Froc+curve.png`);
  });

  it("asks for a training chart with the caller's Accept and returns the PNG bytes untouched", async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    server = await startLoopbackServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(bytes);
    });

    const chart = await clientFor(server.url).getTrainingChart(caller, 'train-3f9a1c2b4d5e', 'roc_curve', 'image/png');

    expect(chart.contentType).toBe('image/png');
    expect(Buffer.compare(chart.content, bytes)).toBe(0);
    expect(server.requests[0].url).toBe('/api/v1/training/jobs/train-3f9a1c2b4d5e/charts/roc_curve');
    expect(server.requests[0].headers.accept).toBe('image/png');
  });

  it("lists and downloads a LoggedModel's own files under /tracking/models, bytes untouched", async () => {
    const bytes = Buffer.from([0x7b, 0xff, 0x00, 0xfe]);
    server = await startLoopbackServer((request, response) => {
      if (request.url?.includes('/content')) {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        response.end(bytes);
        return;
      }
      sendJson(response, 200, { root_uri: 'file:///m', files: [{ path: 'MLmodel', is_dir: false, file_size: 10 }] });
    });
    const client = clientFor(server.url);

    const listing = await client.listModelArtifacts(caller, MODEL_ID);
    const artifact = await client.downloadModelArtifact(caller, MODEL_ID, 'model.ubj');

    expect(listing.files.map((file) => file.path)).toEqual(['MLmodel']);
    expect(artifact.contentType).toBe('application/octet-stream');
    expect(Buffer.compare(artifact.content, bytes)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual([
      `/api/v1/tracking/models/${MODEL_ID}/artifacts`,
      `/api/v1/tracking/models/${MODEL_ID}/artifacts/content?path=model.ubj`,
    ]);
    expect(server.requests[1].headers['x-tenant-id']).toBe('acme-corp');
  });

  it("passes a download's 404 through with the ML Service's detail, though the body arrived as bytes", async () => {
    server = await startLoopbackServer((_request, response) => sendJson(response, 404, { detail: 'no artifact model/x in this run' }));

    const error = await failureOf(clientFor(server.url).downloadArtifact(caller, RUN_ID, 'model/x'));

    expect(error.getStatus()).toBe(404);
    expect(error.message).toBe('no artifact model/x in this run');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a download after a 503', async () => {
    server = await startLoopbackServer((_request, response, number) => {
      if (number === 1) {
        sendJson(response, 503, { detail: 'restarting' });
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });

    const artifact = await clientFor(server.url).downloadArtifact(caller, RUN_ID, 'notes.txt');

    expect(artifact.content.toString('utf8')).toBe('ok');
    expect(server.requests).toHaveLength(2);
  });

  it('passes a 409 on deleting a Production version through without retrying', async () => {
    server = await startLoopbackServer((_request, response) => sendJson(response, 409, { detail: 'version 1 of churn is in Production; move it to another stage first' }));

    const error = await failureOf(clientFor(server.url).deleteModelVersion(caller, 'churn', 1));

    expect(error.getStatus()).toBe(409);
    expect(error.message).toBe('version 1 of churn is in Production; move it to another stage first');
    expect(server.requests).toHaveLength(1);
  });
});
