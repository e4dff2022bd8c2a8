import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import { MLServiceClient, type MlCallContext } from '@app/ml/client/ml-service.client';
import { ML_MODULE_DEFAULTS } from '@app/ml/ml-module-options';
import { failureOf } from '@test/support/http-failure';
import { LoopbackServer, sendJson, startLoopbackServer } from '@test/support/loopback-server';

const caller: MlCallContext = { tenantId: 'acme-corp', requestId: 'req-7' };
const TABLE = { schema_name: 'uploads', name: 'iris', qualified_name: 'uploads.iris', uploaded: true, row_count: 2, columns: [] };
const CSV = 'a,b\n1,2\n3,4\n';

let httpService: HttpService;
let folder: string;
let csvPath: string;

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({ imports: [HttpModule] }).compile();
  httpService = moduleRef.get(HttpService);
  folder = await mkdtemp(join(tmpdir(), 'client-upload-spec-'));
  csvPath = join(folder, 'spooled-name');
  await writeFile(csvPath, CSV);
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

function clientFor(url: string): MLServiceClient {
  return new MLServiceClient(httpService, { ...ML_MODULE_DEFAULTS, mlServiceUrl: url, timeoutMs: 500, maxAttempts: 3, retryBaseDelayMs: 5 });
}

describe('MLServiceClient dataset calls against a real loopback server', () => {
  let server: LoopbackServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('streams the file from disk as multipart with the form fields, the limit and the tenant', async () => {
    server = await startLoopbackServer((_request, response) => sendJson(response, 201, TABLE));

    const table = await clientFor(server.url).uploadDatasetTable(
      caller,
      { path: csvPath, filename: 'iris.csv', sizeBytes: CSV.length },
      { table: 'iris', if_exists: 'replace', format: undefined, delimiter: undefined },
      1000,
    );

    expect(table).toEqual(TABLE);
    const [sent] = server.requests;
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe('/api/v1/datasets/tables?max_bytes=1000');
    expect(sent.headers['x-tenant-id']).toBe('acme-corp');
    expect(sent.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent.body).toContain('name="table"\r\n\r\niris\r\n');
    expect(sent.body).toContain('name="if_exists"\r\n\r\nreplace\r\n');
    expect(sent.body).not.toContain('name="format"');
    expect(sent.body).toMatch(/name="file"; filename="iris.csv"\r\nContent-Type: [^\r]*\r\n\r\na,b\n1,2\n3,4\n\r\n/);
  });

  it('never retries an upload, even after a 503', async () => {
    server = await startLoopbackServer((_request, response, number) =>
      number === 1 ? sendJson(response, 503, { detail: 'restarting' }) : sendJson(response, 201, TABLE),
    );

    const error = await failureOf(
      clientFor(server.url).uploadDatasetTable(caller, { path: csvPath, filename: 'iris.csv', sizeBytes: CSV.length }, { table: 'iris' }, 1000),
    );

    expect(error.getStatus()).toBe(502);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [413, 'file', 'the file is larger than the limit of 1000 bytes'],
    [422, 'file', 'iris.csv could not be read as csv: CSV Error on Line: 3'],
    [409, undefined, 'table uploads.iris already exists'],
  ])('passes the ML Service %i through with its message', async (status, field, message) => {
    const body = field === undefined ? { detail: message } : { detail: `${field}: ${message}`, errors: [{ field, message }] };
    server = await startLoopbackServer((_request, response) => sendJson(response, status, body));

    const error = await failureOf(
      clientFor(server.url).uploadDatasetTable(caller, { path: csvPath, filename: 'iris.csv', sizeBytes: CSV.length }, { table: 'iris' }, 1000),
    );

    expect(error.getStatus()).toBe(status);
    expect(error.message).toContain(message);
  });

  it('passes a 403 for a table that is not an upload through, and encodes the table in the path', async () => {
    server = await startLoopbackServer((_request, response) => sendJson(response, 403, { detail: 'only uploaded tables (schema uploads) can be deleted' }));

    const error = await failureOf(clientFor(server.url).deleteDatasetTable(caller, 'ml_features.customer_churn'));

    expect(error.getStatus()).toBe(403);
    expect(server.requests[0].method).toBe('DELETE');
    expect(server.requests[0].url).toBe('/api/v1/datasets/tables/ml_features.customer_churn');
  });
});
