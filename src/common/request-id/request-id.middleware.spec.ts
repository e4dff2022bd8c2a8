import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { RequestIdMiddleware } from '@app/common/request-id/request-id.middleware';
import { setTenantOf } from '@app/common/tenant/tenant-context';

/** A request and response as Express hands them to middleware, enough for this one. */
function exchange(headers: Record<string, string>): { request: Request; response: Response & EventEmitter } {
  const request = { method: 'GET', originalUrl: '/api/v1/ml/jobs/progress?api_key=secret-key', headers: { ...headers } } as unknown as Request;
  const response = Object.assign(new EventEmitter(), { statusCode: 200, setHeader: jest.fn() }) as unknown as Response & EventEmitter;
  return { request, response };
}

/** What one request writes to stdout with LOG_FORMAT=json (main.ts's logger). */
function jsonLinesOf(handle: (middleware: RequestIdMiddleware) => void): string[] {
  Logger.overrideLogger(new ConsoleLogger({ json: true, flattenParams: true }));
  const written: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    handle(new RequestIdMiddleware());
  } finally {
    write.mockRestore();
  }
  return written.join('').split('\n').filter(Boolean);
}

describe('RequestIdMiddleware request log', () => {
  afterEach(() => {
    Logger.overrideLogger(new ConsoleLogger());
  });

  it('writes one JSON object per request with the request id, tenant, path, status and duration', () => {
    const lines = jsonLinesOf((middleware) => {
      const { request, response } = exchange({ 'x-request-id': 'req-42' });
      middleware.use(request, response, () => setTenantOf(request, 'acme-corp'));
      response.emit('finish');
    });

    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(record).toMatchObject({
      level: 'log',
      context: 'HTTP',
      message: 'request handled',
      method: 'GET',
      path: '/api/v1/ml/jobs/progress',
      status: 200,
      request_id: 'req-42',
      tenant_id: 'acme-corp',
    });
    expect(typeof record.timestamp).toBe('number');
    expect(typeof record.duration_ms).toBe('number');
    // The query string (an api_key on SSE and WebSocket URLs) never reaches the log.
    expect(lines[0]).not.toContain('secret-key');
  });

  it('names no tenant for a request the guard never placed, and makes an id when given none', () => {
    const lines = jsonLinesOf((middleware) => {
      const { request, response } = exchange({ 'x-request-id': 'bad id with spaces' });
      middleware.use(request, response, () => undefined);
      response.emit('finish');
    });

    const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(record.tenant_id).toBe('-');
    expect(record.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
