import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpStatus, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { ApiKeyTenantResolver } from '@app/common/tenant/api-key.tenant-resolver';
import { DatasetUploadInterceptor, type SpooledUpload } from '@app/ml/datasets/dataset-upload.interceptor';
import { DatasetsController } from '@app/ml/datasets/datasets.controller';
import { DatasetsService } from '@app/ml/datasets/datasets.service';
import { ML_MODULE_DEFAULTS, ML_OPTIONS } from '@app/ml/ml-module-options';
import { startControllerApp } from '@test/support/controller-app';

const ACME = { 'X-API-Key': 'dev-acme-key' };
const LIMIT = 1000;
const CSV = Buffer.from('a,b\n1,2\n3,4\n');
const TABLE = {
  schema_name: 'uploads',
  name: 'iris',
  qualified_name: 'uploads.iris',
  uploaded: true,
  row_count: 2,
  columns: [{ name: 'a', type: 'BIGINT', kind: 'numeric' as const, distinct_count: 2, null_count: 0 }],
  delimiter: ',',
  preview: [{ a: 1 }, { a: 2 }],
  coerced: [],
  kept_as_text: [],
};

describe('DatasetsController through the real pipeline', () => {
  let app: INestApplication<App>;
  let uploads: string;
  const datasets = {
    upload: jest.fn<DatasetsService['upload']>(),
    list: jest.fn<DatasetsService['list']>(),
    get: jest.fn<DatasetsService['get']>(),
    delete: jest.fn<DatasetsService['delete']>(),
  };
  /** What the service saw of the spooled file while the request was being handled. */
  let seen: { path: string; content: string; originalname: string; size: number } | undefined;

  beforeAll(async () => {
    uploads = await mkdtemp(join(tmpdir(), 'datasets-controller-spec-'));
    app = await startControllerApp(
      DatasetsController,
      { provide: DatasetsService, useValue: datasets },
      new ApiKeyTenantResolver(new Map([['dev-acme-key', 'acme-corp']])),
      [{ provide: ML_OPTIONS, useValue: { ...ML_MODULE_DEFAULTS, maxDatasetSizeGb: LIMIT / 1024 ** 3, uploadDirectory: uploads } }, DatasetUploadInterceptor],
    );
  });

  afterAll(async () => {
    await app.close();
    await rm(uploads, { recursive: true, force: true });
  });

  beforeEach(() => {
    jest.resetAllMocks();
    seen = undefined;
    datasets.upload.mockImplementation(async (_form, file?: SpooledUpload) => {
      seen = file && { path: file.path, content: await readFile(file.path, 'utf8'), originalname: file.originalname, size: file.size };
      return TABLE;
    });
  });

  async function leftovers(): Promise<string[]> {
    return readdir(uploads);
  }

  function upload(content: Buffer = CSV, fields: Record<string, string> = { table: 'iris' }): request.Test {
    let call = request(app.getHttpServer()).post('/api/v1/ml/datasets').set(ACME);
    for (const [name, value] of Object.entries(fields)) {
      call = call.field(name, value);
    }
    return call.attach('file', content, 'iris.csv');
  }

  it('spools the file to disk, hands it to the service with the form, answers 201 and removes the file', async () => {
    const response = await upload(CSV, { table: 'iris', if_exists: 'replace' }).expect(201);

    expect(response.body).toEqual(TABLE);
    const [form, , caller] = datasets.upload.mock.calls[0];
    expect({ ...form }).toEqual({ table: 'iris', if_exists: 'replace' });
    expect(caller).toMatchObject({ tenantId: 'acme-corp' });
    expect(seen).toMatchObject({ content: CSV.toString(), originalname: 'iris.csv', size: CSV.length });
    expect(seen!.path.startsWith(uploads)).toBe(true);
    expect(existsSync(seen!.path)).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('passes every reading option through as given, JSON fields as text for the ML Service to check', async () => {
    const options = {
      table: 'iris',
      delimiter: ';',
      header: 'true',
      decimal_separator: ',',
      thousands_separator: '.',
      null_markers: '["NA", "\\\\N", ""]',
      date_format: '%d/%m/%Y',
      timestamp_format: '%d/%m/%Y %H:%M',
      column_types: '{"zip code": "VARCHAR"}',
      encoding: 'latin-1',
    };
    await upload(CSV, options).expect(201);

    const [form] = datasets.upload.mock.calls[0];
    expect({ ...form }).toEqual(options);
  });

  it('refuses a file over ML_MAX_DATASET_SIZE_GB with 413 naming file, and keeps nothing', async () => {
    const response = await upload(Buffer.alloc(LIMIT + 1, 'a')).expect(413);

    expect(response.body.errors).toEqual([{ field: 'file', message: expect.stringMatching(/^the file is larger than the limit of .* GB \(ML_MAX_DATASET_SIZE_GB\)$/) }]);
    expect(datasets.upload).not.toHaveBeenCalled();
    expect(await leftovers()).toEqual([]);
  });

  it('refuses a body whose declared length is over the limit before reading it', async () => {
    const response = await request(app.getHttpServer())
      .post('/api/v1/ml/datasets')
      .set(ACME)
      .set('Content-Type', 'multipart/form-data; boundary=x')
      .set('Content-Length', String(LIMIT + 70_000))
      .send('--x--')
      .ok(() => true);

    expect(response.status).toBe(413);
    expect(datasets.upload).not.toHaveBeenCalled();
  });

  it.each([
    [{}, 'table'],
    [{ table: 'Iris' }, 'table'],
    [{ table: 'ml_features.customer_churn' }, 'table'],
    [{ table: 'iris', if_exists: 'append' }, 'if_exists'],
    [{ table: 'iris', delimiter: ';;' }, 'delimiter'],
    [{ table: 'iris', header: 'yes' }, 'header'],
    [{ table: 'iris', decimal_separator: ';' }, 'decimal_separator'],
    [{ table: 'iris', null_markers: '[NA' }, 'null_markers'],
    [{ table: 'iris', column_types: '{zip: VARCHAR}' }, 'column_types'],
    [{ table: 'iris', encoding: 'cp1252' }, 'encoding'],
    [{ table: 'iris', owner: 'me' }, 'owner'],
  ])('refuses the form %j with 400 naming %s, and removes the spooled file', async (fields, field) => {
    const response = await upload(CSV, fields as Record<string, string>).expect(400);

    expect((response.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual([field]);
    expect(datasets.upload).not.toHaveBeenCalled();
    expect(await leftovers()).toEqual([]);
  });

  const WHOLE = '--b0\r\nContent-Disposition: form-data; name="table"\r\n\r\niris\r\n--b0\r\nContent-Disposition: form-data; name="file"; filename="iris.csv"\r\n\r\na,b\n1,2\r\n--b0--\r\n';
  it.each([
    ['cut off before its closing boundary', WHOLE.slice(0, -12), 'multipart/form-data; boundary=b0', 'cut off'],
    ['with a control character in a part header', WHOLE.replace('Content-Disposition: form-data; name="table"', 'Content-Dis\u0001position: form-data; name="table"'), 'multipart/form-data; boundary=b0', 'part header'],
    ['without a boundary parameter', WHOLE, 'multipart/form-data', 'boundary'],
  ])('refuses a multipart body %s with 400 naming file, and keeps nothing', async (_case, body, contentType, reason) => {
    const response = await request(app.getHttpServer())
      .post('/api/v1/ml/datasets')
      .set(ACME)
      .set('Content-Type', contentType)
      .send(Buffer.from(body, 'latin1'))
      .ok(() => true);

    expect(response.status).toBe(400);
    const errors = (response.body as { errors: { field: string; message: string }[] }).errors;
    expect(errors.map((error) => error.field)).toEqual(['file']);
    expect(errors[0].message).toContain(reason);
    expect(datasets.upload).not.toHaveBeenCalled();
    expect(await leftovers()).toEqual([]);
  });

  it('removes the spooled file when the ML Service refuses the upload', async () => {
    datasets.upload.mockImplementation((_form, file?: SpooledUpload) => {
      seen = file && { path: file.path, content: '', originalname: file.originalname, size: file.size };
      return Promise.reject(new FieldErrorsException(HttpStatus.UNPROCESSABLE_ENTITY, [{ field: 'file', message: 'iris.csv could not be read as csv' }]));
    });

    const response = await upload().expect(422);

    expect(response.body.errors).toEqual([{ field: 'file', message: 'iris.csv could not be read as csv' }]);
    expect(existsSync(seen!.path)).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('refuses a file sent under another field name', async () => {
    const response = await request(app.getHttpServer()).post('/api/v1/ml/datasets').set(ACME).field('table', 'iris').attach('data', CSV, 'iris.csv').expect(400);

    expect(response.body.errors).toEqual([{ field: 'data', message: 'send exactly one file, in the `file` field' }]);
    expect(await leftovers()).toEqual([]);
  });

  it('needs an API key before reading the body', async () => {
    await request(app.getHttpServer()).post('/api/v1/ml/datasets').field('table', 'iris').attach('file', CSV, 'iris.csv').expect(401);
    expect(await leftovers()).toEqual([]);
  });

  it('lists, describes and deletes tables for the caller', async () => {
    datasets.list.mockResolvedValue({ tables: [{ schema_name: 'uploads', name: 'iris', qualified_name: 'uploads.iris', columns: [] }] });
    datasets.get.mockResolvedValue(TABLE);
    datasets.delete.mockResolvedValue({ deleted: 'uploads.iris' });

    await request(app.getHttpServer()).get('/api/v1/ml/datasets').set(ACME).expect(200);
    expect((await request(app.getHttpServer()).get('/api/v1/ml/datasets/uploads.iris').set(ACME).expect(200)).body).toEqual(TABLE);
    expect((await request(app.getHttpServer()).delete('/api/v1/ml/datasets/iris').set(ACME).expect(200)).body).toEqual({ deleted: 'uploads.iris' });
    expect(datasets.get.mock.calls[0][0]).toBe('uploads.iris');
    expect(datasets.delete.mock.calls[0][0]).toBe('iris');
  });

  it.each(['a.b.c', 'drop table', '1x.y'])('refuses the table path %s with 400', async (table) => {
    const response = await request(app.getHttpServer()).get(`/api/v1/ml/datasets/${encodeURIComponent(table)}`).set(ACME).expect(400);
    expect(response.body.errors[0].field).toBe('table');
    expect(datasets.get).not.toHaveBeenCalled();
  });
});
