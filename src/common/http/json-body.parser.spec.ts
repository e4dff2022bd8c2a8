import { describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { jsonBodyParser, parseJson } from '@app/common/http/json-body.parser';

describe('parseJson', () => {
  it('reads standard JSON as JSON.parse does, and an empty body as {}', () => {
    expect(parseJson('{"a": [1, 2.5, null, true], "b": {"c": "d"}}')).toEqual({ a: [1, 2.5, null, true], b: { c: 'd' } });
    expect(parseJson('  ')).toEqual({});
    expect(parseJson('{"big": -1e400}')).toEqual({ big: -Infinity });
  });

  it("reads Python's NaN, Infinity and -Infinity literals as numbers, anywhere a value may stand", () => {
    expect(parseJson('{"instances": [{"x": NaN, "y": Infinity, "z": -Infinity}], "n": [NaN]}')).toEqual({
      instances: [{ x: Number.NaN, y: Infinity, z: -Infinity }],
      n: [Number.NaN],
    });
  });

  it('leaves the same words inside strings, keys and escaped quotes as text', () => {
    expect(parseJson('{"NaN": "Infinity", "q": "say \\"NaN\\"", "v": NaN}')).toEqual({ NaN: 'Infinity', q: 'say "NaN"', v: Number.NaN });
  });

  it.each(['{a: 1}', "{'a': 1}", '{"a": 1,}', '{"a": NaNa}', '{"a": nan}', '{"a": 1} // c', '{"a": NaN'])('still refuses %s with the strict parser’s error', (body) => {
    expect(() => parseJson(body)).toThrow(SyntaxError);
  });
});

describe('jsonBodyParser', () => {
  const app = express();
  app.use(jsonBodyParser(64));
  app.post('/echo', (req, res) => {
    res.json({ body: req.body as unknown, isNaN: Number.isNaN((req.body as { x?: unknown } | undefined)?.x) });
  });
  app.use((error: { status?: number; type?: string; message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(error.status ?? 500).json({ type: error.type, message: error.message });
  });

  it('parses a JSON body with a NaN literal', async () => {
    const response = await request(app).post('/echo').set('Content-Type', 'application/json').send('{"x": NaN}').expect(200);
    expect(response.body).toEqual({ body: { x: null }, isNaN: true });
  });

  it("answers body-parser's 400 for malformed JSON and 413 past the limit", async () => {
    const malformed = await request(app).post('/echo').set('Content-Type', 'application/json').send('{x: 1}').expect(400);
    expect(malformed.body.type).toBe('entity.parse.failed');
    const large = await request(app).post('/echo').set('Content-Type', 'application/json').send(JSON.stringify({ x: 'a'.repeat(100) })).expect(413);
    expect(large.body.type).toBe('entity.too.large');
  });

  it('reads a body without a Content-Type as JSON, as stock KServe v2 clients send it', async () => {
    const response = await request(app).post('/echo').send(Buffer.from('{"inputs": [1]}')).expect(200);
    expect(response.body).toEqual({ body: { inputs: [1] }, isNaN: false });
    await request(app).post('/echo').send(Buffer.from('inputs=1')).expect(400);
  });

  it('leaves other content types to their own parsers', async () => {
    const response = await request(app).post('/echo').set('Content-Type', 'text/plain').send('NaN').expect(200);
    expect(response.body.body).toBeUndefined();
  });
});
