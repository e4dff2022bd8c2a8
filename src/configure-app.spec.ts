import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, HttpCode, type INestApplication, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { App } from 'supertest/types';
import { CommonModule } from '@app/common/common.module';
import { MAX_JSON_BODY_BYTES } from '@app/common/http/json-body.parser';
import { configureApp } from '@app/configure-app';
import { createHttpAdapter } from '@app/http-adapter';

@Controller('echo')
class EchoController {
  @Post()
  @HttpCode(200)
  echo(@Body() body: unknown): { body: unknown; isNaN: boolean } {
    return { body, isNaN: Number.isNaN((body as { x?: unknown } | undefined)?.x) };
  }
}

/** The standalone service runs on Fastify (createHttpAdapter), a host may run on Express: both read bodies alike. */
describe.each(['express', 'fastify'] as const)('configureApp on %s', (adapter) => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [CommonModule], controllers: [EchoController] }).compile();
    app = adapter === 'fastify' ? moduleRef.createNestApplication(createHttpAdapter(), { logger: false, bodyParser: false }) : moduleRef.createNestApplication({ logger: false, bodyParser: false });
    configureApp(app);
    await app.init();
    if (adapter === 'fastify') {
      await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
    }
  });

  afterAll(async () => {
    await app.close();
  });

  it("reads JSON with Python's NaN literal, and a body without a Content-Type as JSON", async () => {
    const typed = await request(app.getHttpServer()).post('/echo').set('Content-Type', 'application/json').send('{"x": NaN}').expect(200);
    expect(typed.body).toEqual({ body: { x: null }, isNaN: true });
    const untyped = await request(app.getHttpServer()).post('/echo').send(Buffer.from('{"inputs": [1]}')).expect(200);
    expect(untyped.body).toEqual({ body: { inputs: [1] }, isNaN: false });
  });

  it('leaves a body of another type unread', async () => {
    const response = await request(app.getHttpServer()).post('/echo').set('Content-Type', 'text/plain').send('NaN').expect(200);
    expect(response.body.body).toBeUndefined();
  });

  it('answers malformed JSON with 400 and a body past the limit with 413, never 500', async () => {
    const malformed = await request(app.getHttpServer()).post('/echo').set('Content-Type', 'application/json').send('{x: 1}').expect(400);
    expect(malformed.body.message).toEqual(expect.stringContaining('JSON'));
    const large = await request(app.getHttpServer())
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ x: 'a'.repeat(MAX_JSON_BODY_BYTES) }))
      .expect(413);
    expect(large.body.request_id).toEqual(expect.any(String));
  });

  it('matches a route with a trailing slash and in another letter case, as Express does', async () => {
    await request(app.getHttpServer()).post('/echo/').send({ a: 1 }).expect(200);
    await request(app.getHttpServer()).post('/ECHO').send({ a: 1 }).expect(200);
  });
});

describe("configureApp's JSON parser on fastify", () => {
  it('names the body of malformed JSON, with the request id', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [CommonModule], controllers: [EchoController] }).compile();
    const app = moduleRef.createNestApplication<INestApplication<App>>(createHttpAdapter(), { logger: false, bodyParser: false });
    configureApp(app);
    await app.init();
    await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
    try {
      const response = await request(app.getHttpServer()).post('/echo').set('Content-Type', 'application/json').set('X-Request-ID', 'req-7').send('{"a":').expect(400);
      expect(response.body).toEqual({
        message: 'body: not valid JSON: Unexpected end of JSON input',
        errors: [{ field: 'body', message: 'not valid JSON: Unexpected end of JSON input' }],
        request_id: 'req-7',
      });
    } finally {
      await app.close();
    }
  });
});
